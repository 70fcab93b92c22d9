"""The device API: approvals come only from an enrolled device with a valid signature.

Every refusal is checked the same way: the error code, and the row unchanged.
"""

from __future__ import annotations

import base64
import json
import time
from typing import Any

import pytest
from django.core.cache import cache
from django.test import override_settings

from toopher_server import device_nonces, service, totp
from toopher_server.models import AuthenticationRequest, Device, DeviceNonce, Pairing, Phone
from toopher_server.testing import SignedDevice

from .device_client import (
    API,
    DeviceClient,
    authentication,
    new_requester,
    paired,
    simulated_phone_pairing,
)

pytestmark = [pytest.mark.django_db, pytest.mark.urls("tests.server.urls")]


@pytest.fixture(autouse=True)
def _fresh_rate_limits() -> None:
    cache.clear()


@pytest.fixture
def phone() -> DeviceClient:
    client = DeviceClient()
    assert client.enrol().status_code == 201
    return client


def row(auth: AuthenticationRequest) -> tuple[Any, ...]:
    fresh = AuthenticationRequest.objects.get(pk=auth.pk)
    return (fresh.pending, fresh.granted, fresh.reason, fresh.cancelled, fresh.modified)


def refused(response: Any, code: str, status: int) -> None:
    assert response.status_code == status, response.content
    body = response.json()
    assert body["error"] == code
    assert isinstance(body["server_time"], int)


# --- enrolment ------------------------------------------------------------------------


def test_enrolment_makes_a_device_and_its_phone() -> None:
    client = DeviceClient(label="Ann's phone")
    response = client.enrol()
    assert response.status_code == 201
    assert response.json()["device_id"] == client.device.device_id
    device = Device.objects.get(pk=client.device.device_id)
    assert device.label == "Ann's phone" and device.phone.name == "Ann's phone"
    assert device.public_jwk == client.device.key.public_jwk
    assert response["Cache-Control"].startswith("max-age=0")


def test_enrolling_again_is_the_same_device() -> None:
    client = DeviceClient()
    assert client.enrol().status_code == 201
    assert client.enrol().status_code == 200
    assert Device.objects.count() == 1 and Phone.objects.count() == 1


def test_enrolment_by_spki() -> None:
    client = DeviceClient()
    spki = base64.b64encode(client.device.key.spki_der).decode()
    response = client.call("POST", f"{API}/devices", json.dumps({"spki": spki}).encode())
    assert response.status_code == 201
    assert Device.objects.get().label == ""


def test_enrolment_must_be_signed_by_the_key_it_carries() -> None:
    client, other = DeviceClient(), SignedDevice()
    body = json.dumps({"jwk": other.key.public_jwk}).encode()
    refused(client.call("POST", f"{API}/devices", body), "unknown_device", 401)
    refused(client.call("POST", f"{API}/devices", body, sign=False), "unsigned", 401)
    assert not Device.objects.exists() and not Phone.objects.exists()
    assert not DeviceNonce.objects.exists()


@pytest.mark.parametrize(
    "body, code",
    [
        (b"not json", "malformed"),
        (b"[]", "malformed"),
        (b"{}", "malformed"),
        (b'{"jwk": {"kty": "RSA"}}', "invalid_key"),
        (b'{"jwk": "x"}', "invalid_key"),
        (b'{"spki": "AAAA"}', "invalid_key"),
    ],
)
def test_a_bad_enrolment_body_changes_nothing(body: bytes, code: str) -> None:
    refused(DeviceClient().call("POST", f"{API}/devices", body), code, 400)
    assert not Device.objects.exists() and not Phone.objects.exists()


def test_a_private_key_is_refused() -> None:
    client = DeviceClient()
    jwk = dict(client.device.key.public_jwk, d="AAAA")
    response = client.call("POST", f"{API}/devices", json.dumps({"jwk": jwk}).encode())
    refused(response, "invalid_key", 400)


@override_settings(TOOPHER_SERVER_RATE_LIMITS={"enrol": {"address": (3, 3600)}})
def test_enrolment_is_rate_limited_per_client_address() -> None:
    for _ in range(3):
        assert DeviceClient().enrol().status_code == 201
    late = DeviceClient()
    refused(late.enrol(), "rate_limited", 429)
    assert not Device.objects.filter(pk=late.device.device_id).exists()
    elsewhere = DeviceClient()
    elsewhere.client = type(elsewhere.client)(REMOTE_ADDR="192.0.2.7")
    assert elsewhere.enrol().status_code == 201


def test_an_unknown_device_cannot_call() -> None:
    refused(DeviceClient().call("GET", f"{API}/devices/me"), "unknown_device", 401)


def test_this_device(phone: DeviceClient) -> None:
    response = phone.call("GET", f"{API}/devices/me")
    assert response.status_code == 200
    assert response.json()["device_id"] == phone.device.device_id


