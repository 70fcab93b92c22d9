"""``@toopher_required(action=...)`` and ``ToopherRequiredMixin``: a fresh approval of
that action (automation off) before the view runs, even in a verified session."""

from __future__ import annotations

import time

import pytest
from django.test import Client

from django_toopher.decorators import toopher_required
from django_toopher.session_keys import ACTIONS, PENDING
from django_toopher.testing import force_login_verified

from .helpers import edit_state, logged_in_pk, state, template_name

pytestmark = pytest.mark.django_db


def ask(client: Client, url: str) -> None:
    response = client.get(url)
    assert response.status_code == 302 and response["Location"] == "/toopher/pending/"
    response = client.get("/toopher/pending/")
    if template_name(response) == "django_toopher/name_terminal.html":
        client.post("/toopher/pending/terminal/", {"name": "Laptop"})
        client.get("/toopher/pending/")


@pytest.fixture
def verified(client, toopher_paired_user):
    force_login_verified(client, toopher_paired_user)
    assert str(logged_in_pk(client)) == str(toopher_paired_user.pk)
    return client


def test_fresh_approval_runs_the_view(
    verified, toopher_paired_user, toopher_sandbox, toopher_phone, api_calls
):
    ask(verified, "/change-email/")
    assert str(logged_in_pk(verified)) == str(toopher_paired_user.pk)  # still logged in
    item = toopher_phone.wait_for_push(timeout=5)
    text = str(item)
    assert "Change email" in text
    assert api_calls.count("authentication_requests/initiate") == 1
    toopher_sandbox.respond_authentication(item["id"], grant=True)
    data = verified.get("/toopher/pending/status/").json()
    assert data["status"] == "granted" and data["redirect"] == "/change-email/"
    assert verified.get("/change-email/").content == b"change email form"
    assert verified.post("/change-email/").content == b"email changed"
    assert api_calls.count("authentication_requests/initiate") == 1  # within max_age


def test_action_push_disallows_automation(
    verified, toopher_sandbox, toopher_phone, api_calls, monkeypatch
):
    import requests

    sent = []
    original = requests.Session.request

    def spy(self, method, url, *args, **kwargs):
        if url.endswith("authentication_requests/initiate"):
            sent.append(dict(kwargs.get("data") or {}))
        return original(self, method, url, *args, **kwargs)

    monkeypatch.setattr(requests.Session, "request", spy)
    ask(verified, "/change-email/")
    assert sent and sent[-1]["automation_allowed"] == "false"
    assert sent[-1]["action_name"] == "Change email"


def test_automated_grant_of_an_action_is_refused(
    verified, toopher_sandbox, toopher_phone, monkeypatch
):
    """The sandbox (rightly) never automates when automation_allowed is false; a
    service that did anyway must not open the view."""
    from types import SimpleNamespace

    import toopher

    ask(verified, "/change-email/")
    request_id = state(verified)["request_id"]
    fake = SimpleNamespace(
        id=request_id, pending=False, granted=True, automated=True, reason="",
        reason_code=0, user_name="alice",
    )
    monkeypatch.setattr(toopher.ToopherApi, "get_authentication_status", lambda self, rid: fake)
    data = verified.get("/toopher/pending/status/").json()
    assert data["status"] == "denied"
    assert verified.get("/change-email/")["Location"] == "/toopher/pending/"


def test_sandbox_does_not_automate_actions(verified, toopher_sandbox, toopher_phone):
    ask(verified, "/change-email/")
    item = toopher_phone.wait_for_push(timeout=5)
    toopher_sandbox.respond_authentication(item["id"], grant=True, automate=True)
    data = verified.get("/toopher/pending/status/").json()
    assert data["status"] == "granted"  # answered by the user, not by automation


def test_denied_action_keeps_the_user_logged_in_but_out_of_the_view(
    verified, toopher_paired_user, toopher_sandbox, toopher_phone
):
    ask(verified, "/change-email/")
    item = toopher_phone.wait_for_push(timeout=5)
    toopher_sandbox.respond_authentication(item["id"], grant=False)
    data = verified.get("/toopher/pending/status/").json()
    assert data["status"] == "denied" and data["redirect"] == "/"
    assert str(logged_in_pk(verified)) == str(toopher_paired_user.pk)
    assert PENDING not in verified.session
    response = verified.get("/change-email/")
    assert response.status_code == 302 and response["Location"] == "/toopher/pending/"


