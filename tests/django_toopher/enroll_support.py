"""Fixtures and helpers shared by the enrollment, terminal and admin tests.

Imported explicitly by those test modules (``from tests.django_toopher.enroll_support
import ...``) so they do not depend on the order in which conftest files land.
Everything talks to the live sandbox through the shipped plugin's ``toopher_sandbox`` /
``toopher_requester`` / ``toopher_phone`` fixtures (loaded in tests/conftest.py).
"""

from __future__ import annotations

import time
from typing import Any

from django.contrib.auth import get_user_model
from django.core.cache import caches
from django.test import Client
from django.urls import reverse

from django_toopher import session_keys
from django_toopher.internal.client import clear_cache
from django_toopher.session_keys import PAIRING
from django_toopher.testing import Phone

PASSWORD = "correct horse battery staple"


def configure(settings: Any, requester: dict[str, str]) -> dict[str, str]:
    """Point ``settings.TOOPHER`` at a fresh sandbox requester; empty the caches.

    Each test module wraps it in its own ``live`` fixture."""
    settings.TOOPHER = {
        "CONSUMER_KEY": requester["key"],
        "CONSUMER_SECRET": requester["secret"],
        "API_URL": requester["api_url"],
        "POLL_INTERVAL": 1,
        "TIMEOUT": (3, 5),
    }
    caches["default"].clear()
    clear_cache()
    return requester


def make_user(username: str = "alice", **extra: Any) -> Any:
    return get_user_model().objects.create_user(
        username=username, password=PASSWORD, email=f"{username}@example.com", **extra
    )


def fresh_auth(client: Client, at: float | None = None) -> None:
    """Mark the client's session as recently authenticated (or at ``at``)."""
    session = client.session
    session[session_keys.AUTH_AT] = time.time() if at is None else at
    session.save()


def login(client: Client, user: Any, *, recent: bool = True) -> Client:
    """Log ``user`` (not paired) in with a plain login."""
    client.force_login(user)
    assert client.session.get("_auth_user_id") == str(user.pk), "plain login expected"
    if recent:
        fresh_auth(client)
    else:
        fresh_auth(client, at=time.time() - 100_000)
    return client


def pairing_id_in_session(client: Client) -> str | None:
    state = client.session.get(PAIRING)
    return state["id"] if isinstance(state, dict) else None


def poll_status(client: Client) -> dict[str, Any]:
    """One poll of pair_status, past the poll-interval cache."""
    caches["default"].clear()
    response = client.get(reverse("django_toopher:pair_status"))
    assert response.status_code == 200, response.content
    return response.json()


def pair_by_phrase(client: Client, sandbox: Any, phone: Phone) -> str:
    """Pair the client's user with ``phone`` through the enrollment pages."""
    response = client.post(
        reverse("django_toopher:pair"), {"op": "phrase", "pairing_phrase": phone.pairing_phrase}
    )
    assert response.status_code == 302, response.content
    pairing_id = pairing_id_in_session(client)
    assert pairing_id
    sandbox.respond_pairing(pairing_id, allow=True)
    assert poll_status(client)["status"] == "paired"
    return pairing_id