# --- pairing --------------------------------------------------------------------------


def test_pair_by_phrase_then_allow_on_the_device(phone: DeviceClient) -> None:
    requester = new_requester()
    phrase = phone.phrase()
    pairing = service.pair_user_with_phrase(requester, "alice@example.com", phrase)
    listed = phone.call("GET", f"{API}/pairings").json()["pairings"]
    assert [(p["id"], p["site"], p["user"], p["state"]) for p in listed] == [
        (str(pairing.id), "Example Shop", "alice@example.com", "pending")
    ]
    response = phone.answer_pairing(pairing)
    assert response.status_code == 200 and response.json()["state"] == "enabled"
    assert phone.call("GET", f"{API}/pairings").json()["pairings"] == []
    enabled = phone.call("GET", f"{API}/pairings?state=enabled").json()["pairings"]
    assert [p["id"] for p in enabled] == [str(pairing.id)]
    refused(phone.answer_pairing(pairing, "deny"), "not_pending", 409)
    assert Pairing.objects.get(pk=pairing.pk).state == Pairing.ENABLED


def test_deny_a_pairing(phone: DeviceClient) -> None:
    pairing = service.pair_user_with_phrase(new_requester(), "ann", phone.phrase())
    assert phone.answer_pairing(pairing, "deny").json()["state"] == "denied"


def test_a_pairing_answer_must_show_the_site_and_account(phone: DeviceClient) -> None:
    pairing = service.pair_user_with_phrase(new_requester(), "ann", phone.phrase())
    body = json.dumps(
        {"decision": "allow", "pairing_id": str(pairing.id), "site": "Evil", "user": "ann"},
        sort_keys=True,
        separators=(",", ":"),
    ).encode()
    response = phone.call("POST", f"{API}/pairings/{pairing.id}/decision", body)
    refused(response, "mismatch", 409)
    assert Pairing.objects.get(pk=pairing.pk).state == Pairing.PENDING


def test_a_pairing_on_another_device_is_not_found(phone: DeviceClient) -> None:
    other = DeviceClient()
    other.enrol()
    pairing = service.pair_user_with_phrase(new_requester(), "ann", other.phrase())
    refused(phone.answer_pairing(pairing), "not_found", 404)
    assert Pairing.objects.get(pk=pairing.pk).state == Pairing.PENDING
    refused(phone.call("GET", f"{API}/pairings/{pairing.id}/otp_seed"), "not_found", 404)


def test_a_second_phone_pairs_the_same_user(phone: DeviceClient) -> None:
    requester = new_requester()
    second = DeviceClient()
    second.enrol()
    first_pairing = paired(requester, phone, "ann")
    second_pairing = paired(requester, second, "ann")
    assert first_pairing.user_id == second_pairing.user_id
    assert first_pairing.usable and second_pairing.usable


def test_the_otp_seed_gives_the_codes_the_service_accepts(phone: DeviceClient) -> None:
    pairing = paired(new_requester(), phone)
    seed = phone.call("GET", f"{API}/pairings/{pairing.id}/otp_seed").json()
    assert (seed["algorithm"], seed["digits"], seed["period"]) == ("SHA1", 6, 30)
    assert seed["uri"].startswith("otpauth://totp/Example%20Shop:alice%40example.com?secret=")
    assert totp.verify(pairing.otp_secret, totp.totp(seed["secret"]))


def test_no_otp_seed_for_a_pending_pairing(phone: DeviceClient) -> None:
    pairing = service.pair_user_with_phrase(new_requester(), "ann", phone.phrase())
    refused(phone.call("GET", f"{API}/pairings/{pairing.id}/otp_seed"), "not_found", 404)


# --- authentication requests ----------------------------------------------------------


def test_list_shows_what_the_phone_shows_newest_first(phone: DeviceClient) -> None:
    requester = new_requester()
    pairing = paired(requester, phone)
    older = authentication(requester, pairing, "Firefox on Linux")
    newer = authentication(requester, pairing, "Safari on iPhone")
    listed = phone.call("GET", f"{API}/authentication_requests?state=pending&limit=20").json()
    shown = [
        (r["id"], r["site"], r["user"], r["action"], r["terminal"], r["state"])
        for r in listed["authentication_requests"]
    ]
    assert shown == [
        (
            str(newer.id),
            "Example Shop",
            "alice@example.com",
            "Log in",
            "Safari on iPhone",
            "pending",
        ),
        (
            str(older.id),
            "Example Shop",
            "alice@example.com",
            "Log in",
            "Firefox on Linux",
            "pending",
        ),
    ]
    assert all(r["age"] >= 0 and r["expires_in"] > 0 for r in listed["authentication_requests"])
    one = phone.call("GET", f"{API}/authentication_requests?limit=1").json()
    assert len(one["authentication_requests"]) == 1


