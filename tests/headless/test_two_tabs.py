"""A browser client polling from two tabs: the poll that lost the race against the
grant (it carries the session key the grant just cycled away) must not delete the new
session cookie, or the browser loses the login it was just given."""

from __future__ import annotations

from django.test import Client

from django_toopher.testing import PASSWORD

from ..django_toopher.helpers import approve, logged_in_pk, start_login


def _second_tab(first: Client) -> Client:
    tab = Client(enforce_csrf_checks=True)
    for name, morsel in first.cookies.items():
        tab.cookies[name] = morsel.value
    return tab


def test_a_poll_that_lost_the_race_keeps_the_new_login(
    browser_api, toopher_paired_user, toopher_sandbox, toopher_phone
):
    api = browser_api
    api.post("login", {"username": "alice", "password": PASSWORD})
    api.post("pending/start")
    api.post("pending/terminal", {"name": "Work laptop"})
    assert api.post("pending/start").json()["data"]["pending"]["step"] == "pushed"
    other_tab = _second_tab(api.http)  # its poll leaves with the pending session's key
    old_key = api.http.cookies["sessionid"].value
    toopher_sandbox.respond_authentication(toopher_phone.wait_for_push(timeout=5)["id"], grant=True)
    granted = api.get("pending/status")
    assert granted.json()["data"]["pending"]["status"] == "granted"
    new_key = api.http.cookies["sessionid"].value
    assert new_key != old_key

    late = other_tab.get(api.url("pending/status"))
    assert late.json()["error"]["code"] == "no_pending_login"
    cookie = late.cookies.get("sessionid")
    assert cookie is None or cookie.value, "the late poll deleted the session cookie"
    # what the browser keeps after both answers: the new login
    for name, morsel in late.cookies.items():
        api.http.cookies[name] = morsel.value
    assert api.get("session").json()["data"]["user"]["username"] == "alice"


def test_the_pending_page_status_keeps_the_same_rule(
    toopher_paired_user, toopher_sandbox, toopher_phone
):
    """The page's status JSON goes through the same poll path."""
    first = Client()
    start_login(first, toopher_paired_user)
    other_tab = _second_tab(first)
    assert approve(first, toopher_sandbox, toopher_phone)["status"] == "granted"
    late = other_tab.get("/toopher/pending/status/")
    assert late.status_code == 404
    cookie = late.cookies.get("sessionid")
    assert cookie is None or cookie.value, "the late poll deleted the session cookie"
    assert str(logged_in_pk(first)) == str(toopher_paired_user.pk)
