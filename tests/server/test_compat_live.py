"""The project's client against ``toopher_server`` under gunicorn, the phone played by
:class:`~toopher_server.testing.TestPhone` through the signed device API.

No control API (there is none in the service): every approval below is a device's
signed decision. Two instances share one database (an SQLite file, or PostgreSQL under
``make test-postgres``), as two instances behind a
balancer share one database.
"""

from __future__ import annotations

import http.client
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

import toopher
from toopher.errors import TerminalUnknownError, ToopherApiError
from toopher_server.testing import DeviceCallError, SignedDevice, TestPhone

from .live_service import Instance, LiveService

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveService]:
    live = LiveService(Path(tmp_path_factory.mktemp("live-service")))
    try:
        live.start()
        live.start()
        yield live
    finally:
        live.stop()


@pytest.fixture
def instance(service: LiveService) -> Instance:
    return service.instances[0]


@pytest.fixture
def api(service: LiveService, instance: Instance) -> Iterator[toopher.ToopherApi]:
    client = service.api(instance)
    yield client
    client.close()


@pytest.fixture
def phone(instance: Instance, api: toopher.ToopherApi) -> Iterator[TestPhone]:
    # Number matching is on for the service's new requester: the user reads the code
    # the site shows (API v1's verification_code) and picks it on the phone.
    test_phone = TestPhone(instance.base_url, site_code=site_code(api))
    test_phone.enrol()
    yield test_phone
    test_phone.close()


def site_code(api: toopher.ToopherApi):  # noqa: ANN201 - a hook for TestPhone
    """The code the site shows for a request (its API v1 ``verification_code``)."""
    return lambda request_id: api.get_authentication_status(request_id).verification_code


def paired(api: toopher.ToopherApi, phone: TestPhone, user: str = "ann@example.com") -> str:
    pairing = api.pair(phone.new_phrase(), user)
    phone.allow_pairing(pairing.id)
    return str(pairing.id)


# --- pairing ----------------------------------------------------------------------------


def test_pair_by_phrase_allowed_on_the_device(api: toopher.ToopherApi, phone: TestPhone) -> None:
    pairing = api.pair(phone.new_phrase(), "ann@example.com")
    assert pairing.pending is True and pairing.enabled is False
    shown = phone.pairings()
    assert [(p["id"], p["site"], p["user"]) for p in shown] == [
        (pairing.id, "Compat Shop", "ann@example.com")
    ]
    phone.allow_pairing(pairing.id)
    status = api.get_pairing_status(pairing.id)
    assert (status.pending, status.enabled, status.user_name) == (False, True, "ann@example.com")


def test_pair_denied_on_the_device(api: toopher.ToopherApi, phone: TestPhone) -> None:
    pairing = api.pair(phone.new_phrase(), "ann")
    phone.deny_pairing(pairing.id)
    status = api.get_pairing_status(pairing.id)
    assert (status.pending, status.enabled) == (False, False)


def test_a_phrase_is_single_use(api: toopher.ToopherApi, phone: TestPhone) -> None:
    phrase = phone.new_phrase()
    api.pair(phrase, "ann")
    with pytest.raises(ToopherApiError) as excinfo:
        api.pair(phrase, "bob")
    assert excinfo.value.status_code == 409


# --- authentication ---------------------------------------------------------------------


@pytest.mark.parametrize("decision, granted", [("allow", True), ("deny", False), ("not_me", False)])
def test_authenticate_and_answer_on_the_device(
    api: toopher.ToopherApi, phone: TestPhone, decision: str, granted: bool
) -> None:
    pairing_id = paired(api, phone)
    request = api.authenticate(pairing_id, "Firefox on Linux", "Log in")
    assert request.pending is True
    shown = phone.wait_for_request(request.id)
    assert (shown["site"], shown["user"], shown["action"], shown["terminal"]) == (
        "Compat Shop",
        "ann@example.com",
        "Log in",
        "Firefox on Linux",
    )
    phone.answer(request.id, decision)
    status = api.get_authentication_status(request.id)
    assert (status.pending, status.granted) == (False, granted)
    if decision == "not_me":
        assert "wasn't me" in status.reason


def test_zero_storage_names_the_terminal_then_the_device_allows(
    api: toopher.ToopherApi, phone: TestPhone
) -> None:
    paired(api, phone, "zed@example.com")
    with pytest.raises(TerminalUnknownError):
        api.authenticate_by_user_name("zed@example.com", "browser-1")
    api.create_user_terminal("zed@example.com", "My laptop", "browser-1")
    request = api.authenticate_by_user_name("zed@example.com", "browser-1")
    assert phone.wait_for_request(request.id)["terminal"] == "My laptop"
    phone.allow(request.id)
    assert api.get_authentication_status(request.id).granted is True


def test_otp_auth_with_the_devices_offline_code(api: toopher.ToopherApi, phone: TestPhone) -> None:
    pairing_id = paired(api, phone)
    request = api.authenticate(pairing_id, "Offline browser")
    status = api.authenticate_with_otp(request.id, phone.otp(pairing_id))
    assert (status.pending, status.granted, status.totp_valid) == (False, True, True)
    wrong = api.authenticate(pairing_id, "Offline browser")
    code = phone.otp(pairing_id)
    bad = api.authenticate_with_otp(wrong.id, f"{(int(code) + 1) % 1_000_000:06d}")
    assert (bad.pending, bad.granted) == (False, False)


