"""Pairing by QR code (protocol §9.11): a device claims the site's QR pairing, then answers it.

The site starts the pairing with API v1 ``pairings/create/qr``; the app scans the code
and claims the pairing by its id; the user allows or denies it as any pairing (§9.5).
Every refusal is checked the same way: the error code, and the pairing row unchanged.
"""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

import pytest
from django.core.cache import cache
from django.test import Client, override_settings
from django.utils import timezone

from toopher_server import devices, lifecycle, phones, service
from toopher_server.models import Device, Pairing, Phone
from toopher_server.params import Params

from .calls import Site
from .device_client import API, DeviceClient, new_requester

pytestmark = [pytest.mark.django_db, pytest.mark.urls("tests.server.urls")]


@pytest.fixture(autouse=True)
def _fresh_rate_limits() -> None:
    cache.clear()


def enrolled() -> DeviceClient:
    client = DeviceClient()
    assert client.enrol().status_code == 201
    return client


@pytest.fixture
def phone() -> DeviceClient:
    return enrolled()


@pytest.fixture
def site() -> Site:
    return Site(Client())


def qr_pairing(user: str = "ann@example.com") -> Pairing:
    return service.pair_qr(new_requester(), Params([("user_name", user)]))


def claim(phone: DeviceClient, pairing_id: Any, **kwargs: Any) -> Any:
    return phone.call("POST", f"{API}/pairings/{pairing_id}/claim", **kwargs)


def row(pairing: Pairing) -> tuple[Any, ...]:
    fresh = Pairing.objects.get(pk=pairing.pk)
    return (fresh.phone_id, fresh.state, fresh.deactivated, fresh.modified)


def refused(response: Any, code: str, status: int) -> None:
    assert response.status_code == status, response.content
    assert response.json()["error"] == code


def phone_of(client: DeviceClient) -> Phone:
    return Device.objects.select_related("phone").get(pk=client.device.device_id).phone


# --- the way it works -----------------------------------------------------------------


def test_claim_then_allow_enables_the_pairing_in_api_v1(phone: DeviceClient, site: Site) -> None:
    created = site.post("pairings/create/qr", user_name="ann@example.com").json()
    assert (created["pending"], created["enabled"]) == (True, False)
    pairing = Pairing.objects.select_related("requester", "user").get(pk=created["id"])

    response = claim(phone, pairing.id)
    assert response.status_code == 200, response.content
    shown = response.json()
    assert (shown["id"], shown["site"], shown["user"], shown["state"]) == (
        created["id"], "Site site-key", "ann@example.com", "pending",
    )  # fmt: skip
    assert set(shown) == {"id", "site", "user", "state", "created", "age"}
    listed = phone.call("GET", f"{API}/pairings").json()["pairings"]
    assert [p["id"] for p in listed] == [created["id"]]
    assert site.call("GET", f"pairings/{pairing.id}").json()["pending"] is True

    assert phone.answer_pairing(pairing).json()["state"] == "enabled"
    status = site.call("GET", f"pairings/{pairing.id}").json()
    assert (status["pending"], status["enabled"]) == (False, True)
    otp_seed = phone.call("GET", f"{API}/pairings/{pairing.id}/otp_seed")
    assert otp_seed.status_code == 200


def test_claim_then_deny(phone: DeviceClient, site: Site) -> None:
    created = site.post("pairings/create/qr", user_name="ann").json()
    pairing = Pairing.objects.select_related("requester", "user").get(pk=created["id"])
    assert claim(phone, pairing.id).status_code == 200
    assert phone.answer_pairing(pairing, "deny").json()["state"] == "denied"
    status = site.call("GET", f"pairings/{pairing.id}").json()
    assert (status["pending"], status["enabled"]) == (False, False)


def test_claiming_again_from_the_same_device_changes_nothing(phone: DeviceClient) -> None:
    pairing = qr_pairing()
    first = claim(phone, pairing.id)
    before = row(pairing)
    again = claim(phone, str(pairing.id).upper())
    assert again.status_code == 200, again.content
    assert again.json()["id"] == first.json()["id"] == str(pairing.id)
    assert row(pairing)[:3] == before[:3] == (phone_of(phone).pk, Pairing.PENDING, False)


