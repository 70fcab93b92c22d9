"""Several devices per phone, removing a device, remembered browsers (protocol §9.13-§9.14).

Each refusal is checked by its error code and by the rows it left unchanged.
"""

from __future__ import annotations

import json
import re
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from django.core.cache import cache
from django.test import override_settings
from django.utils import timezone

from toopher_server import phone_devices, phones, ratelimit, service
from toopher_server.audit_models import AuditRecord
from toopher_server.devices import MAX_LABEL
from toopher_server.errors import ApiError
from toopher_server.models import (
    AuthenticationRequest,
    AutomationRule,
    Device,
    DeviceInvitation,
    Pairing,
    PairingPhrase,
    Phone,
    Requester,
)
from toopher_server.params import Params

from .device_client import API, DeviceClient, authentication, new_requester, paired

pytestmark = [pytest.mark.django_db, pytest.mark.urls("tests.server.urls")]


@pytest.fixture(autouse=True)
def _fresh_rate_limits() -> None:
    cache.clear()


def enrolled(label: str = "Test phone") -> DeviceClient:
    client = DeviceClient(label=label)
    assert client.enrol().status_code == 201
    return client


@pytest.fixture
def requester() -> Requester:
    return new_requester()


@pytest.fixture
def first() -> DeviceClient:
    return enrolled("First phone")


@pytest.fixture
def pairing(requester: Requester, first: DeviceClient) -> Pairing:
    return paired(requester, first)


def ok(response: Any, status: int = 200) -> Any:
    assert response.status_code == status, response.content
    return response.json()


def refused(response: Any, code: str, status: int) -> None:
    assert response.status_code == status, response.content
    assert response.json()["error"] == code


def invite(device: DeviceClient) -> str:
    answer = ok(device.call("POST", f"{API}/devices/me/invitations"), 201)
    assert answer["expires_in"] == 600
    return str(answer["code"])


def join(device: DeviceClient, code: Any) -> Any:
    return device.call("POST", f"{API}/devices/join", json.dumps({"code": code}).encode())


def devices(device: DeviceClient) -> list[dict[str, Any]]:
    return list(ok(device.call("GET", f"{API}/devices"))["devices"])


def phone_of(device: DeviceClient) -> Any:
    return Device.objects.get(pk=device.device.device_id).phone_id


def events(event: str) -> list[AuditRecord]:
    return list(AuditRecord.objects.filter(event=event).order_by("seq"))


def initiate(requester: Requester, pairing: Pairing, terminal: str = "Firefox on Linux",
             action: str = "Log in") -> AuthenticationRequest:
    """API v1 A1, as a site calls it."""
    params = Params([("pairing_id", str(pairing.id)), ("terminal_name", terminal),
                     ("action_name", action)])
    return service.initiate(requester, params)


# --- invitations and joining ---------------------------------------------------------------


def test_a_second_device_answers_the_first_ones_requests(
    requester: Requester, first: DeviceClient, pairing: Pairing
) -> None:
    second = enrolled("Second phone")
    code = invite(first)
    assert len(code) == 10 and set(code) <= set(phone_devices.ALPHABET)
    listed = ok(join(second, code.lower()[:5] + "-" + code[5:]))["devices"]
    assert [d["device_id"] for d in listed] == [first.device.device_id, second.device.device_id]
    assert [d["current"] for d in listed] == [False, True]
    assert phone_of(second) == phone_of(first) and Phone.objects.count() == 1

    auth = authentication(requester, pairing)
    shown = ok(second.call("GET", f"{API}/authentication_requests"))["authentication_requests"]
    assert [r["id"] for r in shown] == [str(auth.id)]
    assert ok(second.decide(auth))["state"] == "granted"
    assert ok(first.call("GET", f"{API}/authentication_requests/{auth.id}"))["state"] == "granted"
    (joined,) = events("device.joined")
    assert joined.details["device"] == second.device.device_id
    assert joined.details["invited_by"] == first.device.device_id
    assert [r.event for r in events("device.invited")] == ["device.invited"]


