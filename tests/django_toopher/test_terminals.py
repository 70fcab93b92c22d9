"""The user's terminals: list, rename, forget (own only, recent auth, CSRF, audited), in
stored-ID mode and, against the live sandbox, in zero-storage mode."""

from __future__ import annotations

import time

import pytest
from django.test import Client
from django.urls import reverse

from django_toopher.internal.client import get_client
from django_toopher.internal.cookies import SALT, new_terminal_id
from django_toopher.internal.flows import pairing, terminals
from django_toopher.models import AuditEvent, Terminal
from tests.django_toopher.enroll_support import configure, fresh_auth, login, make_user

pytestmark = pytest.mark.django_db


@pytest.fixture
def live(settings, toopher_requester):
    return configure(settings, toopher_requester)


@pytest.fixture
def alice(live):
    return make_user("alice")


@pytest.fixture
def bob(live):
    return make_user("bob")


@pytest.fixture
def client_alice(client, alice):
    return login(client, alice)


def add_terminal(user, name="Work laptop", **extra):
    return Terminal.objects.create(
        user=user, requester_terminal_id=new_terminal_id(), name=name, **extra
    )


def rename_url(terminal):
    return reverse("django_toopher:terminal_rename", args=[terminal.pk])


def forget_url(terminal):
    return reverse("django_toopher:terminal_forget", args=[terminal.pk])


def test_list_shows_only_own_terminals_and_marks_this_browser(client_alice, alice, bob):
    mine = add_terminal(alice, "Kitchen PC")
    add_terminal(alice, "Phone browser")
    add_terminal(bob, "Bob's secret laptop")
    from django.core.signing import get_cookie_signer

    signed = get_cookie_signer(salt="toopher_terminal" + SALT).sign(mine.requester_terminal_id)
    client_alice.cookies["toopher_terminal"] = signed
    response = client_alice.get(reverse("django_toopher:terminals"))
    assert response.status_code == 200
    html = response.content.decode()
    assert "Kitchen PC" in html and "Phone browser" in html
    assert "Bob" not in html
    assert "this browser" in html
    assert mine.requester_terminal_id not in html  # the cookie id never shows
    rows = response.context["rows"]
    assert [r["current"] for r in rows] == [True, False]


def test_rename_own_terminal(client_alice, alice):
    terminal = add_terminal(alice)
    page = client_alice.get(rename_url(terminal))
    assert page.status_code == 200 and b'value="Work laptop"' in page.content
    response = client_alice.post(rename_url(terminal), {"name": "  Home   desktop "})
    assert response.status_code == 302
    assert response["Location"] == reverse("django_toopher:terminals")
    terminal.refresh_from_db()
    assert terminal.name == "Home desktop"
    event = AuditEvent.objects.get(kind="terminal_renamed", user=alice)
    assert event.terminal_name == "Home desktop" and "Work laptop" in event.detail


def test_rename_to_the_same_name_records_nothing(client_alice, alice):
    terminal = add_terminal(alice)
    client_alice.post(rename_url(terminal), {"name": "Work laptop"})
    assert not AuditEvent.objects.filter(kind="terminal_renamed").exists()


@pytest.mark.parametrize("name", ["", "   ", "x" * 101, "bad\x00name", "tab\u202eevil"])
def test_rename_with_a_bad_name_changes_nothing(client_alice, alice, name):
    terminal = add_terminal(alice)
    response = client_alice.post(rename_url(terminal), {"name": name})
    assert response.status_code == 400
    assert b"errorlist" in response.content
    terminal.refresh_from_db()
    assert terminal.name == "Work laptop"


def test_another_users_terminal_is_a_404(client_alice, bob):
    theirs = add_terminal(bob)
    assert client_alice.get(rename_url(theirs)).status_code == 404
    assert client_alice.post(rename_url(theirs), {"name": "pwned"}).status_code == 404
    assert client_alice.get(forget_url(theirs)).status_code == 404
    assert client_alice.post(forget_url(theirs)).status_code == 404
    theirs.refresh_from_db()
    assert theirs.name == "Work laptop"
    assert not AuditEvent.objects.exists()


