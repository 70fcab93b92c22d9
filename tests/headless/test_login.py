"""A login through the JSON API, by both client kinds, against the live sandbox."""

from __future__ import annotations

from django.contrib.auth import SESSION_KEY
from django.contrib.sessions.backends.db import SessionStore

from django_toopher.models import AuditEvent
from django_toopher.testing import PASSWORD, pair


def _password(api, user):
    return api.post("login", {"username": user.get_username(), "password": PASSWORD})


def test_a_login_waits_for_the_phone_then_is_granted(
    api, toopher_paired_user, toopher_sandbox, toopher_phone
):
    response = _password(api, toopher_paired_user)
    assert response.status_code == 200
    data = response.json()["data"]
    assert data["user"] is None and data["pending"]["step"] == "start"
    # stored mode, a new browser: name it, then the push goes out
    response = api.post("pending/start")
    assert response.json()["data"]["pending"]["step"] == "name_terminal"
    response = api.post("pending/terminal", {"name": "Work laptop"})
    response = api.post("pending/start")
    assert response.json()["data"]["pending"]["step"] == "pushed"
    # a pending session reaches no user endpoint
    assert api.get("account").json()["error"]["code"] == "not_authenticated"
    item = toopher_phone.wait_for_push(timeout=5)
    toopher_sandbox.respond_authentication(item["id"], grant=True)
    response = api.get("pending/status")
    body = response.json()
    assert body["data"]["pending"]["status"] == "granted"
    assert body["data"]["user"]["username"] == toopher_paired_user.get_username()
    assert api.get("session").json()["data"]["user"]["username"] == "alice"
    assert AuditEvent.objects.filter(kind="granted", user=toopher_paired_user).count() == 1
    assert api.get("account").status_code == 200


def test_the_app_token_is_rotated_on_grant(
    app_api, toopher_paired_user, toopher_sandbox, toopher_phone
):
    _password(app_api, toopher_paired_user)
    pending_token = app_api.session_token
    assert pending_token and SESSION_KEY not in SessionStore(pending_token).load()
    app_api.post("pending/start")
    app_api.post("pending/terminal", {"name": "Phone app"})
    app_api.post("pending/start")
    toopher_sandbox.respond_authentication(toopher_phone.wait_for_push(timeout=5)["id"], grant=True)
    assert app_api.get("pending/status").json()["data"]["pending"]["status"] == "granted"
    assert app_api.session_token and app_api.session_token != pending_token
    assert not SessionStore().exists(pending_token)
    assert str(SessionStore(app_api.session_token).load()[SESSION_KEY]) == str(
        toopher_paired_user.pk
    )
    # the old (pending) token is worth nothing now
    app_api.session_token = pending_token
    assert app_api.get("session").json()["data"] == {"user": None, "pending": None}


def test_a_denial_ends_the_login(api, toopher_paired_user, toopher_sandbox, toopher_phone):
    _password(api, toopher_paired_user)
    api.post("pending/start")
    api.post("pending/terminal", {"name": "Work laptop"})
    api.post("pending/start")
    toopher_sandbox.respond_authentication(
        toopher_phone.wait_for_push(timeout=5)["id"], grant=False, reason="not me"
    )
    pending = api.get("pending/status").json()["data"]["pending"]
    assert pending["status"] == "denied" and pending["final"] is True
    assert api.get("pending/status").json()["error"]["code"] == "no_pending_login"
    assert api.get("session").json()["data"]["user"] is None


def test_a_wrong_code_is_an_error_and_the_login_goes_on(
    api, toopher_paired_user, toopher_sandbox, toopher_phone
):
    _password(api, toopher_paired_user)
    api.post("pending/start")
    api.post("pending/terminal", {"name": "Work laptop"})
    api.post("pending/start")
    right = toopher_sandbox.otp(toopher_phone.pairing_id)
    wrong = "000000" if right != "000000" else "111111"
    response = api.post("pending/otp", {"otp": wrong})
    assert response.status_code == 400
    body = response.json()
    assert body["error"]["code"] == "invalid_otp"
    assert body["data"]["pending"]["step"] == "pushed"
    response = api.post("pending/otp", {"otp": toopher_sandbox.otp(toopher_phone.pairing_id)})
    assert response.json()["data"]["pending"]["status"] == "granted"