def test_the_code_is_kept_only_as_a_hash(first: DeviceClient) -> None:
    code = invite(first)
    (row,) = DeviceInvitation.objects.all()
    assert code not in json.dumps([row.code_hash, row.invited_by, str(row.phone_id)])
    assert row.code_hash == phone_devices.code_hash(code)


def test_an_invitation_is_used_once(first: DeviceClient, pairing: Pairing) -> None:
    code = invite(first)
    second, third = enrolled(), enrolled()
    ok(join(second, code))
    refused(join(third, code), "invalid_invitation", 400)
    assert phone_of(third) != phone_of(first)


def test_an_expired_invitation_does_not_join(first: DeviceClient, pairing: Pairing) -> None:
    code = invite(first)
    DeviceInvitation.objects.update(expires=timezone.now() - timedelta(seconds=1))
    second = enrolled()
    refused(join(second, code), "invalid_invitation", 400)
    assert phone_of(second) != phone_of(first)
    assert DeviceInvitation.objects.get().used is None
    invite(first)
    assert DeviceInvitation.objects.count() == 1  # the expired one is gone


@pytest.mark.parametrize("guess", ["ABCDEFGHJK", "short", "0OIL1U0OIL", "", "A" * 64])
def test_a_guessed_code_gets_the_same_answer(
    first: DeviceClient, pairing: Pairing, guess: str
) -> None:
    invite(first)
    second = enrolled()
    refused(join(second, guess), "invalid_invitation", 400)
    assert phone_of(second) != phone_of(first) and not events("device.joined")


@pytest.mark.parametrize("body", [b"", b"[]", b'{"code": 7}', b'{"code": "X", "more": 1}'])
def test_a_malformed_join_body_is_refused(first: DeviceClient, body: bytes) -> None:
    refused(first.call("POST", f"{API}/devices/join", body), "malformed", 400)


def limit_of(kind: str, scope: str) -> int:
    """The calls a limit in force allows (``ratelimit``'s defaults, or the setting)."""
    limit = ratelimit.rate_limits()[kind][scope]
    assert limit is not None
    return limit.calls


def test_guessing_is_rate_limited(first: DeviceClient, pairing: Pairing) -> None:
    code = invite(first)
    second = enrolled()
    for _ in range(limit_of(ratelimit.JOIN, "device")):
        refused(join(second, "ABCDEFGHJK"), "invalid_invitation", 400)
    refused(join(second, code), "rate_limited", 429)
    assert phone_of(second) != phone_of(first)
    assert DeviceInvitation.objects.get().used is None


def test_making_invitations_is_rate_limited(first: DeviceClient) -> None:
    for _ in range(limit_of(ratelimit.INVITE, "phone")):
        invite(first)
    refused(first.call("POST", f"{API}/devices/me/invitations"), "rate_limited", 429)
    assert DeviceInvitation.objects.count() == limit_of(ratelimit.INVITE, "phone")


def test_the_invitation_limits_are_the_operators_to_set(first: DeviceClient, settings) -> None:
    settings.TOOPHER_SERVER_RATE_LIMITS = {ratelimit.INVITE: {"phone": (2, 3600)}}
    invite(first)
    invite(first)
    refused(first.call("POST", f"{API}/devices/me/invitations"), "rate_limited", 429)
    assert DeviceInvitation.objects.count() == 2


def test_a_device_with_pairings_cannot_join(requester: Requester, first: DeviceClient) -> None:
    other = enrolled()
    other_pairing = paired(requester, other, "bob@example.com")
    code = invite(first)
    refused(join(other, code), "device_in_use", 409)
    assert phone_of(other) == other_pairing.phone_id != phone_of(first)
    assert DeviceInvitation.objects.get().used is None  # still good for a fresh device
    ok(join(enrolled(), code))


def test_an_invitation_takes_no_body(first: DeviceClient) -> None:
    response = first.call("POST", f"{API}/devices/me/invitations", b'{"a": 1}')
    refused(response, "malformed", 400)
    assert not DeviceInvitation.objects.exists()


# --- listing and removing ---------------------------------------------------------------