# --- refusals: each changes nothing ---------------------------------------------------


def test_an_unsigned_claim_changes_nothing(phone: DeviceClient) -> None:
    pairing = qr_pairing()
    before = row(pairing)
    refused(claim(phone, pairing.id, sign=False), "unsigned", 401)
    assert row(pairing) == before and before[0] is None


def test_a_replayed_claim_changes_nothing(phone: DeviceClient) -> None:
    pairing = qr_pairing()
    path = f"{API}/pairings/{pairing.id}/claim"
    headers = phone.device.headers_for("POST", path, b"")
    assert claim(phone, pairing.id, sign=False, headers=headers).status_code == 200
    Pairing.objects.filter(pk=pairing.pk).update(phone=None)  # as if never claimed
    before = row(pairing)
    refused(claim(phone, pairing.id, sign=False, headers=headers), "replay", 401)
    assert row(pairing) == before


def test_a_claim_signed_with_another_key_changes_nothing(phone: DeviceClient) -> None:
    pairing = qr_pairing()
    intruder = DeviceClient()
    intruder.enrol()
    path = f"{API}/pairings/{pairing.id}/claim"
    forged = intruder.device.headers_for("POST", path, b"")
    forged = {k: v.replace(intruder.device.device_id, phone.device.device_id)
              for k, v in forged.items()}  # fmt: skip
    before = row(pairing)
    refused(claim(phone, pairing.id, sign=False, headers=forged), "bad_signature", 401)
    assert row(pairing) == before


def test_another_device_cannot_claim_a_claimed_pairing(phone: DeviceClient) -> None:
    pairing = qr_pairing()
    assert claim(phone, pairing.id).status_code == 200
    before = row(pairing)
    other = enrolled()
    refused(claim(other, pairing.id), "not_found", 404)
    assert row(pairing) == before
    assert other.call("GET", f"{API}/pairings").json()["pairings"] == []
    refused(other.answer_pairing(pairing), "not_found", 404)
    assert row(pairing) == before


def test_a_phrase_pairing_cannot_be_claimed(phone: DeviceClient) -> None:
    other = enrolled()
    pairing = service.pair_user_with_phrase(new_requester(), "ann", other.phrase())
    before = row(pairing)
    refused(claim(phone, pairing.id), "not_found", 404)
    refused(claim(other, pairing.id), "not_found", 404)  # not even by its own device
    assert row(pairing) == before


def test_an_sms_pairing_cannot_be_claimed(phone: DeviceClient) -> None:
    params = Params([("user_name", "ann"), ("phone_number", "+15551234567")])
    pairing = service.pair_sms(new_requester(), params)
    before = row(pairing)
    refused(claim(phone, pairing.id), "not_found", 404)
    assert row(pairing) == before


@pytest.mark.parametrize("pairing_id", [uuid.uuid4(), "not-a-uuid", "%00"])
def test_an_unknown_pairing_is_not_found(phone: DeviceClient, pairing_id: Any) -> None:
    count = Pairing.objects.count()
    refused(claim(phone, pairing_id), "not_found", 404)
    assert Pairing.objects.count() == count


def test_a_denied_pairing_cannot_be_claimed_again(phone: DeviceClient) -> None:
    pairing = Pairing.objects.select_related("requester", "user").get(pk=qr_pairing().pk)
    claim(phone, pairing.id)
    assert phone.answer_pairing(pairing, "deny").status_code == 200
    before = row(pairing)
    refused(claim(phone, pairing.id), "not_pending", 409)
    refused(claim(enrolled(), pairing.id), "not_found", 404)
    assert row(pairing) == before and before[1] == Pairing.DENIED


def test_a_pairing_the_site_removed_cannot_be_claimed(phone: DeviceClient) -> None:
    pairing = qr_pairing()
    phones.deactivate_pairing(str(pairing.id), by="requester")
    before = row(pairing)
    refused(claim(phone, pairing.id), "not_pending", 409)
    assert row(pairing) == before and before[0] is None


