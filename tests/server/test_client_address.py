"""The client address behind trusted proxies, and the per-address enrolment limit.

A forged ``X-Forwarded-For`` must never move a client into another address's budget:
with no trusted proxy the header is ignored; with one, only its last entry counts.
"""

from __future__ import annotations

import json

import pytest
from django.core.cache import cache
from django.core.exceptions import ImproperlyConfigured
from django.test import Client, RequestFactory, override_settings

from toopher_server import ratelimit
from toopher_server.client_address import UNKNOWN, client_address
from toopher_server.models import Device

from .device_client import API, DeviceClient

pytestmark = [pytest.mark.urls("tests.server.urls")]

ENROL_TWICE = override_settings(TOOPHER_SERVER_RATE_LIMITS={"enrol": {"address": (2, 3600)}})


@pytest.fixture(autouse=True)
def _fresh_counters() -> None:
    cache.clear()


def address(remote: str = "10.0.0.1", forwarded: str | None = None) -> str:
    extra = {} if forwarded is None else {"HTTP_X_FORWARDED_FOR": forwarded}
    return client_address(RequestFactory().get("/", REMOTE_ADDR=remote, **extra))


def test_without_trusted_proxies_the_header_is_ignored() -> None:
    assert address("192.0.2.1", "203.0.113.5") == "192.0.2.1"
    assert address("192.0.2.1") == "192.0.2.1"


@override_settings(TOOPHER_SERVER_TRUSTED_PROXIES=1)
def test_one_proxy_trusts_only_the_last_entry() -> None:
    assert address("10.0.0.1", "203.0.113.5") == "203.0.113.5"
    # the client forged the first two entries; the proxy appended the real one
    assert address("10.0.0.1", "198.51.100.1, 198.51.100.2,203.0.113.5") == "203.0.113.5"
    assert address("10.0.0.1") == "10.0.0.1"  # no header: the proxy's peer itself
    assert address("10.0.0.1", "not-an-ip") == "10.0.0.1"
    assert address("10.0.0.1", " , ") == "10.0.0.1"


@override_settings(TOOPHER_SERVER_TRUSTED_PROXIES=2)
def test_two_proxies_take_the_second_entry_from_the_right() -> None:
    assert address("10.0.0.2", "198.51.100.9, 203.0.113.5, 10.0.0.1") == "203.0.113.5"
    assert address("10.0.0.2", "203.0.113.5") == "203.0.113.5"  # fewer entries than proxies


def test_a_remote_address_that_is_not_an_ip_is_unknown() -> None:
    assert address("") == UNKNOWN
    assert address("a-unix-socket") == UNKNOWN
    assert address("2001:DB8::1") == "2001:db8::1"


@pytest.mark.parametrize("value", [-1, "1", 1.5, True])
def test_a_malformed_proxy_count_is_refused(value: object) -> None:
    with override_settings(TOOPHER_SERVER_TRUSTED_PROXIES=value):
        with pytest.raises(ImproperlyConfigured):
            address()


def test_the_enrol_limit_is_a_named_limit_of_ratelimit() -> None:
    assert ratelimit.rate_limits()[ratelimit.ENROL] == {
        ratelimit.ADDRESS: ratelimit.Limit(10, 3600)
    }
    with override_settings(TOOPHER_SERVER_RATE_LIMITS={"enrol": {"user": (1, 1)}}):
        with pytest.raises(ImproperlyConfigured):
            ratelimit.rate_limits()


def enrol_from(remote: str, forwarded: str | None = None) -> int:
    client = DeviceClient()
    client.client = Client(REMOTE_ADDR=remote)
    headers = {} if forwarded is None else {"X-Forwarded-For": forwarded}
    body = json.dumps({"jwk": client.device.key.public_jwk}).encode()
    return int(client.call("POST", f"{API}/devices", body, headers=headers).status_code)


@pytest.mark.django_db
@ENROL_TWICE
def test_a_forged_header_does_not_escape_the_limit_without_proxies() -> None:
    assert [enrol_from("192.0.2.1", f"203.0.113.{n}") for n in range(3)] == [201, 201, 429]
    assert Device.objects.count() == 2


@pytest.mark.django_db
@ENROL_TWICE
@override_settings(TOOPHER_SERVER_TRUSTED_PROXIES=1)
def test_behind_a_proxy_each_client_has_its_own_budget() -> None:
    proxy = "10.0.0.1"
    assert [enrol_from(proxy, "203.0.113.1") for _ in range(3)] == [201, 201, 429]
    # another user behind the same proxy still has room
    assert enrol_from(proxy, "203.0.113.2") == 201
    # forging entries in front of the proxy's does not change whose budget it is
    assert enrol_from(proxy, "203.0.113.9, 203.0.113.1") == 429
