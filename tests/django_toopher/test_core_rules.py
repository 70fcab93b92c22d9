"""Rules of the core that used to live twice (issue 10), each now stated once and
checked here from every place that applies it: terminal names, CSRF on every view
that changes state, a pairing completed once however many pollers, the adapter, and
what a "verified" login means (the signal and ``last_login``)."""

from __future__ import annotations

import threading
import time
from typing import Any

import pytest
from django.contrib.auth import SESSION_KEY
from django.db import OperationalError, connection
from django.test import Client
from django.urls import reverse

from django_toopher import signals
from django_toopher.forms import PairingPhraseForm, TerminalNameForm
from django_toopher.internal.flows import pairing
from django_toopher.models import AuditEvent, Terminal, ToopherProfile
from django_toopher.testing import PASSWORD, pair

from .conftest import password_login
from .helpers import approve, start_login, state

SPOOFS = {
    "right-to-left override": "Work\u202elaptop",
    "bell": "Work\x07laptop",
    "nul": "Work\x00laptop",
    "zero-width joiner": "Work\u200dlaptop",
    "10,000 characters": "x" * 10_000,
}


@pytest.mark.parametrize("name", SPOOFS.values(), ids=SPOOFS.keys())
def test_the_terminal_name_form_refuses_spoofing(name):
    assert not TerminalNameForm({"name": name}).is_valid()


def test_the_terminal_name_form_keeps_an_ordinary_name():
    form = TerminalNameForm({"name": "  Kitchen   PC  "})
    assert form.is_valid() and form.cleaned_data["name"] == "Kitchen PC"


@pytest.mark.parametrize("name", SPOOFS.values(), ids=SPOOFS.keys())
def test_naming_at_login_refuses_spoofing(client, toopher_paired_user, login, api_calls, name):
    login(client, toopher_paired_user)
    client.get("/toopher/pending/")
    assert state(client)["step"] == "name_terminal"
    api_calls.reset()
    response = client.post("/toopher/pending/terminal/", {"name": name})
    assert response.status_code == 400
    assert state(client)["step"] == "name_terminal"
    assert not Terminal.objects.exists() and len(api_calls) == 0


@pytest.mark.parametrize("name", SPOOFS.values(), ids=SPOOFS.keys())
def test_renaming_refuses_spoofing(
    client, toopher_paired_user, toopher_sandbox, toopher_phone, api_calls, name
):
    from .helpers import login_fully

    login_fully(client, toopher_paired_user, toopher_sandbox, toopher_phone)
    terminal = Terminal.objects.get(user=toopher_paired_user)
    api_calls.reset()
    response = client.post(reverse("django_toopher:terminal_rename", args=[terminal.pk]),
                           {"name": name})
    assert response.status_code == 400
    terminal.refresh_from_db()
    assert terminal.name == "Work laptop" and len(api_calls) == 0


@pytest.mark.parametrize("phrase", ["awkward turtle1", "a.b", "x" * 61, "<b>", "drop;table"])
def test_one_pairing_phrase_rule(phrase):
    assert not PairingPhraseForm({"pairing_phrase": phrase}).is_valid()


def test_a_pairing_phrase_is_normalised():
    form = PairingPhraseForm({"pairing_phrase": "  Awkward   Turtle "})
    assert form.is_valid() and form.phrase == "awkward turtle"
    assert PairingPhraseForm({"use_qr": "1"}).is_valid()


# -- CSRF on every view that changes state, whatever the middleware list ----------------

STATE_CHANGING = [
    "django_toopher:pending",
    "django_toopher:pending_cancel",
    "django_toopher:pending_otp",
    "django_toopher:pending_name_terminal",
    "django_toopher:pending_pair",
    "django_toopher:pair",
    "django_toopher:unpair",
    "django_toopher:reauth",
]


@pytest.fixture
def without_csrf_middleware(settings):
    settings.MIDDLEWARE = [m for m in settings.MIDDLEWARE if "CsrfViewMiddleware" not in m]


@pytest.mark.parametrize("name", STATE_CHANGING)
@pytest.mark.django_db
def test_state_changing_views_check_csrf_themselves(
    without_csrf_middleware, toopher_settings, name
):
    client = Client(enforce_csrf_checks=True)
    assert client.post(reverse(name), {}).status_code == 403


@pytest.mark.parametrize("name", ["django_toopher:terminal_rename",
                                  "django_toopher:terminal_forget"])
def test_terminal_views_check_csrf_themselves(
    without_csrf_middleware, toopher_settings, toopher_user, name
):
    terminal = Terminal.objects.create(user=toopher_user, requester_terminal_id="t" * 32, name="A")
    client = Client(enforce_csrf_checks=True)
    assert client.post(reverse(name, args=[terminal.pk]), {"name": "B"}).status_code == 403
    assert Terminal.objects.get(pk=terminal.pk).name == "A"


