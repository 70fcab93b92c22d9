"""Fixtures for the django_toopher tests: settings pointed at a fresh sandbox
requester, users paired for real through the phone control API, and counters of
the API calls the site makes."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
import requests
from django.core.cache import caches
from django.test import Client

from django_toopher.internal import client as toopher_client
from django_toopher.testing import Phone, pair

PASSWORD = "correct horse battery staple"


@pytest.fixture(autouse=True)
def _fresh_cache() -> Iterator[None]:
    """Rate limits, push locks and cached statuses never leak between tests."""
    caches["default"].clear()
    toopher_client.clear_cache()
    yield
    caches["default"].clear()
    toopher_client.clear_cache()


@pytest.fixture
def toopher_conf(settings: Any, requester: dict[str, str]) -> dict[str, Any]:
    """``settings.TOOPHER`` for a fresh sandbox requester (stored-ID mode). Tests may
    change the returned dict; it is the live settings value."""
    settings.TOOPHER = {
        "CONSUMER_KEY": requester["key"],
        "CONSUMER_SECRET": requester["secret"],
        "API_URL": requester["api_url"],
        "MODE": "stored",
        "POLL_INTERVAL": 1,
        "TIMEOUT": (2, 5),
    }
    return settings.TOOPHER


@pytest.fixture
def zero_conf(toopher_conf: dict[str, Any]) -> dict[str, Any]:
    toopher_conf["MODE"] = "zero_storage"
    return toopher_conf


@pytest.fixture
def user(django_user_model: Any) -> Any:
    return django_user_model.objects.create_user(
        username="alice", email="alice@example.com", password=PASSWORD
    )


def pair_user(sandbox: Any, user: Any, phone: dict[str, str]) -> str:
    """Pair ``user`` with the simulated ``phone`` (a ``phone`` fixture's dict) through the
    real API, the phone allowing it; the pairing id. The pairing itself is
    :func:`django_toopher.testing.pair`, the one the shipped plugin uses."""
    return pair(user, Phone(sandbox, phone["phone_id"], phone["pairing_phrase"]))


@pytest.fixture
def paired_user(toopher_conf: dict[str, Any], sandbox: Any, user: Any, phone: dict) -> Any:
    """``user`` paired with ``phone`` (stored-ID mode unless the test changed MODE first)."""
    user.pairing_id = pair_user(sandbox, user, phone)
    return user


class ApiCalls:
    """Counts the HTTP calls made to the Toopher API URL (not the control API)."""

    def __init__(self, api_url: str) -> None:
        self.api_url = api_url.rstrip("/")
        self.calls: list[tuple[str, str]] = []

    def __len__(self) -> int:
        return len(self.calls)

    def paths(self) -> list[str]:
        return [url[len(self.api_url) :].split("?")[0] for _, url in self.calls]

    def count(self, fragment: str) -> int:
        return sum(1 for path in self.paths() if fragment in path)

    def reset(self) -> None:
        self.calls.clear()


@pytest.fixture
def api_calls(monkeypatch: Any, requester: dict[str, str]) -> ApiCalls:
    counter = ApiCalls(requester["api_url"])
    original = requests.Session.request

    def counting(self: requests.Session, method: str, url: str, *args: Any, **kw: Any) -> Any:
        if str(url).startswith(counter.api_url):
            counter.calls.append((method, str(url)))
        return original(self, method, url, *args, **kw)

    monkeypatch.setattr(requests.Session, "request", counting)
    return counter


def password_login(client: Client, user: Any, next_url: str | None = None) -> Any:
    data = {"username": user.get_username(), "password": PASSWORD}
    url = "/accounts/login/"
    if next_url is not None:
        data["next"] = next_url
    return client.post(url, data)


@pytest.fixture
def login() -> Callable[..., Any]:
    return password_login


def pending_push(sandbox: Any, phone: dict[str, str]) -> dict[str, Any]:
    """The one authentication request waiting on the phone."""
    return sandbox.wait_for_pending(phone["phone_id"], "authentication_requests", timeout=5)


def session_user_id(client: Client) -> Any:
    from django.contrib.auth import SESSION_KEY

    return client.session.get(SESSION_KEY)
