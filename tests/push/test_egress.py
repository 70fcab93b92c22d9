"""Pushes connect only to public addresses (toopher_server.push.egress): a device's
endpoint whose host *name* leads into the service's network is refused when the push
connects, whatever the name looked like when the device subscribed; no redirect is
followed. Server-side request forgery regressions, each checked by what reached a
listening service on loopback (nothing) and by the push's recorded state.
"""

from __future__ import annotations

import logging
import socket
from collections.abc import Callable
from typing import Any

import pytest
import requests
from django.test import override_settings

from toopher_server.push import egress

from ..server.device_client import new_requester, paired
from .fakepush import FakePushService
from .test_push_sending import made, state, subscribe

NAME = "push.example.com"


@pytest.fixture
def resolve_as(monkeypatch: pytest.MonkeyPatch) -> Callable[..., None]:
    """Make :data:`NAME` resolve to the addresses given (the resolver, not a hosts file:
    what a DNS answer under an attacker's control would say)."""
    real = socket.getaddrinfo

    def install(*addresses: str) -> None:
        def fake(host: Any, port: Any, *args: Any, **kwargs: Any) -> Any:
            if host != NAME:
                return real(host, port, *args, **kwargs)
            return [
                (socket.AF_INET6 if ":" in a else socket.AF_INET, socket.SOCK_STREAM, 6, "",
                 (a, int(port)) if ":" not in a else (a, int(port), 0, 0))
                for a in addresses
            ]

        monkeypatch.setattr(socket, "getaddrinfo", fake)

    return install


def post(url: str) -> requests.Response:
    return egress.session().post(url, data=b"x", timeout=5)


@override_settings(TOOPHER_SERVER_PUSH_ALLOW_INSECURE_LOOPBACK=False)
def test_a_name_that_leads_to_loopback_is_refused_before_connecting(
    fake_push: FakePushService, resolve_as: Callable[..., None]
) -> None:
    resolve_as("127.0.0.1")
    with pytest.raises(requests.ConnectionError) as refused:
        post(f"http://{NAME}:{fake_push.port}/push/device")
    assert egress.refused(refused.value)
    assert "not a public address" in str(refused.value)
    assert fake_push.received == []


def test_the_connection_goes_to_the_address_checked_under_the_name(
    fake_push: FakePushService, resolve_as: Callable[..., None]
) -> None:
    """Loopback allowed (the tests' setting): the same name reaches the listener, and
    the request names the host as the URL did."""
    resolve_as("127.0.0.1")
    assert post(f"http://{NAME}:{fake_push.port}/push/device").status_code == 201
    (received,) = fake_push.wait_for(1)
    assert received.headers["host"] == f"{NAME}:{fake_push.port}"


@pytest.mark.parametrize(
    "addresses",
    [
        ("10.0.0.5",),
        ("192.168.1.1",),
        ("169.254.169.254",),  # a cloud's metadata service
        ("100.64.0.1",),
        ("::ffff:10.0.0.5",),
        ("fd00::1",),
        ("0.0.0.0",),
        ("93.184.215.14", "10.0.0.5"),  # one private address among public ones
    ],
)
def test_a_name_with_any_address_that_is_not_public_is_refused(
    resolve_as: Callable[..., None], addresses: tuple[str, ...]
) -> None:
    resolve_as(*addresses)
    with pytest.raises(requests.ConnectionError) as refused:
        post(f"https://{NAME}/push/device")
    assert egress.refused(refused.value)


def test_a_redirect_is_not_followed(fake_push: FakePushService) -> None:
    inside = FakePushService()  # what the redirect points at: it must hear nothing
    try:
        fake_push.status, fake_push.location = 307, inside.endpoint("internal")
        with pytest.raises(requests.TooManyRedirects):
            post(fake_push.endpoint())
        assert len(fake_push.received) == 1
        assert inside.received == []
    finally:
        inside.close()


@pytest.mark.django_db(transaction=True)
@pytest.mark.urls("tests.server.urls")
@override_settings(TOOPHER_SERVER_PUSH_ALLOW_INSECURE_LOOPBACK=False)
def test_a_push_to_a_name_that_leads_inside_fails_and_says_why(
    phone: Any, resolve_as: Callable[..., None], caplog: pytest.LogCaptureFixture
) -> None:
    """End to end: the subscription's name passes the subscription check (a public
    name), the push fails when it connects, the request records ``failed``."""
    requester = new_requester()
    pairing = paired(requester, phone)
    subscribe(phone, f"https://{NAME}/push/device")
    resolve_as("10.0.0.5")
    with caplog.at_level(logging.WARNING, logger="toopher_server.push.sending"):
        auth = made(requester, pairing)
        assert state(auth) == "failed"
    assert any("an address that is not public" in r.getMessage() for r in caplog.records)