def test_a_device_lists_only_its_phones_devices(first: DeviceClient, pairing: Pairing) -> None:
    stranger = enrolled()
    assert [d["device_id"] for d in devices(first)] == [first.device.device_id]
    assert [d["device_id"] for d in devices(stranger)] == [stranger.device.device_id]
    (me,) = devices(first)
    assert set(me) == {"device_id", "label", "created", "last_seen", "current"}
    assert "public_jwk" not in json.dumps(me)


def test_a_device_of_another_phone_cannot_remove(first: DeviceClient, pairing: Pairing) -> None:
    stranger = enrolled()
    response = stranger.call("DELETE", f"{API}/devices/{first.device.device_id}")
    refused(response, "not_found", 404)
    assert Device.objects.filter(pk=first.device.device_id).exists()
    assert not events("device.removed")


def test_a_device_removes_another_which_is_then_unknown(
    requester: Requester, first: DeviceClient, pairing: Pairing
) -> None:
    second = enrolled()
    ok(join(second, invite(first)))
    left = ok(first.call("DELETE", f"{API}/devices/{second.device.device_id}"))["devices"]
    assert [d["device_id"] for d in left] == [first.device.device_id]
    refused(second.call("GET", f"{API}/devices/me"), "unknown_device", 401)
    assert Pairing.objects.get(pk=pairing.pk).usable
    (removed,) = events("device.removed")
    assert removed.details["by"] == f"device:{first.device.device_id}"
    assert removed.details["devices_left"] == 1


def test_removing_the_last_device_deactivates_its_pairings(
    requester: Requester, first: DeviceClient, pairing: Pairing
) -> None:
    auth = authentication(requester, pairing)
    first.phrase()
    assert ok(first.call("DELETE", f"{API}/devices/{first.device.device_id}")) == {"devices": []}
    assert not Device.objects.exists() and not PairingPhrase.objects.filter(used=False)
    fresh = Pairing.objects.get(pk=pairing.pk)
    assert fresh.deactivated
    assert not AuthenticationRequest.objects.get(pk=auth.pk).pending
    assert [r.outcome for r in events("pairing.deactivated")] == ["deactivated"]
    with pytest.raises(ApiError) as refusal:
        initiate(requester, fresh)
    assert refusal.value.error_code == 707


def test_removing_an_unknown_device_changes_nothing(first: DeviceClient) -> None:
    refused(first.call("DELETE", f"{API}/devices/{'x' * 43}"), "not_found", 404)
    refused(first.call("DELETE", f"{API}/devices/{'x' * 300}"), "not_found", 404)
    assert Device.objects.count() == 1


# --- renaming a device ------------------------------------------------------------------------


def rename(device: DeviceClient, target: DeviceClient, body: Any) -> Any:
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    return device.call("PATCH", f"{API}/devices/{target.device.device_id}", raw)


def labels() -> dict[str, str]:
    return dict(Device.objects.values_list("pk", "label"))


def test_a_device_renames_another_of_its_phone_and_itself(first: DeviceClient) -> None:
    second = enrolled("Tablet")
    ok(join(second, invite(first)))
    shown = ok(rename(first, second, {"label": "  Alice's old tablet "}))["devices"]
    assert [(d["device_id"], d["label"]) for d in shown] == [
        (first.device.device_id, "First phone"), (second.device.device_id, "Alice's old tablet"),
    ]  # fmt: skip
    ok(rename(first, first, {"label": "Alice's phone"}))
    assert labels() == {
        first.device.device_id: "Alice's phone", second.device.device_id: "Alice's old tablet",
    }  # fmt: skip
    renamed = events("device.renamed")
    assert [(r.outcome, r.details["from"], r.details["to"]) for r in renamed] == [
        ("renamed", "Tablet", "Alice's old tablet"), ("renamed", "First phone", "Alice's phone"),
    ]  # fmt: skip
    assert {r.details["by"] for r in renamed} == {f"device:{first.device.device_id}"}


