"""Password re-entry through the JSON API ends as on the page (one function): the
session key is cycled, the CSRF token rotated, and an account without a usable
password is told to log in again, with nothing counted or changed."""

from __future__ import annotations

from django.contrib.auth import HASH_SESSION_KEY
from django.contrib.sessions.backends.db import SessionStore

from django_toopher.internal import ratelimit
from django_toopher.testing import PASSWORD


def _session_key(api) -> str:
    return api.session_token if api.kind == "app" else api.http.cookies["sessionid"].value


def test_reentry_cycles_the_session_key_and_rotates_the_csrf_token(api, toopher_user):
    api.post("login", {"username": "alice", "password": PASSWORD})  # not paired: plain
    key = _session_key(api)
    csrf = api.http.cookies["csrftoken"].value if api.kind == "browser" else None
    answer = api.post("account/reauthenticate", {"password": PASSWORD})
    assert answer.status_code == 200
    assert _session_key(api) != key
    assert not SessionStore().exists(key)
    if api.kind == "browser":
        assert answer.cookies["csrftoken"].value not in ("", csrf)
    assert api.get("session").json()["data"]["user"]["username"] == "alice"


def test_an_account_without_a_password_is_told_to_log_in_again(api, toopher_user):
    api.post("login", {"username": "alice", "password": PASSWORD})
    toopher_user.set_unusable_password()
    toopher_user.save()
    session = SessionStore(_session_key(api))
    session[HASH_SESSION_KEY] = toopher_user.get_session_auth_hash()  # still logged in
    session.save()
    before = dict(SessionStore(_session_key(api)).load())
    for password in (PASSWORD, "anything"):
        answer = api.post("account/reauthenticate", {"password": password})
        assert answer.status_code == 403
        assert answer.json()["error"]["code"] == "no_usable_password"
    assert dict(SessionStore(_session_key(api)).load()) == before
    assert ratelimit.count(ratelimit.reauth_key(toopher_user.pk)) == 0