def test_an_unknown_terminal_is_a_404(client_alice):
    url = reverse("django_toopher:terminal_rename", args=[999999])
    assert client_alice.get(url).status_code == 404


def test_forget_asks_first_then_forgets(client_alice, alice):
    terminal = add_terminal(alice)
    page = client_alice.get(forget_url(terminal))
    assert page.status_code == 200 and b"Forget" in page.content
    assert Terminal.objects.filter(pk=terminal.pk).exists()
    response = client_alice.post(forget_url(terminal))
    assert response["Location"] == reverse("django_toopher:terminals")
    assert not Terminal.objects.filter(pk=terminal.pk).exists()
    event = AuditEvent.objects.get(kind="terminal_forgotten")
    assert event.user == alice and event.terminal_name == "Work laptop" and event.actor is None


@pytest.mark.parametrize("view", ["rename", "forget"])
def test_changes_need_a_recent_authentication(client, alice, view):
    login(client, alice, recent=False)
    terminal = add_terminal(alice)
    url = rename_url(terminal) if view == "rename" else forget_url(terminal)
    response = client.post(url, {"name": "New"})
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("django_toopher:reauth"))
    terminal.refresh_from_db()
    assert terminal.name == "Work laptop"
    fresh_auth(client, at=time.time())
    assert client.post(url, {"name": "New"}).status_code == 302
    assert not Terminal.objects.filter(pk=terminal.pk, name="Work laptop").exists()


@pytest.mark.parametrize("view", ["rename", "forget"])
def test_changes_need_a_csrf_token(alice, view):
    client = login(Client(enforce_csrf_checks=True), alice)
    terminal = add_terminal(alice)
    url = rename_url(terminal) if view == "rename" else forget_url(terminal)
    assert client.post(url, {"name": "New"}).status_code == 403
    terminal.refresh_from_db()
    assert terminal.name == "Work laptop"


def test_list_needs_a_login(client, live):
    response = client.get(reverse("django_toopher:terminals"))
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")


# -- zero-storage mode: the terminal lives at Toopher too -----------------------------------------


@pytest.fixture
def zero(settings, live, toopher_sandbox, toopher_phone, alice):
    settings.TOOPHER = {**settings.TOOPHER, "MODE": "zero_storage"}
    attempt, problem = pairing.start(alice, toopher_phone.pairing_phrase)
    assert attempt is not None, problem
    toopher_sandbox.respond_pairing(attempt.id, allow=True)
    cookie_id = new_terminal_id()
    terminal = terminals.name_terminal(alice, cookie_id, "Work laptop")
    assert terminal.toopher_terminal_id
    return terminal


def test_zero_storage_rename_reaches_toopher(client_alice, zero):
    client_alice.post(rename_url(zero), {"name": "Home desktop"})
    remote = get_client().get_user_terminal(zero.toopher_terminal_id)
    assert remote.raw["name"] == "Home desktop"
    zero.refresh_from_db()
    assert zero.name == "Home desktop"


def test_zero_storage_forget_detaches_the_browser_at_toopher(client_alice, alice, zero):
    client_alice.post(forget_url(zero))
    assert not Terminal.objects.filter(pk=zero.pk).exists()
    remote = get_client().get_user_terminal(zero.toopher_terminal_id)
    assert remote.raw["requester_specified_id"] != zero.requester_terminal_id
    # The browser's next login is an unknown terminal (706): it will be named again.
    import toopher

    with pytest.raises(toopher.TerminalUnknownError):
        get_client().authenticate_by_user_name("alice", zero.requester_terminal_id, "Log in")


@pytest.mark.parametrize("view", ["rename", "forget"])
def test_zero_storage_toopher_failure_changes_nothing(
    client_alice, zero, toopher_sandbox, live, view
):
    toopher_sandbox.set_faults(key=live["key"], status=500)
    url = rename_url(zero) if view == "rename" else forget_url(zero)
    response = client_alice.post(url, {"name": "Home desktop"}, follow=True)
    assert response.status_code in (200, 503)
    assert b"cannot be reached" in response.content
    zero.refresh_from_db()
    assert zero.name == "Work laptop"
    assert not AuditEvent.objects.filter(
        kind__in=["terminal_renamed", "terminal_forgotten"]
    ).exists()
