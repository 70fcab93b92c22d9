"""Pushes go out after the commit, encrypted to the device, with the documented headers;
gone subscriptions are dropped; "This wasn't me" holds a user's pushes.

The push service is :class:`~tests.push.fakepush.FakePushService` on loopback; the
payload is decrypted here with the browser's keys, to prove it is exactly the id.
"""

from __future__ import annotations

import base64
import json
from datetime import timedelta
from typing import Any

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature
from django.db import transaction
from django.test import Client, override_settings

from toopher_server import lifecycle
from toopher_server.models import AuthenticationRequest, PushHold, PushSubscription
from toopher_server.push import sending, vapid

from ..server.calls import Site
from ..server.device_client import API, DeviceClient, authentication, new_requester, paired
from ..server.test_device_more import invite, join
from .fakepush import BrowserKeys, FakePushService, unb64url

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.urls("tests.server.urls")]


def subscribe(phone: DeviceClient, endpoint: str) -> BrowserKeys:
    keys = BrowserKeys()
    body = json.dumps(keys.subscription(endpoint)).encode()
    response = phone.call("PUT", f"{API}/push", body)
    assert response.status_code == 200, response.content
    return keys


def made(requester: Any, pairing: Any) -> AuthenticationRequest:
    """A new request, once its push is done (the test's next query never races the
    push thread's write: SQLite's in-memory test database locks whole tables)."""
    auth = authentication(requester, pairing)
    assert sending.drain(10)
    return auth


def state(auth: AuthenticationRequest) -> str:
    assert sending.drain(10)
    return AuthenticationRequest.objects.get(pk=auth.pk).push_state


@pytest.fixture
def setup(phone: DeviceClient, fake_push: FakePushService) -> Any:
    requester = new_requester()
    pairing = paired(requester, phone)
    keys = subscribe(phone, fake_push.endpoint())
    return requester, pairing, keys


def verify_vapid(header: str, endpoint_origin: str) -> None:
    """``vapid t=<JWT>, k=<key>``: signed by the service's key, for this push service."""
    fields = dict(part.strip().split("=", 1) for part in header.removeprefix("vapid ").split(","))
    assert fields["k"] == vapid.public_key()
    head, claims, signature = fields["t"].split(".")
    raw = unb64url(signature)
    point = unb64url(fields["k"])
    key = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), point)
    der = encode_dss_signature(int.from_bytes(raw[:32], "big"), int.from_bytes(raw[32:], "big"))
    key.verify(der, f"{head}.{claims}".encode(), ec.ECDSA(hashes.SHA256()))  # raises if forged
    decoded = json.loads(base64.urlsafe_b64decode(claims + "=" * (-len(claims) % 4)))
    assert decoded["aud"] == endpoint_origin
    assert decoded["sub"].startswith("mailto:")


def test_a_new_request_wakes_the_device_with_its_id_only(setup: Any, fake_push: Any) -> None:
    requester, pairing, keys = setup
    auth = made(requester, pairing)
    (push,) = fake_push.wait_for(1)
    assert keys.decrypt(push.body) == {"request_id": str(auth.id)}
    assert push.path == "/push/device"
    assert push.headers["content-encoding"] == "aes128gcm"
    assert push.headers["urgency"] == "high"
    remaining = (lifecycle.expires_at(auth) - auth.created).total_seconds()
    assert 0 < int(push.headers["ttl"]) <= remaining
    topic = push.headers["topic"]
    assert 0 < len(topic) <= 32 and set(topic) <= set(
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    )
    verify_vapid(push.headers["authorization"], f"http://127.0.0.1:{fake_push.port}")
    assert state(auth) == sending.SENT
    assert AuthenticationRequest.objects.get(pk=auth.pk).push_state_at is not None


def test_the_topic_is_the_devices_and_differs_between_devices() -> None:
    assert sending.topic("a") == sending.topic("a") != sending.topic("b")


