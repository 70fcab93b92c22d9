"""Toopher unreachable, slow or answering garbage: FAIL_MODE closed refuses with a
clear message and a retry; open lets the user in, logs a warning and audits it."""

from __future__ import annotations

import logging

import pytest
import responses

from django_toopher.models import AuditEvent
from django_toopher.session_keys import PENDING

from .helpers import logged_in_pk, start_login, state, template_name

pytestmark = pytest.mark.django_db

FAULTS = [
    {"status": 503},
    {"status": 500},
    {"malformed": True},
]


@pytest.mark.parametrize("fault", FAULTS)
def test_fail_closed(client, toopher_paired_user, toopher_sandbox, toopher_requester, fault):
    toopher_sandbox.set_faults(key=toopher_requester["key"], **fault)
    response = start_login(client, toopher_paired_user)
    assert response.status_code == 200
    assert template_name(response) == "django_toopher/pending.html"
    assert state(client)["step"] == "failed"
    html = response.content.decode()
    assert "cannot be reached" in html
    assert 'name="op" value="retry"' in html
    assert logged_in_pk(client) is None
    assert AuditEvent.objects.filter(user=toopher_paired_user, kind="error").exists()
    assert toopher_requester["secret"] not in html


def test_fail_closed_retry_after_recovery(
    client, toopher_paired_user, toopher_sandbox, toopher_phone, toopher_requester
):
    toopher_sandbox.set_faults(key=toopher_requester["key"], status=503)
    start_login(client, toopher_paired_user)
    toopher_sandbox.clear_faults()
    response = client.post("/toopher/pending/", {"op": "retry"})
    assert response["Location"] == "/toopher/pending/"
    client.get("/toopher/pending/")
    assert state(client)["step"] == "pushed"


def test_slow_service_times_out_and_fails_closed(
    client, toopher_paired_user, toopher_sandbox, toopher_requester, toopher_settings
):
    toopher_settings["TIMEOUT"] = (0.5, 0.5)
    toopher_sandbox.set_faults(key=toopher_requester["key"], latency_ms=1500)
    start_login(client, toopher_paired_user)
    assert state(client)["step"] == "failed"
    assert logged_in_pk(client) is None


@pytest.mark.parametrize("fault", FAULTS)
def test_fail_open(
    client, toopher_paired_user, toopher_sandbox, toopher_requester, toopher_settings, fault, caplog
):
    toopher_settings["FAIL_MODE"] = "open"
    toopher_sandbox.set_faults(key=toopher_requester["key"], **fault)
    with caplog.at_level(logging.WARNING, logger="django_toopher"):
        response = start_login(client, toopher_paired_user, next_url="/private/")
    assert response.status_code == 302 and response["Location"] == "/private/"
    assert str(logged_in_pk(client)) == str(toopher_paired_user.pk)
    assert AuditEvent.objects.filter(user=toopher_paired_user, kind="fail_open").exists()
    assert any("FAIL_MODE is open" in r.getMessage() for r in caplog.records)
    assert toopher_requester["secret"] not in caplog.text


def test_fail_open_never_for_bad_credentials(client, toopher_paired_user, toopher_settings):
    """A local misconfiguration (wrong secret: 401) is not an outage: refused."""
    toopher_settings["FAIL_MODE"] = "open"
    toopher_settings["CONSUMER_SECRET"] = "wrong"
    start_login(client, toopher_paired_user)
    assert state(client)["step"] == "failed"
    assert logged_in_pk(client) is None


def test_unreachable_service(client, toopher_paired_user, toopher_settings):
    toopher_settings["API_URL"] = "http://127.0.0.1:9/v1"  # discard port: refused
    start_login(client, toopher_paired_user)
    assert state(client)["step"] == "failed"
    assert logged_in_pk(client) is None


def test_outage_during_polling_keeps_waiting(
    client, toopher_paired_user, toopher_sandbox, toopher_phone, toopher_requester
):
    start_login(client, toopher_paired_user)
    toopher_sandbox.set_faults(key=toopher_requester["key"], status=503)
    data = client.get("/toopher/pending/status/").json()
    assert data["status"] == "pushed" and data["final"] is False
    assert "did not answer" in data["message"]
    assert PENDING in client.session


def test_garbage_status_body_with_responses(
    client, toopher_paired_user, toopher_sandbox, toopher_phone, toopher_settings
):
    """The same through ``responses``: a 200 whose body is not JSON."""
    start_login(client, toopher_paired_user)
    api = toopher_settings["API_URL"].rstrip("/")
    with responses.RequestsMock() as mock:
        mock.add(
            responses.GET,
            f"{api}/authentication_requests/{state(client)['request_id']}",
            body="<html>oops</html>",
            status=200,
        )
        data = client.get("/toopher/pending/status/").json()
    assert data["status"] == "pushed"
    assert "did not answer" in data["message"]
    assert logged_in_pk(client) is None


def test_garbage_initiate_body_with_responses(client, toopher_paired_user, toopher_settings, login):
    login(client, toopher_paired_user)
    client.get("/toopher/pending/")
    client.post("/toopher/pending/terminal/", {"name": "Laptop"})
    api = toopher_settings["API_URL"].rstrip("/")
    with responses.RequestsMock() as mock:
        mock.add(responses.POST, f"{api}/authentication_requests/initiate",
                 json={"unexpected": True}, status=200)
        client.get("/toopher/pending/")
    assert state(client)["step"] == "failed"
    assert logged_in_pk(client) is None


def test_toopher_rate_limit_429_is_not_an_outage(
    client, toopher_paired_user, toopher_sandbox, toopher_requester, toopher_settings
):
    """429 is a real answer (too many requests), not an outage: refused even in open mode."""
    toopher_settings["FAIL_MODE"] = "open"
    toopher_sandbox.set_faults(key=toopher_requester["key"], status=429)
    response = start_login(client, toopher_paired_user)
    assert state(client)["step"] == "failed"
    assert "refused the request" in response.content.decode()
    assert logged_in_pk(client) is None
    assert not AuditEvent.objects.filter(kind="fail_open").exists()
