"""Faults injected into API v1 responses, seen through the ``toopher`` client and raw HTTP."""

from __future__ import annotations

import time

import pytest
import requests
from requests_oauthlib import OAuth1

import toopher
from toopher.errors import ToopherApiError, ToopherMalformedResponseError, ToopherTimeoutError


@pytest.fixture
def api(toopher_requester):
    client = toopher.ToopherApi(
        toopher_requester["key"], toopher_requester["secret"], api_url=toopher_requester["api_url"]
    )
    yield client
    client.close()


def test_status_fault_is_an_error_and_changes_nothing(toopher_sandbox, toopher_requester, api):
    toopher_sandbox.set_faults(status=503, key=toopher_requester["key"])
    with pytest.raises(ToopherApiError) as excinfo:
        api.create_user("during outage")
    assert excinfo.value.status_code == 503
    toopher_sandbox.clear_faults()
    with pytest.raises(toopher.UserUnknownError):
        api.get_user_by_name("during outage")


def test_malformed_fault_gives_a_body_that_is_not_json(toopher_sandbox, toopher_requester, api):
    toopher_sandbox.set_faults(malformed=True, key=toopher_requester["key"])
    with pytest.raises(ToopherMalformedResponseError):
        api.create_user("garbled")
    raw = requests.get(
        f"{toopher_requester['api_url']}/users",
        params={"name": "garbled"},
        auth=OAuth1(toopher_requester["key"], toopher_requester["secret"]),
        timeout=10,
    )
    assert raw.status_code == 200
    with pytest.raises(ValueError):
        raw.json()


def test_status_and_malformed_together(toopher_sandbox, toopher_requester, api):
    toopher_sandbox.set_faults(status=502, malformed=True, key=toopher_requester["key"])
    with pytest.raises(ToopherApiError) as excinfo:
        api.create_user("x")
    assert excinfo.value.status_code == 502
    assert excinfo.value.error_code is None


def test_latency_fault_slows_and_can_time_out(toopher_sandbox, toopher_requester):
    toopher_sandbox.set_faults(latency_ms=400, key=toopher_requester["key"])
    fast = toopher.ToopherApi(toopher_requester["key"], toopher_requester["secret"],
                              api_url=toopher_requester["api_url"], timeout=(2, 0.1))
    with pytest.raises(ToopherTimeoutError):
        fast.create_user("slow")
    patient = toopher.ToopherApi(toopher_requester["key"], toopher_requester["secret"],
                                 api_url=toopher_requester["api_url"], timeout=5)
    started = time.monotonic()
    patient.create_user("slow again")
    assert time.monotonic() - started >= 0.38


def test_rate_zero_never_fires(toopher_sandbox, toopher_requester, api):
    toopher_sandbox.set_faults(status=500, rate=0.0, key=toopher_requester["key"])
    for i in range(5):
        api.create_user(f"lucky {i}")


def test_rate_between_fires_sometimes(toopher_sandbox, toopher_requester, api):
    toopher_sandbox.set_faults(status=500, rate=0.5, key=toopher_requester["key"])
    outcomes = []
    for i in range(40):
        try:
            api.create_user(f"maybe {i}")
            outcomes.append(True)
        except ToopherApiError as error:
            assert error.status_code == 500
            outcomes.append(False)
    assert any(outcomes) and not all(outcomes)


def test_faults_scoped_to_a_key_leave_others_alone(toopher_sandbox, toopher_requester, api):
    other = toopher_sandbox.new_requester()
    toopher_sandbox.set_faults(status=500, key=other["key"])
    api.create_user("unaffected")
    theirs = toopher.ToopherApi(other["key"], other["secret"], api_url=other["api_url"])
    with pytest.raises(ToopherApiError):
        theirs.create_user("affected")


def test_global_faults_apply_to_everyone_and_clear(toopher_sandbox, toopher_requester, api):
    toopher_sandbox.set_faults(status=500)
    try:
        with pytest.raises(ToopherApiError):
            api.create_user("global")
    finally:
        toopher_sandbox.clear_faults()
    api.create_user("global")


def test_faults_do_not_touch_control_or_phone(toopher_sandbox, toopher_requester, toopher_phone):
    toopher_sandbox.set_faults(status=500)
    try:
        assert toopher_sandbox.pending(toopher_phone.phone_id) == {
            "pairings": [],
            "authentication_requests": [],
        }
        assert requests.get(f"{toopher_phone.phone_url}", timeout=10).status_code == 200
    finally:
        toopher_sandbox.clear_faults()
