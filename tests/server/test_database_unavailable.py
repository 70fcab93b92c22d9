"""The database away (a restart, a failover): a JSON 503 to retry, never a 500, and no
approval or request slips through while the one-time ids cannot be recorded.

The fault run (tests/faults/test_service_faults.py) restarts a real PostgreSQL under
load; these tests fail the first database call of a signed call in process.
"""

from __future__ import annotations

from unittest import mock

import pytest
from django.db import OperationalError
from django.test import Client

from toopher_server.models import AuthenticationRequest

from .calls import URLCONF, Site
from .device_client import API, DeviceClient, authentication, new_requester, paired

pytestmark = [pytest.mark.django_db, pytest.mark.urls(URLCONF)]

DOWN = OperationalError("connection to server at 127.0.0.1 failed: Connection refused")


def test_an_api_call_is_a_json_503_when_the_nonce_cannot_be_recorded() -> None:
    site = Site(Client())
    _, pairing_id = site.paired("ann@example.com")
    with mock.patch("toopher_server.nonces._insert", side_effect=DOWN):
        response = site.post("authentication_requests/initiate", pairing_id=pairing_id,
                             terminal_name="Firefox")
    assert response.status_code == 503
    assert response.json() == {
        "error_code": 503,
        "error_message": "The service's database is not answering now; try again shortly.",
    }
    assert "no-store" in response["Cache-Control"]
    assert not AuthenticationRequest.objects.exists()
    # Back: the same call (a new nonce) goes through.
    response = site.post("authentication_requests/initiate", pairing_id=pairing_id,
                         terminal_name="Firefox")
    assert response.status_code == 200, response.content


def test_any_other_failure_is_still_a_500() -> None:
    site = Site(Client())
    with mock.patch("toopher_server.nonces._insert", side_effect=RuntimeError("a bug")):
        response = site.call("GET", "users")
    assert response.status_code == 500 and response.json()["error_code"] == 500


def test_an_approval_is_a_503_and_takes_no_effect_when_its_nonce_cannot_be_recorded() -> None:
    requester = new_requester()
    phone = DeviceClient()
    assert phone.enrol().status_code == 201
    auth = authentication(requester, paired(requester, phone))
    with mock.patch(
        "toopher_server.device_nonces.DatabaseSeenIds.add", side_effect=DOWN
    ):
        response = phone.decide(auth)
    assert response.status_code == 503
    assert response.json()["error"] == "unavailable"
    assert "no-store" in response["Cache-Control"]
    auth.refresh_from_db()
    assert (auth.pending, auth.granted) == (True, False)
    # Back: the approval (signed again, a new nonce) is accepted.
    assert phone.decide(auth).status_code == 200
    auth.refresh_from_db()
    assert (auth.pending, auth.granted) == (False, True)


def test_a_device_read_is_a_503_when_the_database_fails_in_the_view() -> None:
    requester = new_requester()
    phone = DeviceClient()
    phone.enrol()
    auth = authentication(requester, paired(requester, phone))
    with mock.patch("toopher_server.devices.request_on", side_effect=DOWN):
        response = phone.call("GET", f"{API}/authentication_requests/{auth.id}")
    assert response.status_code == 503 and response.json()["error"] == "unavailable"