@pytest.mark.parametrize(
    "decision, granted, reason",
    [
        ("allow", True, ""),
        ("deny", False, "Denied on the phone"),
        ("not_me", False, "Denied on the phone: this wasn't me"),
    ],
)
def test_a_signed_decision_answers_the_request(
    phone: DeviceClient, decision: str, granted: bool, reason: str
) -> None:
    requester = new_requester()
    auth = authentication(requester, paired(requester, phone))
    response = phone.decide(auth, decision)
    assert response.status_code == 200, response.content
    assert response.json()["state"] == ("granted" if granted else "denied")
    fresh = AuthenticationRequest.objects.get(pk=auth.pk)
    assert (fresh.pending, fresh.granted, fresh.reason) == (False, granted, reason)
    status = service.get_authentication_request(requester, str(auth.id))
    assert (status.pending, status.granted) == (False, granted)


def test_an_unsigned_approval_changes_nothing(phone: DeviceClient) -> None:
    requester = new_requester()
    auth = authentication(requester, paired(requester, phone))
    before = row(auth)
    body = phone.decision_body(auth)
    path = f"{API}/authentication_requests/{auth.id}/decision"
    refused(phone.call("POST", path, body, sign=False), "unsigned", 401)
    assert row(auth) == before


def test_a_replayed_approval_changes_nothing(phone: DeviceClient) -> None:
    requester = new_requester()
    auth = authentication(requester, paired(requester, phone))
    body = phone.decision_body(auth, "deny")
    path = f"{API}/authentication_requests/{auth.id}/decision"
    headers = phone.device.headers_for("POST", path, body)
    assert phone.call("POST", path, body, sign=False, headers=headers).status_code == 200
    AuthenticationRequest.objects.filter(pk=auth.pk).update(pending=True, granted=False)
    before = row(auth)
    refused(phone.call("POST", path, body, sign=False, headers=headers), "replay", 401)
    assert row(auth) == before


def test_an_approval_signed_by_another_device_changes_nothing(phone: DeviceClient) -> None:
    requester = new_requester()
    auth = authentication(requester, paired(requester, phone))
    before = row(auth)
    intruder = DeviceClient()
    intruder.enrol()
    refused(intruder.decide(auth), "not_found", 404)
    # The phone's id with the intruder's key: the signature does not verify.
    body = phone.decision_body(auth)
    path = f"{API}/authentication_requests/{auth.id}/decision"
    forged = intruder.device.headers_for("POST", path, body)
    value = forged["Toopher-Device-Signature"].replace(
        intruder.device.device_id, phone.device.device_id
    )
    response = phone.call(
        "POST", path, body, sign=False, headers={"Toopher-Device-Signature": value}
    )
    refused(response, "bad_signature", 401)
    assert row(auth) == before


def test_an_approval_for_another_users_request_changes_nothing(phone: DeviceClient) -> None:
    requester = new_requester()
    paired(requester, phone, "alice@example.com")
    bob = simulated_phone_pairing(requester, "bob@example.com")
    auth = authentication(requester, bob)
    before = row(auth)
    refused(phone.decide(auth), "not_found", 404)
    refused(phone.call("GET", f"{API}/authentication_requests/{auth.id}"), "not_found", 404)
    assert row(auth) == before


def test_a_request_of_a_pairing_not_on_this_device_changes_nothing(phone: DeviceClient) -> None:
    requester = new_requester()
    second = DeviceClient()
    second.enrol()
    paired(requester, phone, "ann")
    other = paired(requester, second, "ann")  # the same user, the other phone
    auth = authentication(requester, other)
    before = row(auth)
    refused(phone.decide(auth), "not_found", 404)
    assert row(auth) == before
    assert phone.call("GET", f"{API}/authentication_requests").json() == {
        "authentication_requests": []
    }


@pytest.mark.parametrize("how", ["answered", "cancelled", "expired"])
def test_an_approval_of_a_request_no_longer_pending_changes_nothing(
    phone: DeviceClient, how: str
) -> None:
    requester = new_requester()
    auth = authentication(requester, paired(requester, phone))
    if how == "answered":
        assert phone.decide(auth, "deny").status_code == 200
    elif how == "cancelled":
        service.cancel(requester, auth)
    else:
        with override_settings(TOOPHER_SERVER_REQUEST_EXPIRY=0):
            service.get_authentication_request(requester, str(auth.id))
    before = row(auth)
    refused(phone.decide(auth, "allow"), "not_pending", 409)
    assert row(auth) == before
    assert AuthenticationRequest.objects.get(pk=auth.pk).granted is False