@pytest.mark.parametrize(
    "body",
    [
        {"label": ""},
        {"label": "   "},
        {"label": "x" * 101},
        {"label": "tab\tbed"},
        {"label": 7},
        {"label": None},
        {"name": "Tablet"},
        {"label": "Tablet", "more": 1},
        b"[]",
        b"{",
        b"",
    ],
)
def test_a_bad_name_is_malformed_and_changes_nothing(first: DeviceClient, body: Any) -> None:
    before = labels()
    refused(rename(first, first, body), "malformed", 400)
    assert labels() == before and not events("device.renamed")


def test_the_app_limits_a_name_as_the_service_does() -> None:
    """app.js states the longest name once for its two name fields; it must be the
    service's, or the app would let through names the service refuses."""
    app_js = Path(phones.__file__).parent / "static" / "toopher_server" / "app" / "app.js"
    found = re.search(r'const MAX_LABEL = "(\d+)";', app_js.read_text(encoding="utf-8"))
    assert found and int(found.group(1)) == MAX_LABEL
    assert app_js.read_text(encoding="utf-8").count("maxlength: MAX_LABEL") == 2


def test_a_device_of_another_phone_cannot_rename(first: DeviceClient) -> None:
    stranger = enrolled("Stranger")
    refused(rename(stranger, first, {"label": "Mine now"}), "not_found", 404)
    assert labels()[first.device.device_id] == "First phone"
    assert not events("device.renamed")


# --- remembered browsers ---------------------------------------------------------------------


def allow_always(device: DeviceClient, auth: AuthenticationRequest) -> Any:
    return device.decide(auth, "allow_always")


def remembered(device: DeviceClient) -> list[dict[str, Any]]:
    answer = ok(device.call("GET", f"{API}/remembered_browsers"))
    return list(answer["remembered_browsers"])


def test_allow_always_grants_and_remembers_this_browser_and_action(
    requester: Requester, first: DeviceClient, pairing: Pairing
) -> None:
    auth = initiate(requester, pairing)
    assert ok(allow_always(first, auth))["state"] == "granted"
    (rule,) = remembered(first)
    assert (rule["site"], rule["user"], rule["terminal"], rule["action"]) == (
        "Example Shop", "alice@example.com", "Firefox on Linux", "Log in",
    )
    assert rule["expires"] - rule["created"] == 30 * 86400

    again = initiate(requester, pairing)
    assert (again.pending, again.granted, again.automated) == (False, True, True)
    other_browser = initiate(requester, pairing, terminal="Safari on macOS")
    other_action = initiate(requester, pairing, action="Change email")
    assert other_browser.pending and other_action.pending
    assert [r.outcome for r in events("decision.automated")] == ["granted"]
    assert [r.details["remember"] for r in events("decision.allowed")] == [True]


def test_an_expired_rule_no_longer_applies(
    requester: Requester, first: DeviceClient, pairing: Pairing
) -> None:
    ok(allow_always(first, initiate(requester, pairing)))
    AutomationRule.objects.update(expires=timezone.now() - timedelta(seconds=1))
    assert initiate(requester, pairing).pending
    assert remembered(first) == []


