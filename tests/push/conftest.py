"""Fixtures of the push tests: a fake push service on loopback, an enrolled device."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from django.core.cache import cache

from tests.server.device_client import DeviceClient
from toopher_server.push import sending

from .fakepush import FakePushService


@pytest.fixture(autouse=True)
def _push_settings(settings: pytest.FixtureRequest) -> Iterator[None]:
    settings.TOOPHER_SERVER_PUSH_ALLOW_INSECURE_LOOPBACK = True  # type: ignore[attr-defined]
    cache.clear()
    yield
    assert sending.drain(10)  # no push thread writes while the test's data is flushed


@pytest.fixture(scope="module")
def push_service() -> Iterator[FakePushService]:
    service = FakePushService()
    yield service
    service.close()


@pytest.fixture
def fake_push(push_service: FakePushService) -> FakePushService:
    push_service.received.clear()
    push_service.status, push_service.hold, push_service.location = 201, 0.0, None
    return push_service


@pytest.fixture
def phone() -> DeviceClient:
    client = DeviceClient()
    assert client.enrol().status_code == 201
    return client