def test_bad_input_gets_a_clear_error_and_changes_nothing(api, toopher_paired_user):
    _password(api, toopher_paired_user)
    before = api.get("session").json()["data"]
    for raw in (b"{", b"[]", b'"x"', b"\xff\xfe"):
        response = api.post("pending/otp", raw=raw)
        assert response.status_code == 400
        assert response.json()["error"]["code"] == "invalid_request"
    response = api.post("pending/otp", {"otp": "12ab"})
    assert response.json()["error"]["code"] == "invalid_input"
    assert "otp" in response.json()["error"]["fields"]
    response = api.post("pending/terminal", {"name": "Work\u202elaptop"})
    assert response.json()["error"]["code"] == "invalid_input"
    assert api.get("session").json()["data"] == before


def test_wrong_passwords_and_methods(api, toopher_user):
    response = api.post("login", {"username": "alice", "password": "nope"})
    assert response.json()["error"]["code"] == "invalid_credentials"
    response = api.get("login", documented=False)
    assert response.status_code == 405
    assert response.json()["error"]["code"] == "method_not_allowed"


def test_cancel(api, toopher_paired_user):
    _password(api, toopher_paired_user)
    pending = api.post("pending/cancel").json()["data"]["pending"]
    assert pending["status"] == "cancelled"
    assert api.get("session").json()["data"]["pending"] is None


def test_zero_storage_login_names_the_device(
    api, zero_conf, toopher_user, toopher_sandbox, toopher_phone
):

    pair(toopher_user, toopher_phone)
    _password(api, toopher_user)
    assert api.post("pending/start").json()["data"]["pending"]["step"] == "name_terminal"
    api.post("pending/terminal", {"name": "My phone"})
    assert api.post("pending/start").json()["data"]["pending"]["step"] == "pushed"
    assert "My phone" in str(toopher_phone.wait_for_push(timeout=5))
    toopher_sandbox.respond_authentication(toopher_phone.wait_for_push(timeout=5)["id"], grant=True)
    assert api.get("pending/status").json()["data"]["pending"]["status"] == "granted"
    # the same device (terminal cookie or token) is known next time
    api.post("logout")
    _password(api, toopher_user)
    assert api.post("pending/start").json()["data"]["pending"]["step"] == "pushed"


def test_an_outage_offers_a_retry(
    api, toopher_paired_user, toopher_sandbox, toopher_phone, toopher_settings
):
    _password(api, toopher_paired_user)
    api.post("pending/start")
    api.post("pending/terminal", {"name": "Work laptop"})
    toopher_sandbox.set_faults(status=503, key=toopher_settings["CONSUMER_KEY"])
    assert api.post("pending/start").json()["data"]["pending"]["step"] == "failed"
    assert api.get("session").json()["data"]["user"] is None  # fails closed
    toopher_sandbox.clear_faults()
    assert api.post("pending/retry").json()["data"]["pending"]["step"] == "start"
    assert api.post("pending/start").json()["data"]["pending"]["step"] == "pushed"


def test_a_qr_pairing_at_login(api, toopher_user, toopher_sandbox, toopher_settings):
    toopher_settings["REQUIRE_ENROLLMENT"] = True
    _password(api, toopher_user)
    assert api.get("pending/pair/qr").json()["error"]["code"] == "not_found"
    api.post("pending/start")
    pending = api.post("pending/pair", {"use_qr": True}).json()["data"]["pending"]
    assert pending["step"] == "pairing" and pending["qr"] is True
    assert api.get("pending/pair/qr").content.startswith(b"\x89PNG")
