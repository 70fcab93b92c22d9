"""Fixtures for the django_toopher tests, on top of the shipped plugin's
(``toopher_settings``, ``toopher_user``, ``toopher_phone``, ``toopher_paired_user``,
loaded in ``tests/conftest.py``): a fresh cache, zero-storage mode, the test user's
fields, and counters of the API calls the site makes."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
import requests
from django.core.cache import caches
from django.test import Client

from django_toopher.internal import client as toopher_client
from django_toopher.testing import PASSWORD


@pytest.fixture(autouse=True)
def _fresh_cache() -> Iterator[None]:
    """Rate limits, push locks and cached statuses never leak between tests."""
    caches["default"].clear()
    toopher_client.clear_cache()
    yield
    caches["default"].clear()
    toopher_client.clear_cache()


@pytest.fixture
def zero_conf(toopher_settings: dict[str, Any]) -> dict[str, Any]:
    """The plugin's ``toopher_settings`` in zero-storage mode (a composition of the
    plugin's fixture, not settings of its own); ask for it before anything is paired."""
    toopher_settings["MODE"] = "zero_storage"
    return toopher_settings


@pytest.fixture
def toopher_user_fields() -> dict[str, Any]:
    """The plugin's ``toopher_user`` here is alice, with an e-mail address (the plugin's
    documented way to choose the user's fields; its password stays ``PASSWORD``)."""
    return {"username": "alice", "email": "alice@example.com"}


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
def api_calls(monkeypatch: Any, toopher_requester: dict[str, str]) -> ApiCalls:
    counter = ApiCalls(toopher_requester["api_url"])
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


def session_user_id(client: Client) -> Any:
    from django.contrib.auth import SESSION_KEY

    return client.session.get(SESSION_KEY)