def test_the_push_waits_for_the_commit_and_a_rollback_sends_none(
    setup: Any, fake_push: FakePushService
) -> None:
    requester, pairing, keys = setup
    with pytest.raises(RuntimeError), transaction.atomic():
        authentication(requester, pairing)
        raise RuntimeError("rolled back")
    assert sending.drain(10)
    assert fake_push.received == []
    with transaction.atomic():
        auth = authentication(requester, pairing)
        assert sending.drain(10) and fake_push.received == []  # not before the commit
        assert AuthenticationRequest.objects.get(pk=auth.pk).push_state == sending.QUEUED
    (push,) = fake_push.wait_for(1)
    assert keys.decrypt(push.body) == {"request_id": str(auth.id)}


def test_initiate_through_api_v1_pushes_after_answering(
    phone: DeviceClient, fake_push: FakePushService
) -> None:
    """The whole server side: a signed API v1 initiate, then the push."""
    site = Site(Client())
    pairing = paired(site.requester, phone)
    keys = subscribe(phone, fake_push.endpoint())
    response = site.call("POST", "authentication_requests/initiate", {
        "pairing_id": str(pairing.id), "terminal_name": "Laptop", "action_name": "Log in",
    })  # fmt: skip
    assert response.status_code == 200, response.content
    (push,) = fake_push.wait_for(1)
    assert keys.decrypt(push.body) == {"request_id": response.json()["id"]}


@pytest.mark.parametrize("status", [404, 410])
def test_a_gone_subscription_is_deleted(setup: Any, fake_push: Any, status: int) -> None:
    requester, pairing, _ = setup
    fake_push.status = status
    auth = made(requester, pairing)
    fake_push.wait_for(1)
    assert state(auth) == sending.FAILED
    assert not PushSubscription.objects.exists()
    again = made(requester, pairing)
    assert state(again) == sending.NONE


def test_another_failure_is_recorded_and_the_subscription_kept(
    setup: Any, fake_push: Any
) -> None:
    requester, pairing, _ = setup
    fake_push.status = 500
    auth = made(requester, pairing)
    fake_push.wait_for(1)
    assert state(auth) == sending.FAILED
    assert PushSubscription.objects.count() == 1


def test_a_push_service_that_does_not_answer_times_out(setup: Any, fake_push: Any) -> None:
    requester, pairing, _ = setup
    fake_push.hold = 2.0
    with override_settings(TOOPHER_SERVER_PUSH_TIMEOUT=0.3):
        auth = made(requester, pairing)
        assert state(auth) == sending.FAILED
    assert PushSubscription.objects.count() == 1


def test_an_unreachable_push_service_fails_cleanly(phone: DeviceClient) -> None:
    requester = new_requester()
    pairing = paired(requester, phone)
    subscribe(phone, "http://127.0.0.1:9/push/closed")  # discard port: refused
    auth = made(requester, pairing)
    assert state(auth) == sending.FAILED


def test_no_subscription_no_push(phone: DeviceClient, fake_push: Any) -> None:
    requester = new_requester()
    pairing = paired(requester, phone)
    auth = made(requester, pairing)
    assert state(auth) == sending.NONE
    assert fake_push.received == []


def test_another_devices_subscription_gets_nothing(setup: Any, fake_push: Any) -> None:
    requester, pairing, _ = setup
    other = DeviceClient()
    assert other.enrol().status_code == 201
    subscribe(other, fake_push.endpoint("other"))
    made(requester, pairing)
    assert sending.drain(10)
    assert [p.path for p in fake_push.received] == ["/push/device"]


def test_not_me_holds_the_users_pushes(setup: Any, fake_push: Any, phone: DeviceClient) -> None:
    requester, pairing, _ = setup
    first = made(requester, pairing)
    fake_push.wait_for(1)
    response = phone.decide(first, "not_me")
    assert response.status_code == 200, response.content
    hold = PushHold.objects.get(user=pairing.user)
    assert timedelta(minutes=14) < hold.until - first.created <= timedelta(minutes=16)

    held = made(requester, pairing)
    assert state(held) == sending.HELD
    assert len(fake_push.received) == 1
    listed = phone.call("GET", f"{API}/authentication_requests").json()
    assert str(held.id) in [r["id"] for r in listed["authentication_requests"]]

    PushHold.objects.filter(user=pairing.user).update(until=hold.until - timedelta(hours=1))
    after = made(requester, pairing)
    assert state(after) == sending.SENT
    assert len(fake_push.wait_for(2)) == 2


