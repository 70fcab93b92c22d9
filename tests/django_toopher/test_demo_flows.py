"""What a new user met in the demo (issue 12), fixed in the flows: a wrong one-time
password can be retried without a new push, the push limit says when to come back,
and forgetting a browser makes its next login need the phone."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib import admin
from django.contrib.auth import get_user_model
from django.contrib.messages import get_messages
from django.test import Client
from django.urls import reverse

from django_toopher.internal.cookies import read_terminal_id
from django_toopher.internal.flows import pairing
from django_toopher.models import AuditEvent, ForgottenTerminal, Terminal
from django_toopher.session_keys import PENDING
from django_toopher.testing import pair

from .conftest import password_login
from .helpers import approve, logged_in_pk, login_fully, start_login, state


def _texts(response: Any) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


def _wrong(right: str) -> str:
    return "000000" if right != "000000" else "111111"


# -- one-time passwords ------------------------------------------------------------


def test_a_wrong_code_can_be_retried_without_a_new_push(
    client, toopher_paired_user, toopher_sandbox, toopher_phone, api_calls
):
    start_login(client, toopher_paired_user)
    push = toopher_phone.wait_for_push(timeout=5)
    api_calls.reset()
    right = toopher_sandbox.otp(toopher_phone.pairing_id)
    response = client.post("/toopher/pending/otp/", {"otp": _wrong(right)}, follow=True)
    texts = _texts(response)
    assert texts == ["That code is not right. You can try 4 more times."]
    assert not any("denied" in text for text in texts)
    # The push is still waiting on the phone, and the login still waits for it.
    assert toopher_phone.wait_for_push(timeout=5)["id"] == push["id"]
    poll = client.get("/toopher/pending/status/").json()
    assert poll["status"] == "pushed" and poll["final"] is False
    assert state(client)["request_id"] == push["id"]
    # No new push was sent: each code is checked by a request decided at once.
    assert api_calls.count("otp_auth") == 0
    response = client.post(
        "/toopher/pending/otp/", {"otp": toopher_sandbox.otp(toopher_phone.pairing_id)}
    )
    assert response.status_code == 302 and response["Location"] == "/"
    assert str(logged_in_pk(client)) == str(toopher_paired_user.pk)
    assert [
        e.kind for e in AuditEvent.objects.filter(user=toopher_paired_user, kind="otp_failed")
    ] == ["otp_failed"]


def test_the_push_cannot_be_used_after_a_code_granted(
    client, toopher_paired_user, toopher_sandbox, toopher_phone
):
    start_login(client, toopher_paired_user)
    push = toopher_phone.wait_for_push(timeout=5)
    client.post(
        "/toopher/pending/otp/", {"otp": toopher_sandbox.otp(toopher_phone.pairing_id)}
    )
    assert str(logged_in_pk(client)) == str(toopher_paired_user.pk)
    from django_toopher.internal.cancel import wait_for_cancels
    from toopher_sandbox.testing import SandboxError

    wait_for_cancels()
    with pytest.raises(SandboxError, match="cancelled"):  # the phone dropped it
        toopher_sandbox.respond_authentication(push["id"], grant=True)
    other = Client()
    assert other.get("/toopher/pending/status/").status_code == 404


def test_the_last_wrong_code_ends_the_login_with_one_message(
    client, toopher_paired_user, toopher_sandbox, toopher_phone, toopher_settings
):
    toopher_settings["OTP_RATE_LIMIT"] = 2
    start_login(client, toopher_paired_user)
    wrong = _wrong(toopher_sandbox.otp(toopher_phone.pairing_id))
    client.post("/toopher/pending/otp/", {"otp": wrong}, follow=True)
    response = client.post("/toopher/pending/otp/", {"otp": wrong}, follow=True)
    assert _texts(response) == ["Too many wrong codes. Log in again to start over."]
    assert PENDING not in client.session


# -- the push limit ------------------------------------------------------------------------


def test_the_push_limit_says_when_to_come_back(
    client, toopher_paired_user, toopher_sandbox, toopher_phone, toopher_settings
):
    toopher_settings.update(PUSH_RATE_LIMIT=1, PUSH_RATE_WINDOW=600)
    start_login(client, toopher_paired_user)
    client.post("/toopher/pending/cancel/", follow=True)
    password_login(client, toopher_paired_user)
    response = client.get("/toopher/pending/", follow=True)
    assert _texts(response) == [
        "Too many approval requests were sent to your phone. You can log in again in "
        "10 minutes."
    ]


@pytest.mark.parametrize(("seconds", "text"), [(600, "10 minutes"), (61, "61 seconds"),
                                               (1, "1 second"), (91, "2 minutes")])
def test_wait_texts(seconds, text):
    from django_toopher.internal.flows.base import wait_text

    assert wait_text(seconds) == text


# -- forgetting a browser ends its trust ---------------------------------------------------


def _automated_login(client, user, sandbox, phone):
    """Log in once and let the phone automate this browser; logs out again."""
    start_login(client, user)
    item = phone.wait_for_push(timeout=5)
    sandbox.respond_authentication(item["id"], grant=True, automate=True)
    assert client.get("/toopher/pending/status/").json()["status"] == "granted"
    client.post("/accounts/logout/")
    # The rule works: the next login from this browser is answered by the phone itself.
    start_login(client, user, terminal_name=None)
    assert client.get("/toopher/pending/status/").json()["status"] == "granted"


def _next_login_needs_the_phone(client, user, sandbox, phone, old_id):
    client.post("/accounts/logout/")
    response = start_login(client, user)
    assert state(client)["step"] == "pushed", response
    assert read_terminal_id(client.get("/").wsgi_request) != old_id
    data = client.get("/toopher/pending/status/").json()
    assert data["status"] == "pushed" and logged_in_pk(client) is None


def _terminal_id(client) -> str:
    return Terminal.objects.get().requester_terminal_id


def test_forgetting_a_browser_makes_its_next_login_need_the_phone(
    client, toopher_paired_user, toopher_sandbox, toopher_phone
):
    _automated_login(client, toopher_paired_user, toopher_sandbox, toopher_phone)
    old = _terminal_id(client)
    terminal = Terminal.objects.get()
    response = client.post(reverse("django_toopher:terminal_forget", args=[terminal.pk]))
    assert response.status_code == 302
    assert ForgottenTerminal.objects.filter(user=toopher_paired_user).count() == 1
    _next_login_needs_the_phone(client, toopher_paired_user, toopher_sandbox, toopher_phone, old)


def test_an_admin_forgetting_terminals_ends_their_trust(
    client, toopher_paired_user, toopher_sandbox, toopher_phone, rf
):
    from django_toopher.internal.flows import admin as admin_flow

    _automated_login(client, toopher_paired_user, toopher_sandbox, toopher_phone)
    old = _terminal_id(client)
    root = get_user_model().objects.create_superuser("root", "root@example.com", "pw")
    outcome = admin_flow.forget_terminals(toopher_paired_user, actor=root)
    assert outcome.ok and outcome.changed
    assert admin.site is not None
    _next_login_needs_the_phone(client, toopher_paired_user, toopher_sandbox, toopher_phone, old)


def test_unpairing_forgets_the_browsers(
    client, toopher_paired_user, toopher_sandbox, toopher_phone, toopher_settings
):
    login_fully(client, toopher_paired_user, toopher_sandbox, toopher_phone)
    old = _terminal_id(client)
    pairing.unpair(toopher_paired_user)
    assert not Terminal.objects.filter(user=toopher_paired_user).exists()
    assert ForgottenTerminal.objects.filter(user=toopher_paired_user).count() == 1
    toopher_phone.pairing_phrase = toopher_sandbox.new_phrase(toopher_phone.phone_id)
    pair(toopher_paired_user, toopher_phone)
    client.post("/accounts/logout/")
    start_login(client, toopher_paired_user)
    assert read_terminal_id(client.get("/").wsgi_request) not in (None, old)
    assert approve(client, toopher_sandbox, toopher_phone)["status"] == "granted"


# -- the phone drops a push nobody waits for any more -------------------------------------


def _phone_requests(sandbox, phone) -> list:
    return sandbox.pending(phone.phone_id)["authentication_requests"]


def test_a_cancelled_login_cancels_its_push_at_toopher(
    client, toopher_paired_user, toopher_sandbox, toopher_phone
):
    from django_toopher.internal.cancel import wait_for_cancels

    start_login(client, toopher_paired_user)
    assert len(_phone_requests(toopher_sandbox, toopher_phone)) == 1
    client.post("/toopher/pending/cancel/")
    wait_for_cancels()
    assert _phone_requests(toopher_sandbox, toopher_phone) == []


def test_a_new_login_replaces_the_waiting_one(
    client, toopher_paired_user, toopher_sandbox, toopher_phone
):
    from django_toopher.internal.cancel import wait_for_cancels

    start_login(client, toopher_paired_user)
    first = toopher_phone.wait_for_push(timeout=5)["id"]
    start_login(client, toopher_paired_user, terminal_name=None)
    wait_for_cancels()
    assert [item["id"] for item in _phone_requests(toopher_sandbox, toopher_phone)] != [first]
    assert len(_phone_requests(toopher_sandbox, toopher_phone)) == 1


def test_a_code_that_grants_cancels_the_push(
    client, toopher_paired_user, toopher_sandbox, toopher_phone
):
    from django_toopher.internal.cancel import wait_for_cancels

    start_login(client, toopher_paired_user)
    client.post(
        "/toopher/pending/otp/", {"otp": toopher_sandbox.otp(toopher_phone.pairing_id)}
    )
    assert str(logged_in_pk(client)) == str(toopher_paired_user.pk)
    wait_for_cancels()
    assert _phone_requests(toopher_sandbox, toopher_phone) == []


def test_a_failed_cancel_never_bothers_the_user(
    client, toopher_paired_user, toopher_sandbox, toopher_phone, toopher_settings
):
    from django_toopher.internal.cancel import wait_for_cancels

    start_login(client, toopher_paired_user)
    toopher_sandbox.set_faults(status=503, key=toopher_settings["CONSUMER_KEY"])
    response = client.post("/toopher/pending/cancel/")
    wait_for_cancels()
    assert response.status_code == 302 and PENDING not in client.session


# -- background fetches and transactions -----------------------------------------------------


def test_a_background_fetch_is_not_sent_to_the_pending_page(client, toopher_paired_user, login,
                                                           api_calls):
    login(client, toopher_paired_user)
    before = dict(state(client))
    response = client.get("/private/", headers={"Sec-Fetch-Mode": "no-cors",
                                                "Sec-Fetch-Dest": "image"})
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")
    assert state(client) == before and len(api_calls) == 0
    navigation = client.get("/private/", headers={"Sec-Fetch-Mode": "navigate"})
    assert navigation["Location"] == "/toopher/pending/"


@pytest.mark.django_db(transaction=True)
def test_the_admin_delete_page_calls_toopher_after_its_transaction(
    client, zero_conf, toopher_user, toopher_sandbox, toopher_phone, monkeypatch
):
    from django.db import connection

    from django_toopher.internal.flows import terminals


    pair(toopher_user, toopher_phone)
    login_fully(client, toopher_user, toopher_sandbox, toopher_phone)
    terminal = Terminal.objects.get(user=toopher_user)
    seen: list[bool] = []
    original = terminals.detach_terminal

    def spy(row):
        seen.append(connection.in_atomic_block)
        return original(row)

    monkeypatch.setattr(terminals, "detach_terminal", spy)
    root = get_user_model().objects.create_superuser("root", "root@example.com", "pw")
    admin_client = Client()
    from django_toopher.testing import force_login_verified

    force_login_verified(admin_client, root)
    url = reverse("admin:django_toopher_terminal_delete", args=[terminal.pk])
    response = admin_client.post(url, {"post": "yes"})
    assert response.status_code == 302
    assert not Terminal.objects.filter(pk=terminal.pk).exists()
    assert seen == [False]  # called once, outside any transaction