def test_a_claim_takes_no_body_and_no_query(phone: DeviceClient) -> None:
    pairing = qr_pairing()
    before = row(pairing)
    refused(claim(phone, pairing.id, body=b"{}"), "malformed", 400)
    path = f"{API}/pairings/{pairing.id}/claim?x=1"
    refused(phone.call("POST", path), "malformed", 400)
    refused(phone.call("GET", f"{API}/pairings/{pairing.id}/claim"), "method_not_allowed", 405)
    assert row(pairing) == before


def test_of_two_devices_claiming_at_once_one_gets_it(
    phone: DeviceClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The other device claims between this call's read and its write: not found here."""
    pairing = qr_pairing()
    other = enrolled()
    real_claim = phones.claim_pairing

    def other_first(found: Pairing, to: Phone, *, exclusive: bool = False) -> bool:
        assert real_claim(found, phone_of(other), exclusive=True)
        return real_claim(found, to, exclusive=exclusive)

    monkeypatch.setattr(devices.phones, "claim_pairing", other_first)
    refused(claim(phone, pairing.id), "not_found", 404)
    assert row(pairing)[0] == phone_of(other).pk


def test_the_sandboxs_claim_still_takes_any_pending_pairing() -> None:
    """Without ``exclusive`` (the simulator's scan), a second phone takes the pairing."""
    pairing = qr_pairing()
    first, second = phones.create_phone("A"), phones.create_phone("B")
    assert phones.claim_pairing(pairing, first, exclusive=True)
    assert not phones.claim_pairing(pairing, second, exclusive=True)
    assert phones.claim_pairing(pairing, second)
    assert row(pairing)[0] == second.pk


# --- a code can be scanned for a while, not for ever ------------------------------------


def aged(pairing: Pairing, seconds: float) -> Pairing:
    """``pairing`` as if made ``seconds`` ago."""
    Pairing.objects.filter(pk=pairing.pk).update(
        created=timezone.now() - timedelta(seconds=seconds)
    )
    return Pairing.objects.select_related("requester", "user").get(pk=pairing.pk)


def test_a_code_older_than_its_max_age_is_refused_and_changes_nothing(
    phone: DeviceClient,
) -> None:
    pairing = aged(qr_pairing(), lifecycle.DEFAULT_QR_PAIRING_MAX_AGE + 1)
    before = row(pairing)
    response = claim(phone, pairing.id)
    refused(response, "not_pending", 409)
    assert "expired" in response.json()["message"]
    assert row(pairing) == before and before[0] is None


def test_a_code_within_its_max_age_is_claimed(phone: DeviceClient) -> None:
    pairing = aged(qr_pairing(), lifecycle.DEFAULT_QR_PAIRING_MAX_AGE - 5)
    assert claim(phone, pairing.id).status_code == 200
    assert row(pairing)[0] == phone_of(phone).pk


@override_settings(TOOPHER_SERVER_QR_PAIRING_MAX_AGE=60)
def test_the_max_age_of_a_code_is_a_setting(phone: DeviceClient) -> None:
    pairing = aged(qr_pairing(), 61)
    refused(claim(phone, pairing.id), "not_pending", 409)


def test_a_code_scanned_in_time_can_be_answered_after_its_max_age(phone: DeviceClient) -> None:
    pairing = qr_pairing()
    assert claim(phone, pairing.id).status_code == 200
    pairing = aged(pairing, lifecycle.DEFAULT_QR_PAIRING_MAX_AGE + 60)
    assert claim(phone, pairing.id).status_code == 200  # the holder scanning again
    assert phone.answer_pairing(pairing, "allow").json()["state"] == "enabled"
    assert row(pairing)[1] == Pairing.ENABLED


def test_no_phone_claims_an_expired_code_the_simulators_scan_included() -> None:
    """The rule is in the one UPDATE every scan goes through (a device's, the phone
    simulator's, the sandbox's QR link page)."""
    pairing = aged(qr_pairing(), lifecycle.DEFAULT_QR_PAIRING_MAX_AGE + 1)
    phone = phones.create_phone("Late")
    assert not phones.claim_pairing(pairing, phone)
    assert not phones.claim_pairing(pairing, phone, exclusive=True)
    assert row(pairing)[0] is None
