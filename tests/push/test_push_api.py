"""``app/api/v1/push`` (protocol §9.12): a device's own subscription, checked strictly."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.test import override_settings

from toopher_server.models import PushSubscription
from toopher_server.push import vapid

from ..server.device_client import API, DeviceClient
from .fakepush import BrowserKeys, b64url, unb64url

pytestmark = [pytest.mark.django_db, pytest.mark.urls("tests.server.urls")]

PUSH = f"{API}/push"
GOOD_ENDPOINT = "https://updates.push.services.mozilla.com/wpush/v2/gAAAAABk"


def put(phone: DeviceClient, body: Any) -> Any:
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    return phone.call("PUT", PUSH, raw)


def refused(response: Any, code: str, status: int = 400) -> None:
    assert response.status_code == status, response.content
    assert response.json()["error"] == code


def test_get_gives_the_vapid_key_and_whether_subscribed(phone: DeviceClient) -> None:
    first = phone.call("GET", PUSH)
    assert first.status_code == 200, first.content
    key = first.json()["vapid_public_key"]
    point = unb64url(key)
    assert len(point) == 65 and point[0] == 4
    assert first.json() == {"vapid_public_key": key, "subscribed": False}
    assert phone.call("GET", PUSH).json()["vapid_public_key"] == key  # made once, kept


def test_put_stores_one_subscription_replaced_by_the_next(phone: DeviceClient) -> None:
    keys = BrowserKeys()
    response = put(phone, keys.subscription(GOOD_ENDPOINT))
    assert response.status_code == 200 and response.json() == {"subscribed": True}
    assert phone.call("GET", PUSH).json()["subscribed"] is True
    other = BrowserKeys()
    assert put(phone, other.subscription(GOOD_ENDPOINT + "2")).status_code == 200
    row = PushSubscription.objects.get()
    assert (row.endpoint, row.p256dh, row.auth) == (
        GOOD_ENDPOINT + "2", other.p256dh, b64url(other.auth_secret)
    )


def test_delete_drops_it_and_only_this_devices(phone: DeviceClient) -> None:
    other = DeviceClient()
    assert other.enrol().status_code == 201
    assert put(phone, BrowserKeys().subscription(GOOD_ENDPOINT)).status_code == 200
    assert put(other, BrowserKeys().subscription(GOOD_ENDPOINT + "x")).status_code == 200
    response = phone.call("DELETE", PUSH)
    assert response.status_code == 200 and response.json() == {"subscribed": False}
    assert phone.call("GET", PUSH).json()["subscribed"] is False
    assert other.call("GET", PUSH).json()["subscribed"] is True
    assert list(PushSubscription.objects.values_list("endpoint", flat=True)) == [
        GOOD_ENDPOINT + "x"
    ]


def test_unsigned_or_unenrolled_calls_are_refused(phone: DeviceClient) -> None:
    body = json.dumps(BrowserKeys().subscription(GOOD_ENDPOINT)).encode()
    assert phone.call("PUT", PUSH, body, sign=False).status_code == 401
    stranger = DeviceClient()  # never enrolled
    assert stranger.call("PUT", PUSH, body).status_code in (401, 403)
    assert not PushSubscription.objects.exists()


def test_a_tampered_body_is_refused(phone: DeviceClient) -> None:
    body = json.dumps(BrowserKeys().subscription(GOOD_ENDPOINT)).encode()
    headers = phone.device.headers_for("PUT", PUSH, body)
    other = json.dumps(BrowserKeys().subscription("https://evil.example/")).encode()
    response = phone.client.generic("PUT", PUSH, other, content_type="application/json",
                                    headers=headers)
    assert response.status_code == 401, response.content
    assert not PushSubscription.objects.exists()


@pytest.mark.parametrize(
    "endpoint",
    [
        "http://push.example.com/x",  # not https
        "ftp://push.example.com/x",
        "https://user:pw@push.example.com/x",
        "https:///nohost",
        "https://10.0.0.8/x",  # not a public address
        "https://192.168.1.1/x",
        "https://169.254.169.254/latest/meta-data",
        "https://[fd00::1]/x",
        "https://push.example.com/" + "a" * 2100,
        "https://push.example.com/é",
        "https://push.example.com/x#frag",
        "https://localhost./x",  # names of this machine, or read as addresses
        "https://push.localhost/x",
        "https://2130706433/x",
        "https://0x7f.1/x",
        "https://0177.0.0.1/x",
        "https://[::ffff:10.0.0.1]/x",
        "https://push_service.example.com/x",
        "",
        42,
    ],
)
def test_endpoints_the_service_must_not_post_to_are_refused(
    phone: DeviceClient, endpoint: Any
) -> None:
    refused(put(phone, BrowserKeys().subscription(endpoint)), "invalid_subscription")
    assert not PushSubscription.objects.exists()


def test_loopback_http_only_when_the_setting_allows_it(phone: DeviceClient) -> None:
    subscription = BrowserKeys().subscription("http://127.0.0.1:9/push")
    with override_settings(TOOPHER_SERVER_PUSH_ALLOW_INSECURE_LOOPBACK=False):
        refused(put(phone, subscription), "invalid_subscription")
        for endpoint in ("https://127.0.0.1/x", "https://[::1]/x", "https://localhost/x"):
            refused(put(phone, {**subscription, "endpoint": endpoint}), "invalid_subscription")
    assert put(phone, subscription).status_code == 200


def not_on_curve() -> str:
    point = bytearray(unb64url(BrowserKeys().p256dh))
    point[-1] ^= 1
    return b64url(bytes(point))


@pytest.mark.parametrize(
    "keys",
    [
        {"p256dh": not_on_curve(), "auth": b64url(b"a" * 16)},
        {"p256dh": b64url(b"\x04" + b"\x00" * 64), "auth": b64url(b"a" * 16)},
        {"p256dh": b64url(b"\x02" + b"\x01" * 32), "auth": b64url(b"a" * 16)},  # compressed
        {"p256dh": "not base64!", "auth": b64url(b"a" * 16)},
        {"p256dh": "A" * 200, "auth": b64url(b"a" * 16)},
        {"p256dh": BrowserKeys().p256dh, "auth": b64url(b"a" * 15)},
        {"p256dh": BrowserKeys().p256dh, "auth": b64url(b"a" * 17)},
        {"p256dh": BrowserKeys().p256dh},
        {"p256dh": BrowserKeys().p256dh, "auth": b64url(b"a" * 16), "extra": "x"},
        {"p256dh": 5, "auth": b64url(b"a" * 16)},
        "keys",
    ],
)
def test_keys_that_are_not_a_browsers_are_refused(phone: DeviceClient, keys: Any) -> None:
    body = {"endpoint": GOOD_ENDPOINT, "keys": keys}
    refused(put(phone, body), "invalid_subscription")
    assert not PushSubscription.objects.exists()


def test_bodies_that_are_not_a_subscription_are_refused(phone: DeviceClient) -> None:
    good = BrowserKeys().subscription(GOOD_ENDPOINT)
    refused(put(phone, b"not json"), "malformed")
    refused(put(phone, [good]), "malformed")
    refused(put(phone, {**good, "topic": "x"}), "invalid_subscription")
    refused(phone.call("DELETE", PUSH, b"{}"), "malformed")
    refused(phone.call("GET", f"{PUSH}?x=1"), "malformed")
    refused(phone.call("POST", PUSH, b"{}"), "method_not_allowed", 405)
    assert not PushSubscription.objects.exists()


def test_the_vapid_key_is_sealed_in_the_database(phone: DeviceClient) -> None:
    public = phone.call("GET", PUSH).json()["vapid_public_key"]
    row = vapid.VapidKey.objects.get()
    assert row.public_key == public
    assert "PRIVATE KEY" not in row.private_key_sealed
    assert b"PRIVATE KEY" in vapid.current().private_pem
    assert "PRIVATE" not in repr(vapid.current())