def test_deny_does_not_hold(setup: Any, fake_push: Any, phone: DeviceClient) -> None:
    requester, pairing, _ = setup
    first = made(requester, pairing)
    assert phone.decide(first, "deny").status_code == 200
    assert not PushHold.objects.exists()
    assert state(made(requester, pairing)) == sending.SENT


def test_the_hold_is_a_setting(setup: Any, phone: DeviceClient) -> None:
    requester, pairing, _ = setup
    with override_settings(TOOPHER_SERVER_NOT_ME_PUSH_HOLD=0):
        assert phone.decide(made(requester, pairing), "not_me").status_code == 200
        assert state(made(requester, pairing)) == sending.SENT


def test_a_request_expired_in_the_queue_is_not_pushed(setup: Any, fake_push: Any) -> None:
    requester, pairing, _ = setup
    auth = made(requester, pairing)
    assert sending.drain(10)
    job = sending.Job(str(auth.id), auth.created - timedelta(seconds=1), ())
    AuthenticationRequest.objects.filter(pk=auth.pk).update(push_state=sending.QUEUED)
    assert sending.deliver(job) == sending.FAILED
    assert len(fake_push.received) == 1


def test_health_counts_pushes_and_subscriptions(setup: Any, fake_push: Any) -> None:
    requester, pairing, _ = setup
    made(requester, pairing)
    fake_push.wait_for(1)
    assert sending.drain(10)
    fake_push.status = 500
    made(requester, pairing)
    assert sending.drain(10)
    counts = Client().get("/health").json()
    assert counts["pushes_sent_last_hour"] == 1
    assert counts["pushes_failed_last_hour"] == 1
    assert counts["pushes_held_last_hour"] == 0
    assert counts["push_subscriptions"] == 1
    assert counts["pending_requests"] == 2


class _FullQueue:
    def submit(self, job: Any) -> bool:
        return False


class _BrokenQueue:
    def submit(self, job: Any) -> bool:
        raise RuntimeError("broken")


def test_a_full_queue_fails_the_push_at_once(setup: Any, monkeypatch: Any) -> None:
    requester, pairing, _ = setup
    monkeypatch.setattr(sending, "_queue", _FullQueue)
    auth = made(requester, pairing)
    assert AuthenticationRequest.objects.get(pk=auth.pk).push_state == sending.FAILED


def test_a_push_that_cannot_be_queued_leaves_the_api_answer_alone(
    phone: DeviceClient, fake_push: FakePushService, monkeypatch: Any
) -> None:
    site = Site(Client())
    pairing = paired(site.requester, phone)
    subscribe(phone, fake_push.endpoint())
    monkeypatch.setattr(sending, "_queue", _BrokenQueue)
    response = site.call("POST", "authentication_requests/initiate", {
        "pairing_id": str(pairing.id), "terminal_name": "Laptop", "action_name": "Log in",
    })  # fmt: skip
    assert response.status_code == 200, response.content
    row = AuthenticationRequest.objects.get(pk=response.json()["id"])
    assert row.pending and row.push_state == sending.QUEUED  # /health counts it


def test_every_device_of_the_phone_is_woken(
    setup: Any, fake_push: Any, phone: DeviceClient
) -> None:
    """A second device joined to the same phone (protocol §9.14) gets its own push."""
    requester, pairing, first_keys = setup
    second = DeviceClient(label="Second phone")
    assert second.enrol().status_code == 201
    assert join(second, invite(phone)).status_code == 200
    second_keys = subscribe(second, fake_push.endpoint("second"))
    auth = made(requester, pairing)
    pushes = {p.path: p for p in fake_push.wait_for(2)}
    assert first_keys.decrypt(pushes["/push/device"].body) == {"request_id": str(auth.id)}
    assert second_keys.decrypt(pushes["/push/second"].body) == {"request_id": str(auth.id)}
    assert pushes["/push/device"].headers["topic"] != pushes["/push/second"].headers["topic"]
    assert state(auth) == sending.SENT