def test_cancel_drops_the_request_from_the_device(
    api: toopher.ToopherApi, phone: TestPhone
) -> None:
    pairing_id = paired(api, phone)
    request = api.authenticate(pairing_id, "Firefox")
    phone.wait_for_request(request.id)
    cancelled = api.cancel_authentication_request(request.id)
    assert (cancelled.pending, cancelled.granted) == (False, False)
    assert phone.pending_requests() == []
    with pytest.raises(DeviceCallError) as excinfo:
        phone.allow(request.id)
    assert (excinfo.value.status, excinfo.value.code) == (409, "not_pending")
    assert api.get_authentication_status(request.id).granted is False


def test_an_unsigned_approval_is_refused(api: toopher.ToopherApi, phone: TestPhone) -> None:
    pairing_id = paired(api, phone)
    request = api.authenticate(pairing_id, "Firefox")
    shown = phone.wait_for_request(request.id)
    body = phone.device.decision(
        request.id, "allow", site=shown["site"], user=shown["user"],
        action=shown["action"], terminal=shown["terminal"],
    )  # fmt: skip
    url = f"{phone.base_url}/app/api/v1/authentication_requests/{request.id}/decision"
    response = requests.post(url, data=body, timeout=10)
    assert (response.status_code, response.json()["error"]) == (401, "unsigned")
    assert api.get_authentication_status(request.id).pending is True


def test_a_second_phone_of_the_same_user_answers_only_its_own(
    api: toopher.ToopherApi, phone: TestPhone, instance: Instance
) -> None:
    second = TestPhone(instance.base_url, label="Second phone", site_code=site_code(api))
    second.enrol()
    paired(api, phone, "two@example.com")
    second_pairing = paired(api, second, "two@example.com")
    request = api.authenticate(second_pairing, "Firefox")
    assert second.wait_for_request(request.id)["user"] == "two@example.com"
    assert phone.pending_requests() == []
    with pytest.raises(DeviceCallError) as excinfo:
        phone.call("GET", f"/authentication_requests/{request.id}")
    assert excinfo.value.code == "not_found"
    second.allow(request.id)
    assert api.get_authentication_status(request.id).granted is True


# --- several instances --------------------------------------------------------------------


def test_a_call_replayed_to_another_instance_is_refused(
    service: LiveService, phone: TestPhone
) -> None:
    first, other = service.instances
    path = "/app/api/v1/devices/me"
    headers = phone.device.headers_for("GET", path)
    assert requests.get(first.base_url + path, headers=headers, timeout=10).status_code == 200
    replayed = requests.get(other.base_url + path, headers=headers, timeout=10)
    assert (replayed.status_code, replayed.json()["error"]) == (401, "replay")


def test_a_device_enrolled_on_one_instance_answers_on_the_other(
    service: LiveService, api: toopher.ToopherApi, phone: TestPhone
) -> None:
    pairing_id = paired(api, phone)
    request = api.authenticate(pairing_id, "Firefox")
    elsewhere = TestPhone(service.instances[1].base_url, phone.device, site_code=site_code(api))
    elsewhere.allow(request.id)
    assert api.get_authentication_status(request.id).granted is True


def test_the_service_has_no_control_api(instance: Instance) -> None:
    for path in ("/control/phones", "/phone/", "/control/faults"):
        assert requests.post(instance.base_url + path, timeout=10).status_code == 404


def test_an_unknown_device_is_refused(instance: Instance) -> None:
    stranger = TestPhone(instance.base_url, SignedDevice())
    with pytest.raises(DeviceCallError) as excinfo:
        stranger.pending_requests()
    assert (excinfo.value.status, excinfo.value.code) == (401, "unknown_device")


# --- several devices, remembered browsers (TestPhone's §9.13-§9.14 calls) -------------------


def test_a_second_phone_joins_answers_and_removes_the_lost_one(
    instance: Instance, api: toopher.ToopherApi, phone: TestPhone
) -> None:
    pairing_id = paired(api, phone, "tab@example.com")  # its own user: its own push limit
    tablet = TestPhone(instance.base_url, label="Tablet", site_code=site_code(api))
    tablet.enrol()
    joined = tablet.join(phone.invite())
    assert [(d["device_id"], d["current"]) for d in joined] == [
        (phone.device_id, False), (tablet.device_id, True),
    ]
    request = api.authenticate(pairing_id, "Firefox")
    tablet.allow_always(request.id)
    assert api.get_authentication_status(request.id).granted is True
    again = api.authenticate(pairing_id, "Firefox")
    assert (again.pending, again.granted, again.automated) == (False, True, True)
    (browser,) = phone.remembered()
    assert tablet.forget(browser["id"]) == []
    assert api.authenticate(pairing_id, "Firefox").pending is True
    assert [d["device_id"] for d in tablet.remove_device(phone.device_id)] == [tablet.device_id]
    with pytest.raises(DeviceCallError) as excinfo:
        phone.devices()
    assert excinfo.value.code == "unknown_device"
    assert tablet.remove_device() == []
    with pytest.raises(ToopherApiError):
        api.authenticate(pairing_id, "Firefox")
    tablet.close()


def test_an_idle_connection_is_kept_as_serve_keeps_it(instance: Instance) -> None:
    """The instances keep an idle connection as ``toopher-server serve`` does (75 s),
    not gunicorn's own 2 s, with which a client reusing its connection just as the
    server closed it got no answer (a benchmark burst lost a request that way)."""
    connection = http.client.HTTPConnection("127.0.0.1", instance.port, timeout=10)
    try:
        connection.request("GET", "/v1")
        first = connection.getresponse()
        first.read()
        time.sleep(2.5)  # the time itself is what is tested: past gunicorn's default
        connection.request("GET", "/v1")
        again = connection.getresponse()
        again.read()
        assert again.status == first.status
    finally:
        connection.close()
