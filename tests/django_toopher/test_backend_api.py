"""The flow API other parts call (enrollment, admin): pairing, unpairing,
enabling, naming terminals; their audit events and signals, in both modes."""

from __future__ import annotations

import pytest

from django_toopher import signals
from django_toopher.forms import TerminalNameForm
from django_toopher.internal.client import get_client
from django_toopher.internal.flows import pairing, terminals
from django_toopher.internal.flows.admin import set_enabled
from django_toopher.internal.modes import get_mode
from django_toopher.models import AuditEvent, Terminal, ToopherProfile
from django_toopher.testing import pair

pytestmark = pytest.mark.django_db


@pytest.fixture
def caught():
    seen: list[tuple[str, dict]] = []
    handlers = {}
    for name in ("toopher_paired", "toopher_unpaired", "toopher_disabled"):
        def handler(sender, _name=name, **kwargs):
            seen.append((_name, kwargs))
        handlers[name] = handler
        getattr(signals, name).connect(handler)
    yield seen
    for name, handler in handlers.items():
        getattr(signals, name).disconnect(handler)


@pytest.mark.parametrize("mode", ["stored", "zero_storage"])
def test_pair_unpair_disable(
    mode, toopher_settings, toopher_sandbox, toopher_phone, toopher_user, caught, django_user_model
):
    toopher_settings["MODE"] = mode
    admin = django_user_model.objects.create_user("admin", password="x", is_staff=True)
    mode_ = get_mode()
    assert mode_.is_paired(toopher_user) is False
    pairing_id = pair(toopher_user, toopher_phone)
    assert mode_.is_paired(toopher_user) is True
    assert get_client().get_pairing_status(pairing_id).enabled is True
    assert caught[-1][0] == "toopher_paired" and caught[-1][1]["user"] == toopher_user
    assert "pairing_id" not in caught[-1][1]

    set_enabled(toopher_user, False, actor=admin)
    assert ToopherProfile.objects.get(user=toopher_user).enabled is False
    assert get_client().get_user_by_name("alice").toopher_authentication_enabled is False
    assert caught[-1][0] == "toopher_disabled" and caught[-1][1]["actor"] == admin
    set_enabled(toopher_user, True)
    assert get_client().get_user_by_name("alice").toopher_authentication_enabled is True

    pairing.unpair(toopher_user, actor=admin)
    assert mode_.is_paired(toopher_user) is False
    assert not ToopherProfile.objects.filter(pairing_id__isnull=False).exists()
    assert caught[-1][0] == "toopher_unpaired" and caught[-1][1]["actor"] == admin
    kinds = list(
        AuditEvent.objects.filter(user=toopher_user).order_by("id").values_list("kind", flat=True)
    )
    assert kinds == ["paired", "admin_disabled", "admin_enabled", "admin_reset"]
    event = AuditEvent.objects.get(user=toopher_user, kind="admin_disabled")
    assert event.actor == admin


def test_complete_pairing_refuses_a_pending_pairing(toopher_settings, toopher_user, toopher_phone):
    attempt, problem = pairing.start(toopher_user, toopher_phone.pairing_phrase)
    assert attempt is not None, problem
    result = pairing.poll(None, toopher_user, attempt)
    assert result.state is pairing.PairingState.PENDING and not result.final
    assert not ToopherProfile.objects.filter(pairing_id__isnull=False).exists()
    assert not AuditEvent.objects.filter(kind="paired").exists()


def test_qr_pairing_image(toopher_settings, toopher_user):
    attempt, problem = pairing.start(toopher_user, None)
    assert attempt is not None and attempt.qr, problem
    assert pairing.qr_image(attempt).startswith(b"\x89PNG")


@pytest.mark.parametrize("mode", ["stored", "zero_storage"])
def test_name_terminal(mode, toopher_settings, toopher_paired_user, api_calls):
    toopher_settings["MODE"] = mode
    tid = "A" * 32
    terminal = terminals.name_terminal(toopher_paired_user, tid, cleaned_name("  Kitchen   PC "))
    assert terminal.name == "Kitchen PC" and terminal.requester_terminal_id == tid
    again = terminals.name_terminal(toopher_paired_user, tid, cleaned_name("Hall PC"))
    assert again.pk == terminal.pk and Terminal.objects.get().name == "Hall PC"
    assert api_calls.count("user_terminals/create") == (2 if mode == "zero_storage" else 0)
    kinds = list(AuditEvent.objects.filter(kind__startswith="terminal").values_list(
        "kind", flat=True).order_by("id"))
    assert kinds == ["terminal_named", "terminal_renamed"]
    # Names are cleaned by the one form before they reach the flow; it refuses these.
    for bad in ("", "   ", "x" * 101, "x" * 10_000, "evil\u202eCP", "bell\x07", "nul\x00"):
        assert not TerminalNameForm({"name": bad}).is_valid(), repr(bad)
    assert Terminal.objects.get().name == "Hall PC"


def cleaned_name(raw: str) -> str:
    form = TerminalNameForm({"name": raw})
    assert form.is_valid(), form.errors
    return form.cleaned_data["name"]
