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
def test_fail_closed(client, paired_user, sandbox, requester, fault):
    sandbox.set_faults(key=requester["key"], **fault)
    response = start_login(client, paired_user)
    assert response.status_code == 200
    assert template_name(response) == "django_toopher/pending.html"
    assert state(client)["step"] == "failed"
    html = response.content.decode()
    assert "cannot be reached" in html
    assert 'name="op" value="retry"' in html
    assert logged_in_pk(client) is None
    assert AuditEvent.objects.filter(user=paired_user, kind="error").exists()
    assert requester["secret"] not in html


def test_fail_closed_retry_after_recovery(client, paired_user, sandbox, phone, requester):
    sandbox.set_faults(key=requester["key"], status=503)
    start_login(client, paired_user)
    sandbox.clear_faults()
    response = client.post("/toopher/pending/", {"op": "retry"})
    assert response["Location"] == "/toopher/pending/"
    client.get("/toopher/pending/")
    assert state(client)["step"] == "pushed"


def test_slow_service_times_out_and_fails_closed(
    client, paired_user, sandbox, requester, toopher_conf
):
    toopher_conf["TIMEOUT"] = (0.5, 0.5)
    sandbox.set_faults(key=requester["key"], latency_ms=1500)
    start_login(client, paired_user)
    assert state(client)["step"] == "failed"
    assert logged_in_pk(client) is None


@pytest.mark.parametrize("fault", FAULTS)
def test_fail_open(client, paired_user, sandbox, requester, toopher_conf, fault, caplog):
    toopher_conf["FAIL_MODE"] = "open"
    sandbox.set_faults(key=requester["key"], **fault)
    with caplog.at_level(logging.WARNING, logger="django_toopher"):
        response = start_login(client, paired_user, next_url="/private/")
    assert response.status_code == 302 and response["Location"] == "/private/"
    assert str(logged_in_pk(client)) == str(paired_user.pk)
    assert AuditEvent.objects.filter(user=paired_user, kind="fail_open").exists()
    assert any("FAIL_MODE is open" in r.getMessage() for r in caplog.records)
    assert requester["secret"] not in caplog.text


def test_fail_open_never_for_bad_credentials(client, paired_user, toopher_conf):
    """A local misconfiguration (wrong secret: 401) is not an outage: refused."""
    toopher_conf["FAIL_MODE"] = "open"
    toopher_conf["CONSUMER_SECRET"] = "wrong"
    start_login(client, paired_user)
    assert state(client)["step"] == "failed"
    assert logged_in_pk(client) is None


def test_unreachable_service(client, paired_user, toopher_conf):
    toopher_conf["API_URL"] = "http://127.0.0.1:9/v1"  # discard port: refused
    start_login(client, paired_user)
    assert state(client)["step"] == "failed"
    assert logged_in_pk(client) is None


def test_outage_during_polling_keeps_waiting(client, paired_user, sandbox, phone, requester):
    start_login(client, paired_user)
    sandbox.set_faults(key=requester["key"], status=503)
    data = client.get("/toopher/pending/status/").json()
    assert data["status"] == "pushed" and data["final"] is False
    assert "did not answer" in data["message"]
    assert PENDING in client.session


def test_garbage_status_body_with_responses(client, paired_user, sandbox, phone, toopher_conf):
    """The same through ``responses``: a 200 whose body is not JSON."""
    start_login(client, paired_user)
    api = toopher_conf["API_URL"].rstrip("/")
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


def test_garbage_initiate_body_with_responses(client, paired_user, toopher_conf, login):
    login(client, paired_user)
    client.get("/toopher/pending/")
    client.post("/toopher/pending/terminal/", {"name": "Laptop"})
    api = toopher_conf["API_URL"].rstrip("/")
    with responses.RequestsMock() as mock:
        mock.add(responses.POST, f"{api}/authentication_requests/initiate",
                 json={"unexpected": True}, status=200)
        client.get("/toopher/pending/")
    assert state(client)["step"] == "failed"
    assert logged_in_pk(client) is None


def test_toopher_rate_limit_429_is_not_an_outage(client, paired_user, sandbox, requester,
                                                  toopher_conf):
    """429 is a real answer (too many requests), not an outage: refused even in open mode."""
    toopher_conf["FAIL_MODE"] = "open"
    sandbox.set_faults(key=requester["key"], status=429)
    response = start_login(client, paired_user)
    assert state(client)["step"] == "failed"
    assert "refused the request" in response.content.decode()
    assert logged_in_pk(client) is None
    assert not AuditEvent.objects.filter(kind="fail_open").exists()