def test_a_rule_keeps_the_time_it_was_made_with(
    requester: Requester, first: DeviceClient, pairing: Pairing, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``expires - created`` is the remembered days exactly, even when the clock passes
    a second between the two readings (it did in CI with ``auto_now_add``)."""
    auth = initiate(requester, pairing)
    start = timezone.now()
    readings = iter(start + timedelta(seconds=0.7 * n) for n in range(100))
    monkeypatch.setattr(timezone, "now", lambda: next(readings))  # each reading later
    phones.set_automation(pairing, auth.terminal, auth.action, grant=True)
    rule = AutomationRule.objects.get()
    assert rule.created == start
    assert rule.expires - rule.created == timedelta(days=30)


@override_settings(TOOPHER_SERVER_REMEMBER_DAYS=2)
def test_the_remember_time_is_a_setting(
    requester: Requester, first: DeviceClient, pairing: Pairing
) -> None:
    ok(allow_always(first, initiate(requester, pairing)))
    (rule,) = remembered(first)
    assert rule["expires"] - rule["created"] == 2 * 86400


def test_forgetting_a_browser_asks_again(
    requester: Requester, first: DeviceClient, pairing: Pairing
) -> None:
    ok(allow_always(first, initiate(requester, pairing)))
    (rule,) = remembered(first)
    answer = ok(first.call("DELETE", f"{API}/remembered_browsers/{rule['id']}"))
    assert answer == {"remembered_browsers": []}
    assert initiate(requester, pairing).pending
    (forgotten,) = events("remembered.forgotten")
    assert forgotten.details["by"] == f"device:{first.device.device_id}"
    refused(first.call("DELETE", f"{API}/remembered_browsers/{rule['id']}"), "not_found", 404)


def test_another_phone_neither_sees_nor_forgets_a_remembered_browser(
    requester: Requester, first: DeviceClient, pairing: Pairing
) -> None:
    ok(allow_always(first, initiate(requester, pairing)))
    (rule,) = remembered(first)
    stranger = enrolled()
    paired(requester, stranger, "bob@example.com")
    assert remembered(stranger) == []
    for rule_id in (rule["id"], "abc", "9" * 40, "%D9%A1"):
        response = stranger.call("DELETE", f"{API}/remembered_browsers/{rule_id}")
        refused(response, "not_found", 404)
    assert AutomationRule.objects.count() == 1
    assert not events("remembered.forgotten")


def test_a_second_device_sees_and_forgets_the_same_browsers(
    requester: Requester, first: DeviceClient, pairing: Pairing
) -> None:
    second = enrolled()
    ok(join(second, invite(first)))
    ok(allow_always(first, initiate(requester, pairing)))
    (rule,) = remembered(second)
    ok(second.call("DELETE", f"{API}/remembered_browsers/{rule['id']}"))
    assert remembered(first) == []


def test_allow_always_on_a_decided_request_remembers_nothing(
    requester: Requester, first: DeviceClient, pairing: Pairing
) -> None:
    auth = initiate(requester, pairing)
    ok(first.decide(auth, "deny"))
    refused(allow_always(first, auth), "not_pending", 409)
    assert not AutomationRule.objects.exists()
    assert initiate(requester, pairing).pending


# --- the migration keeps existing rows ----------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_the_migration_keeps_devices_and_gives_old_rules_an_expiry() -> None:
    from django.db import connection
    from django.db.migrations.executor import MigrationExecutor

    executor = MigrationExecutor(connection)
    (ours,) = [key for key in executor.loader.disk_migrations
               if key[0] == "toopher_server" and key[1].endswith("_devices_per_phone")]
    before = [dep for dep in executor.loader.graph.node_map[ours].parents
              if dep.key[0] == "toopher_server"][0].key
    executor.migrate([before])
    old = executor.loader.project_state([before]).apps
    phone = old.get_model("toopher_server", "Phone").objects.create(name="Old phone")
    old.get_model("toopher_server", "Device").objects.create(
        id="d" * 43, phone_id=phone.pk, public_jwk={"kty": "EC"}, label="Old"
    )
    requester = old.get_model("toopher_server", "Requester").objects.create(
        name="Shop", key="k", secret_sealed="x"
    )
    user = old.get_model("toopher_server", "User").objects.create(requester=requester, name="a")
    pairing = old.get_model("toopher_server", "Pairing").objects.create(
        requester=requester, user=user, phone_id=phone.pk, state="enabled", otp_secret="S"
    )
    terminal = old.get_model("toopher_server", "Terminal").objects.create(user=user, name="t")
    action = old.get_model("toopher_server", "Action").objects.create(
        requester=requester, name="Log in"
    )
    rule = old.get_model("toopher_server", "AutomationRule").objects.create(
        pairing=pairing, terminal=terminal, action=action
    )
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(executor.loader.graph.leaf_nodes())
    assert list(Device.objects.get(pk="d" * 43).phone.devices.all()) == [
        Device.objects.get(pk="d" * 43)
    ]
    kept = AutomationRule.objects.get(pk=rule.pk)
    assert kept.expires == kept.created + timedelta(days=30)
