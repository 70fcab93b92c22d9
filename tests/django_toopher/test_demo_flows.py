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

from .conftest import password_login, pending_push
from .helpers import approve, logged_in_pk, login_fully, start_login, state


def _texts(response: Any) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


def _wrong(right: str) -> str:
    return "000000" if right != "000000" else "111111"


# -- one-time passwords ------------------------------------------------------------


def test_a_wrong_code_can_be_retried_without_a_new_push(
    client, paired_user, sandbox, phone, api_calls
):
    start_login(client, paired_user)
    push = pending_push(sandbox, phone)
    api_calls.reset()
    right = sandbox.otp(paired_user.pairing_id)
    response = client.post("/toopher/pending/otp/", {"otp": _wrong(right)}, follow=True)
    texts = _texts(response)
    assert texts == ["That code is not right. You can try 4 more times."]
    assert not any("denied" in text for text in texts)
    # The push is still waiting on the phone, and the login still waits for it.
    assert pending_push(sandbox, phone)["id"] == push["id"]
    poll = client.get("/toopher/pending/status/").json()
    assert poll["status"] == "pushed" and poll["final"] is False
    assert state(client)["request_id"] == push["id"]
    # No new push was sent: each code is checked by a request decided at once.
    assert api_calls.count("otp_auth") == 0
    response = client.post("/toopher/pending/otp/", {"otp": sandbox.otp(paired_user.pairing_id)})
    assert response.status_code == 302 and response["Location"] == "/"
    assert str(logged_in_pk(client)) == str(paired_user.pk)
    assert [e.kind for e in AuditEvent.objects.filter(user=paired_user, kind="otp_failed")] == [
        "otp_failed"
    ]


def test_the_push_cannot_be_used_after_a_code_granted(client, paired_user, sandbox, phone):
    start_login(client, paired_user)
    push = pending_push(sandbox, phone)
    client.post("/toopher/pending/otp/", {"otp": sandbox.otp(paired_user.pairing_id)})
    assert str(logged_in_pk(client)) == str(paired_user.pk)
    from django_toopher.internal.cancel import wait_for_cancels
    from toopher_sandbox.testing import SandboxError

    wait_for_cancels()
    with pytest.raises(SandboxError, match="cancelled"):  # the phone dropped it
        sandbox.respond_authentication(push["id"], grant=True)
    other = Client()
    assert other.get("/toopher/pending/status/").status_code == 404


def test_the_last_wrong_code_ends_the_login_with_one_message(
    client, paired_user, sandbox, phone, toopher_conf
):
    toopher_conf["OTP_RATE_LIMIT"] = 2
    start_login(client, paired_user)
    wrong = _wrong(sandbox.otp(paired_user.pairing_id))
    client.post("/toopher/pending/otp/", {"otp": wrong}, follow=True)
    response = client.post("/toopher/pending/otp/", {"otp": wrong}, follow=True)
    assert _texts(response) == ["Too many wrong codes. Log in again to start over."]
    assert PENDING not in client.session


# -- the push limit ------------------------------------------------------------------------


def test_the_push_limit_says_when_to_come_back(client, paired_user, sandbox, phone,
                                               toopher_conf):
    toopher_conf.update(PUSH_RATE_LIMIT=1, PUSH_RATE_WINDOW=600)
    start_login(client, paired_user)
    client.post("/toopher/pending/cancel/", follow=True)
    password_login(client, paired_user)
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
    item = pending_push(sandbox, phone)
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
    client, paired_user, sandbox, phone
):
    _automated_login(client, paired_user, sandbox, phone)
    old = _terminal_id(client)
    terminal = Terminal.objects.get()
    response = client.post(reverse("django_toopher:terminal_forget", args=[terminal.pk]))
    assert response.status_code == 302
    assert ForgottenTerminal.objects.filter(user=paired_user).count() == 1
    _next_login_needs_the_phone(client, paired_user, sandbox, phone, old)


def test_an_admin_forgetting_terminals_ends_their_trust(client, paired_user, sandbox, phone,
                                                        rf):
    from django_toopher.internal.flows import admin as admin_flow

    _automated_login(client, paired_user, sandbox, phone)
    old = _terminal_id(client)
    root = get_user_model().objects.create_superuser("root", "root@example.com", "pw")
    outcome = admin_flow.forget_terminals(paired_user, actor=root)
    assert outcome.ok and outcome.changed
    assert admin.site is not None
    _next_login_needs_the_phone(client, paired_user, sandbox, phone, old)


def test_unpairing_forgets_the_browsers(client, paired_user, sandbox, phone, toopher_conf):
    from .conftest import pair_user

    login_fully(client, paired_user, sandbox, phone)
    old = _terminal_id(client)
    pairing.unpair(paired_user)
    assert not Terminal.objects.filter(user=paired_user).exists()
    assert ForgottenTerminal.objects.filter(user=paired_user).count() == 1
    phone = {**phone, "pairing_phrase": sandbox.new_phrase(phone["phone_id"])}
    paired_user.pairing_id = pair_user(sandbox, paired_user, phone)
    client.post("/accounts/logout/")
    start_login(client, paired_user)
    assert read_terminal_id(client.get("/").wsgi_request) not in (None, old)
    assert approve(client, sandbox, phone)["status"] == "granted"


# -- the phone drops a push nobody waits for any more -------------------------------------


def _phone_requests(sandbox, phone) -> list:
    return sandbox.pending(phone["phone_id"])["authentication_requests"]


def test_a_cancelled_login_cancels_its_push_at_toopher(client, paired_user, sandbox, phone):
    from django_toopher.internal.cancel import wait_for_cancels

    start_login(client, paired_user)
    assert len(_phone_requests(sandbox, phone)) == 1
    client.post("/toopher/pending/cancel/")
    wait_for_cancels()
    assert _phone_requests(sandbox, phone) == []


def test_a_new_login_replaces_the_waiting_one(client, paired_user, sandbox, phone):
    from django_toopher.internal.cancel import wait_for_cancels

    start_login(client, paired_user)
    first = pending_push(sandbox, phone)["id"]
    start_login(client, paired_user, terminal_name=None)
    wait_for_cancels()
    assert [item["id"] for item in _phone_requests(sandbox, phone)] != [first]
    assert len(_phone_requests(sandbox, phone)) == 1


def test_a_code_that_grants_cancels_the_push(client, paired_user, sandbox, phone):
    from django_toopher.internal.cancel import wait_for_cancels

    start_login(client, paired_user)
    client.post("/toopher/pending/otp/", {"otp": sandbox.otp(paired_user.pairing_id)})
    assert str(logged_in_pk(client)) == str(paired_user.pk)
    wait_for_cancels()
    assert _phone_requests(sandbox, phone) == []


def test_a_failed_cancel_never_bothers_the_user(client, paired_user, sandbox, phone,
                                                toopher_conf):
    from django_toopher.internal.cancel import wait_for_cancels

    start_login(client, paired_user)
    sandbox.set_faults(status=503, key=toopher_conf["CONSUMER_KEY"])
    response = client.post("/toopher/pending/cancel/")
    wait_for_cancels()
    assert response.status_code == 302 and PENDING not in client.session
