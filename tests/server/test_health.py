"""``GET /health``: 200 with the operator's counts while the database answers, 503 JSON
when it does not; no secret and no per-user data; a couple of queries at most."""

from __future__ import annotations

from datetime import timedelta
from unittest import mock

import pytest
from django.db import DatabaseError, connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from toopher_server import health
from toopher_server.models import AuthenticationRequest, Pairing
from toopher_server.requesters import create_requester
from toopher_server.service import get_or_create_action, get_or_create_user

pytestmark = [pytest.mark.django_db, pytest.mark.urls("tests.server.urls")]


def _request(requester, user, pending: bool, age: timedelta) -> None:
    pairing = Pairing.objects.create(requester=requester, user=user, otp_secret="x")
    terminal = user.terminals.create(name="t")
    auth = AuthenticationRequest.objects.create(
        requester=requester, user=user, pairing=pairing, terminal=terminal,
        action=get_or_create_action(requester, "Log in"), pending=pending,
    )
    AuthenticationRequest.objects.filter(pk=auth.pk).update(created=timezone.now() - age)


def test_health_counts_pending_and_recent_requests_without_secrets() -> None:
    requester = create_requester("Health site")
    user = get_or_create_user(requester, "ann@example.com")
    _request(requester, user, pending=True, age=timedelta(seconds=10))
    _request(requester, user, pending=True, age=timedelta(minutes=30))  # expired by now
    _request(requester, user, pending=False, age=timedelta(minutes=5))
    _request(requester, user, pending=False, age=timedelta(hours=2))  # outside the hour
    with CaptureQueriesContext(connection) as queries:
        response = Client().get("/health")
    assert response.status_code == 200
    body = response.json()
    assert body == {
        "status": "ok", "database": "ok", "pending_requests": 1, "requests_last_hour": 3,
        "pushes_sent_last_hour": 0, "pushes_failed_last_hour": 0,
        "pushes_held_last_hour": 0, "pushes_queued_last_hour": 0, "push_subscriptions": 0,
    }  # fmt: skip
    assert len(queries) <= 3  # the requests, their pushes, the subscriptions
    text = response.content.decode()
    for private in (requester.current_secret(), requester.key, "ann@example.com", "Health site"):
        assert private not in text
    assert "no-store" in response["Cache-Control"]


def test_health_is_503_json_when_the_database_does_not_answer() -> None:
    with mock.patch.object(health, "operator_counts", side_effect=DatabaseError("down")):
        response = Client().get("/health")
    assert response.status_code == 503
    assert response.json()["status"] == "unavailable"
    assert response.json()["error_code"] == 503


def test_health_answers_get_and_head_only() -> None:
    assert Client().head("/health").status_code == 200
    response = Client().post("/health")
    assert response.status_code == 405 and response.json()["error_code"] == 405


def test_the_middleware_answers_before_the_host_check() -> None:
    middleware = health.HealthMiddleware(lambda request: pytest.fail("passed on"))  # type: ignore[arg-type,return-value]
    from django.test import RequestFactory

    request = RequestFactory().get("/health", HTTP_HOST="10.0.0.7:8000")  # not allowed
    response = middleware(request)
    assert response.status_code == 200 and response["Content-Type"] == "application/json"


def test_push_counts_have_one_place() -> None:
    """tests/push/test_push_sending.py counts real pushes; here, the names."""
    assert set(health.push_counts(timezone.now())) == {
        "pushes_sent_last_hour", "pushes_failed_last_hour", "pushes_held_last_hour",
        "pushes_queued_last_hour", "push_subscriptions",
    }  # fmt: skip