@pytest.mark.parametrize(
    "change",
    [
        {"site": "Another Shop"},
        {"user": "mallory@example.com"},
        {"action": "Change email"},
        {"terminal": "Chrome on Windows"},
        {"code": "12"},
    ],
)
def test_a_decision_that_does_not_match_the_request_changes_nothing(
    phone: DeviceClient, change: dict[str, str]
) -> None:
    requester = new_requester()
    auth = authentication(requester, paired(requester, phone))
    before = row(auth)
    refused(phone.decide(auth, **change), "mismatch", 409)
    assert row(auth) == before


def test_a_decision_for_another_id_than_its_path_changes_nothing(phone: DeviceClient) -> None:
    requester = new_requester()
    pairing = paired(requester, phone)
    first, second = authentication(requester, pairing), authentication(requester, pairing)
    body = phone.decision_body(first)
    response = phone.call("POST", f"{API}/authentication_requests/{second.id}/decision", body)
    refused(response, "mismatch", 409)
    assert row(first)[0] and row(second)[0]


def test_a_non_canonical_decision_changes_nothing(phone: DeviceClient) -> None:
    requester = new_requester()
    auth = authentication(requester, paired(requester, phone))
    before = row(auth)
    spaced = json.dumps(json.loads(phone.decision_body(auth))).encode()
    path = f"{API}/authentication_requests/{auth.id}/decision"
    refused(phone.call("POST", path, spaced), "malformed", 400)
    assert row(auth) == before


def test_a_simulated_phone_has_no_device_api() -> None:
    """The sandbox's unkeyed phones answer only on the sandbox's own pages."""
    pairing = simulated_phone_pairing(new_requester())
    assert not Device.objects.exists() and pairing.phone is not None


# --- the one-time ids -----------------------------------------------------------------


def test_one_time_ids_are_kept_in_the_database_and_cleaned(phone: DeviceClient) -> None:
    phone.call("GET", f"{API}/devices/me")
    assert DeviceNonce.objects.filter(device=phone.device.device_id).count() == 2
    assert device_nonces.delete_expired(now=0) == 0
    assert device_nonces.delete_expired(now=4_000_000_000) == 2
    assert not DeviceNonce.objects.exists()


def test_the_seen_ids_refuse_a_second_insert() -> None:
    seen = device_nonces.DatabaseSeenIds()
    assert seen.add("dev", "n" * 22, 2_000_000_000) is True
    assert seen.add("dev", "n" * 22, 2_000_000_000) is False
    assert seen.add("other", "n" * 22, 2_000_000_000) is True


# --- the shape of errors --------------------------------------------------------------


def test_unknown_paths_and_methods_answer_device_json(phone: DeviceClient) -> None:
    refused(phone.call("GET", "/app/api/v1/nothing"), "not_found", 404)
    refused(phone.call("GET", "/app/api"), "not_found", 404)
    response = phone.call("DELETE", f"{API}/devices/me")
    refused(response, "method_not_allowed", 405)
    assert response["Allow"] == "GET"


def test_bad_query_parameters_are_malformed(phone: DeviceClient) -> None:
    for query in ["state=done", "limit=0", "limit=101", "limit=x", "other=1", "limit=1&limit=2"]:
        refused(phone.call("GET", f"{API}/authentication_requests?{query}"), "malformed", 400)


def test_a_too_large_body_is_refused(phone: DeviceClient) -> None:
    response = phone.call("POST", f"{API}/pairing_phrases", b"x" * 20_000)
    refused(response, "too_large", 413)


def test_the_clock_window_is_the_services_setting(phone: DeviceClient) -> None:
    late = SignedDevice(phone.device.key, clock=lambda: time.time() - 30)
    behind = DeviceClient(late)
    assert behind.call("GET", f"{API}/devices/me").status_code == 200
    with override_settings(TOOPHER_SERVER_DEVICE_MAX_AGE=20):
        refused(behind.call("GET", f"{API}/devices/me"), "stale", 401)


def test_too_many_query_fields_are_malformed(phone: DeviceClient) -> None:
    query = "&".join(["a"] * 1001)  # one more than Django parses; the path still signs
    refused(phone.call("GET", f"{API}/pairings?{query}"), "malformed", 400)


@override_settings(
    MIDDLEWARE=[
        "toopher_server.middleware.JsonApiErrorsMiddleware",
        "django.middleware.common.CommonMiddleware",
    ],
    ALLOWED_HOSTS=["toopher.example.com"],
)
def test_djangos_own_early_errors_answer_device_json(phone: DeviceClient) -> None:
    """A bad Host is refused by Django before any view: still the device API's JSON."""
    fresh = DeviceClient(phone.device)  # a client loads the middleware at its first call
    refused(fresh.call("GET", f"{API}/devices/me"), "malformed", 400)
    toopher_api = fresh.client.get("/v1/users")
    assert toopher_api.status_code == 400 and toopher_api.json()["error_code"] == 400