def test_approval_is_for_that_action_only(verified, toopher_sandbox, toopher_phone):
    ask(verified, "/change-email/")
    item = toopher_phone.wait_for_push(timeout=5)
    toopher_sandbox.respond_authentication(item["id"], grant=True)
    verified.get("/toopher/pending/status/")
    assert verified.get("/change-email/").status_code == 200
    assert verified.get("/transfer/")["Location"] == "/toopher/pending/"


def test_approval_expires_after_max_age(verified, toopher_sandbox, toopher_phone, toopher_settings):
    ask(verified, "/change-email/")
    item = toopher_phone.wait_for_push(timeout=5)
    toopher_sandbox.respond_authentication(item["id"], grant=True)
    verified.get("/toopher/pending/status/")
    session = verified.session
    session[ACTIONS] = {"Change email": time.time() - 301}
    session.save()
    assert verified.get("/change-email/")["Location"] == "/toopher/pending/"


def test_max_age_zero_is_single_use(verified, toopher_sandbox, toopher_phone):
    ask(verified, "/delete-account/")
    item = toopher_phone.wait_for_push(timeout=5)
    toopher_sandbox.respond_authentication(item["id"], grant=True)
    verified.get("/toopher/pending/status/")
    assert verified.get("/delete-account/").content == b"account deleted"
    assert verified.get("/delete-account/")["Location"] == "/toopher/pending/"


def test_reloading_the_protected_page_sends_one_push(
    verified, toopher_sandbox, toopher_phone, api_calls
):
    ask(verified, "/change-email/")
    for _ in range(3):
        assert verified.get("/change-email/")["Location"] == "/toopher/pending/"
        verified.get("/toopher/pending/")
    assert api_calls.count("authentication_requests/initiate") == 1


def test_mixin(verified, toopher_sandbox, toopher_phone):
    ask(verified, "/transfer/")
    item = toopher_phone.wait_for_push(timeout=5)
    assert "Transfer money" in str(item)
    toopher_sandbox.respond_authentication(item["id"], grant=True)
    assert verified.get("/toopher/pending/status/").json()["redirect"] == "/transfer/"
    assert verified.get("/transfer/").content == b"transfer form"


def test_anonymous_user_is_sent_to_log_in(client, toopher_settings):
    response = client.get("/transfer/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/?next=/transfer/")


def test_unpaired_user_gets_a_clear_403(client, toopher_user, toopher_settings, api_calls):
    force_login_verified(client, toopher_user)
    response = client.get("/transfer/")
    assert response.status_code == 403
    assert "needs an approval" in response.content.decode()
    assert len(api_calls) == 0


def test_if_configured_lets_unpaired_users_through(client, toopher_user, toopher_settings):
    force_login_verified(client, toopher_user)
    assert client.get("/reports/").content == b"reports"


def test_zero_storage_unpaired_user_is_refused(client, zero_conf, toopher_user):
    force_login_verified(client, toopher_user)
    response = client.get("/change-email/")
    assert response["Location"] == "/toopher/pending/"
    response = client.get("/toopher/pending/")
    assert response.status_code == 302 and response["Location"] == "/"
    assert client.get("/change-email/")["Location"] == "/toopher/pending/"


def test_pending_action_is_bound_to_the_user(
    verified, toopher_sandbox, toopher_phone, django_user_model
):
    ask(verified, "/change-email/")
    edit_state(verified, user="999999")
    response = verified.get("/toopher/pending/status/")
    assert response.status_code == 404
    assert PENDING not in verified.session


def test_actions_fail_closed_even_in_open_mode(
    verified, toopher_sandbox, toopher_settings, toopher_requester
):
    toopher_settings["FAIL_MODE"] = "open"
    toopher_sandbox.set_faults(status=503, key=toopher_requester["key"])
    verified.get("/change-email/")
    response = verified.get("/toopher/pending/")
    assert response.status_code == 200
    if template_name(response) == "django_toopher/name_terminal.html":
        verified.post("/toopher/pending/terminal/", {"name": "Laptop"})
        response = verified.get("/toopher/pending/")
    assert state(verified)["step"] == "failed"
    assert verified.get("/change-email/")["Location"] == "/toopher/pending/"


def test_decorator_needs_an_action():
    with pytest.raises(ValueError):
        toopher_required(action="")