# -- one pairing, completed once ---------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_a_pairing_completes_once_however_many_poll(
    toopher_settings, toopher_sandbox, toopher_user, toopher_phone
):
    """Eight threads (own connections, one shared cache) poll one allowed pairing:
    exactly one records it; one audit row, one signal."""
    attempt, problem = pairing.start(toopher_user, toopher_phone.pairing_phrase)
    assert attempt is not None, problem
    toopher_sandbox.respond_pairing(attempt.id, allow=True)
    received: list[Any] = []

    def receiver(sender: Any, user: Any, **kwargs: Any) -> None:
        received.append(user)

    signals.toopher_paired.connect(receiver, weak=False, dispatch_uid="t-once")
    barrier = threading.Barrier(8)
    results: list[pairing.PairingState] = []
    lock = threading.Lock()

    def worker() -> None:
        try:
            barrier.wait()
            deadline = time.monotonic() + 10
            while time.monotonic() < deadline:
                try:
                    found = pairing.poll(None, toopher_user, attempt)
                except OperationalError:  # SQLite in memory: "table is locked"
                    time.sleep(0.01)
                    continue
                if found.state is pairing.PairingState.PAIRED or found.final:
                    break
                time.sleep(0.05)
            with lock:
                results.append(found.state)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(8)]
    try:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(30)
    finally:
        signals.toopher_paired.disconnect(dispatch_uid="t-once")
    assert results.count(pairing.PairingState.PAIRED) == 1
    assert AuditEvent.objects.filter(kind="paired", user=toopher_user).count() == 1
    assert len(received) == 1
    assert ToopherProfile.objects.get(user=toopher_user).pairing_id == attempt.id


def test_login_time_pairing_and_security_page_share_one_rate_limit(
    client, toopher_user, toopher_sandbox, toopher_settings, login
):
    toopher_settings.update(REQUIRE_ENROLLMENT=True, PAIRING_RATE_LIMIT=2)
    login(client, toopher_user)
    client.get("/toopher/pending/")
    for _ in range(2):
        client.post("/toopher/pending/pair/", {"pairing_phrase": "no such phrase"})
    attempt, problem = pairing.start(toopher_user, "another phrase")
    assert attempt is None and "Too many pairing attempts" in problem


# -- the adapter ---------------------------------------------------------------------------


@pytest.fixture
def email_adapter(toopher_settings):
    toopher_settings["ADAPTER"] = "tests.testapp.adapters.EmailAdapter"
    return toopher_settings


def test_the_adapter_names_the_user_at_toopher(
    email_adapter, client, toopher_user, toopher_sandbox, toopher_phone
):
    """docs/adapter.md: pairing and the push both use the email address."""

    toopher_user.email = "Alice@Example.com"
    toopher_user.save()
    pair(toopher_user, toopher_phone)
    start_login(client, toopher_user)
    item = toopher_sandbox.wait_for_pending(
        toopher_phone.phone_id, "authentication_requests", timeout=5
    )
    assert item["user_name"] == "alice@example.com"
    assert approve(client, toopher_sandbox, toopher_phone)["status"] == "granted"
    assert str(client.session[SESSION_KEY]) == str(toopher_user.pk)


def test_the_adapter_decides_who_must_approve(email_adapter, client, django_user_model):
    service = django_user_model.objects.create_user("svc-backup", "b@example.com", PASSWORD)
    ToopherProfile.objects.create(user=service, pairing_id="p" * 36)
    password_login(client, service)
    assert str(client.session[SESSION_KEY]) == str(service.pk)


# -- what a verified login is ----------------------------------------------------------------


def test_verified_signal_and_last_login_wait_for_the_phone(
    client, toopher_paired_user, toopher_sandbox, toopher_phone
):
    received: list[dict[str, Any]] = []

    def receiver(sender: Any, **kwargs: Any) -> None:
        received.append(kwargs)

    signals.toopher_verified.connect(receiver)
    try:
        start_login(client, toopher_paired_user)
        toopher_paired_user.refresh_from_db()
        assert toopher_paired_user.last_login is None and received == []
        assert approve(client, toopher_sandbox, toopher_phone)["status"] == "granted"
    finally:
        signals.toopher_verified.disconnect(receiver)
    toopher_paired_user.refresh_from_db()
    assert toopher_paired_user.last_login is not None
    assert [r["method"] for r in received] == ["approved"]
    assert received[0]["user"] == toopher_paired_user


def test_a_login_without_approval_is_verified_at_once(client, toopher_user, toopher_settings):
    received: list[str] = []

    def receiver(sender: Any, method: str, **kwargs: Any) -> None:
        received.append(method)

    signals.toopher_verified.connect(receiver)
    try:
        password_login(client, toopher_user)
    finally:
        signals.toopher_verified.disconnect(receiver)
    toopher_user.refresh_from_db()
    assert received == ["not_required"] and toopher_user.last_login is not None
