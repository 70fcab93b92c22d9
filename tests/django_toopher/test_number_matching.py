"""Number matching on the site: the pending page and its status JSON show the code the
phone asks the user to pick, in stored and zero-storage modes, against the live sandbox."""

from __future__ import annotations

import re

import pytest
from django.test import Client

from django_toopher.internal import verification
from django_toopher.internal.state import PendingLogin

from ..waiting import wait_until
from .helpers import start_login, state

pytestmark = pytest.mark.django_db

SHOWN = re.compile(
    r'<div id="toopher-verification"[^>]*data-code="(\d*)"[^>]*>\s*<p>([^<]*)'
    r'<strong id="toopher-verification-code"[^>]*>(\d*)</strong>'
)


def shown_code(response) -> tuple[str, str, str] | None:
    found = SHOWN.search(response.content.decode())
    return found.groups() if found else None


def check_page_shows_the_phones_code(client: Client, user, sandbox, phone) -> None:
    page = start_login(client, user)
    item = phone.wait_for_push(timeout=5)
    code = item["verification_code"]
    assert code and code in item["codes"]
    shown = shown_code(page)
    assert shown is not None
    data_code, text, number = shown
    assert data_code == number == code
    assert "Check that your phone shows this number" in text
    assert 'id="toopher-verification" class="toopher-verification" aria-live="polite"' in (
        page.content.decode()
    )
    assert state(client)["verification_code"] == code
    status = client.get("/toopher/pending/status/").json()
    assert (status["status"], status["verification_code"]) == ("pushed", code)
    sandbox.respond_authentication(item["id"], grant=True, code=code)
    final = wait_until(lambda: granted(client), timeout=10)
    assert final["verification_code"] is None


def granted(client: Client) -> dict | None:
    """The status JSON once the poll sees the grant (polls reach Toopher once a second)."""
    status = client.get("/toopher/pending/status/").json()
    return status if status["status"] == "granted" else None


def test_the_pending_page_shows_the_code_in_stored_mode(
    client, toopher_paired_user, toopher_sandbox, toopher_phone
):
    check_page_shows_the_phones_code(client, toopher_paired_user, toopher_sandbox, toopher_phone)


def test_the_pending_page_shows_the_code_in_zero_storage_mode(
    client, zero_conf, toopher_paired_user, toopher_sandbox, toopher_phone
):
    check_page_shows_the_phones_code(client, toopher_paired_user, toopher_sandbox, toopher_phone)


def test_no_code_no_box(client, toopher_paired_user, toopher_sandbox, toopher_phone):
    """Before the push (naming the browser) nothing is shown; a pending login of an older
    version (no code in the session) still loads and shows none."""
    page = start_login(client, toopher_paired_user, terminal_name=None)
    assert shown_code(page) is None
    saved = dict(state(client) or {})
    saved.pop("verification_code", None)
    assert PendingLogin.deserialize(saved) is not None
    assert PendingLogin.deserialize({**saved, "verification_code": 47}) is None


def test_a_tab_that_adopts_the_push_shows_the_same_code():
    assert verification.unpack(verification.pack("r1", "47")) == ("r1", "47")
    assert verification.unpack("r1") == ("r1", None)  # a record of an older version
    assert verification.unpack(["r1", "<b>"]) == ("r1", None)
    assert verification.unpack(None) == (None, None)


def test_code_of_takes_only_digits():
    class Sent:
        def __init__(self, code):
            self.verification_code = code

    assert verification.code_of(Sent("47")) == "47"
    assert verification.code_of(Sent(None)) is None
    assert verification.code_of(Sent("4 7")) is None
    assert verification.code_of(object()) is None
