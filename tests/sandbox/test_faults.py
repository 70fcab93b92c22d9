"""Faults injected into API v1 responses, seen through the ``toopher`` client and raw HTTP."""

from __future__ import annotations

import time

import pytest
import requests
from requests_oauthlib import OAuth1

import toopher
from toopher.errors import ToopherApiError, ToopherMalformedResponseError, ToopherTimeoutError


@pytest.fixture
def api(requester):
    client = toopher.ToopherApi(requester["key"], requester["secret"], api_url=requester["api_url"])
    yield client
    client.close()


def test_status_fault_is_an_error_and_changes_nothing(sandbox, requester, api):
    sandbox.set_faults(status=503, key=requester["key"])
    with pytest.raises(ToopherApiError) as excinfo:
        api.create_user("during outage")
    assert excinfo.value.status_code == 503
    sandbox.clear_faults()
    with pytest.raises(toopher.UserUnknownError):
        api.get_user_by_name("during outage")


def test_malformed_fault_gives_a_body_that_is_not_json(sandbox, requester, api):
    sandbox.set_faults(malformed=True, key=requester["key"])
    with pytest.raises(ToopherMalformedResponseError):
        api.create_user("garbled")
    raw = requests.get(f"{requester['api_url']}/users", params={"name": "garbled"},
                       auth=OAuth1(requester["key"], requester["secret"]), timeout=10)
    assert raw.status_code == 200
    with pytest.raises(ValueError):
        raw.json()


def test_status_and_malformed_together(sandbox, requester, api):
    sandbox.set_faults(status=502, malformed=True, key=requester["key"])
    with pytest.raises(ToopherApiError) as excinfo:
        api.create_user("x")
    assert excinfo.value.status_code == 502
    assert excinfo.value.error_code is None


def test_latency_fault_slows_and_can_time_out(sandbox, requester):
    sandbox.set_faults(latency_ms=400, key=requester["key"])
    fast = toopher.ToopherApi(requester["key"], requester["secret"],
                              api_url=requester["api_url"], timeout=(2, 0.1))
    with pytest.raises(ToopherTimeoutError):
        fast.create_user("slow")
    patient = toopher.ToopherApi(requester["key"], requester["secret"],
                                 api_url=requester["api_url"], timeout=5)
    started = time.monotonic()
    patient.create_user("slow again")
    assert time.monotonic() - started >= 0.38


def test_rate_zero_never_fires(sandbox, requester, api):
    sandbox.set_faults(status=500, rate=0.0, key=requester["key"])
    for i in range(5):
        api.create_user(f"lucky {i}")


def test_rate_between_fires_sometimes(sandbox, requester, api):
    sandbox.set_faults(status=500, rate=0.5, key=requester["key"])
    outcomes = []
    for i in range(40):
        try:
            api.create_user(f"maybe {i}")
            outcomes.append(True)
        except ToopherApiError as error:
            assert error.status_code == 500
            outcomes.append(False)
    assert any(outcomes) and not all(outcomes)


def test_faults_scoped_to_a_key_leave_others_alone(sandbox, requester, api):
    other = sandbox.new_requester()
    sandbox.set_faults(status=500, key=other["key"])
    api.create_user("unaffected")
    theirs = toopher.ToopherApi(other["key"], other["secret"], api_url=other["api_url"])
    with pytest.raises(ToopherApiError):
        theirs.create_user("affected")


def test_global_faults_apply_to_everyone_and_clear(sandbox, requester, api):
    sandbox.set_faults(status=500)
    try:
        with pytest.raises(ToopherApiError):
            api.create_user("global")
    finally:
        sandbox.clear_faults()
    api.create_user("global")


def test_faults_do_not_touch_control_or_phone(sandbox, requester, phone):
    sandbox.set_faults(status=500)
    try:
        assert sandbox.pending(phone["phone_id"]) == {"pairings": [], "authentication_requests": []}
        assert requests.get(f"{phone['phone_url']}", timeout=10).status_code == 200
    finally:
        sandbox.clear_faults()
