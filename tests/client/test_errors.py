"""Error mapping: API error codes, non-JSON and wrong-shaped bodies, 5xx, redirects."""

from __future__ import annotations

import pickle

import pytest

import toopher
from toopher import errors

from .conftest import API_URL, auth_json, pairing_json

PID = "5a0b1c2d-3e4f-4a5b-8c6d-7e8f9a0b1c2d"
INITIATE = f"{API_URL}/authentication_requests/initiate"


@pytest.mark.parametrize(
    ("code", "message", "expected"),
    [
        (704, "The specified user has disabled Toopher authentication.",
         toopher.UserDisabledError),
        (705, "No matching user exists.", toopher.UserUnknownError),
        (706, "No matching terminal exists.", toopher.TerminalUnknownError),
        (707, "Pairing has been deactivated", toopher.PairingDeactivatedError),
        (601, "This pairing has not been authorized to authenticate.",
         toopher.PairingDeactivatedError),
        (601, "THIS PAIRING HAS NOT BEEN AUTHORIZED", toopher.PairingDeactivatedError),
        (601, "This pairing has been deactivated.", toopher.PairingDeactivatedError),
        (601, "Not allowed", toopher.ToopherApiError),
        (400, "Missing parameter: user_name", toopher.ToopherApiError),
        (708, "User requires OTP authentication", toopher.ToopherApiError),
        (12345, "Something new", toopher.ToopherApiError),
    ],
)
def test_error_codes_map_to_classes(mocked, api, code, message, expected):
    mocked.add("POST", INITIATE, status=409, json={"error_code": code, "error_message": message})

    with pytest.raises(toopher.ToopherApiError) as info:
        api.authenticate_by_user_name("jdoe", "abc123")

    exc = info.value
    assert type(exc) is expected
    assert exc.status_code == 409
    assert exc.error_code == code
    assert exc.error_message == message
    assert message in str(exc)
    assert exc.is_service_failure is False


def test_error_code_given_as_string_is_mapped(mocked, api):
    mocked.add("POST", INITIATE, status=409,
               json={"error_code": "707", "error_message": "Pairing has been deactivated"})
    with pytest.raises(toopher.PairingDeactivatedError) as info:
        api.authenticate(PID, "my computer")
    assert info.value.error_code == 707


@pytest.mark.parametrize("status", [400, 401, 403, 404, 409, 429])
def test_client_errors_are_not_service_failures(mocked, api, status):
    mocked.add("GET", f"{API_URL}/pairings/{PID}", status=status,
               json={"error_code": status, "error_message": "Nope"})
    with pytest.raises(toopher.ToopherApiError) as info:
        api.get_pairing_status(PID)
    assert info.value.status_code == status
    assert info.value.is_service_failure is False


@pytest.mark.parametrize("status", [500, 502, 503, 504])
@pytest.mark.parametrize("body", ["<html>Bad Gateway</html>", ""])
def test_5xx_with_non_json_body(mocked, api, status, body):
    mocked.add("GET", f"{API_URL}/pairings/{PID}", status=status, body=body,
               content_type="text/html")
    with pytest.raises(toopher.ToopherApiError) as info:
        api.get_pairing_status(PID)
    exc = info.value
    assert exc.status_code == status
    assert exc.error_code is None
    assert f"HTTP {status}" in str(exc)
    assert exc.is_service_failure is True


def test_5xx_with_json_error_body_keeps_details(mocked, api):
    mocked.add("GET", f"{API_URL}/pairings/{PID}", status=500,
               json={"error_code": 500, "error_message": "Internal error"})
    with pytest.raises(toopher.ToopherApiError) as info:
        api.get_pairing_status(PID)
    assert (info.value.error_code, info.value.error_message) == (500, "Internal error")
    assert info.value.is_service_failure is True


@pytest.mark.parametrize("body", ["<html>Not Found</html>", "[1, 2]", '{"detail": "x"}',
                                  '"just a string"', '{"error_code": null}'])
def test_4xx_without_usable_error_body_falls_back_to_status_line(mocked, api, body):
    mocked.add("GET", f"{API_URL}/pairings/{PID}", status=404, body=body)
    with pytest.raises(toopher.ToopherApiError) as info:
        api.get_pairing_status(PID)
    exc = info.value
    assert type(exc) is toopher.ToopherApiError
    assert exc.status_code == 404
    assert "HTTP 404" in str(exc)
    assert exc.is_service_failure is False


@pytest.mark.parametrize("body", ["<html>ok</html>", "", "{truncated", "\x00\x01"])
def test_2xx_non_json_body_is_malformed(mocked, api, body):
    mocked.add("GET", f"{API_URL}/pairings/{PID}", status=200, body=body)
    with pytest.raises(toopher.ToopherMalformedResponseError) as info:
        api.get_pairing_status(PID)
    assert "could not be decoded as JSON" in str(info.value)
    assert info.value.status_code == 200
    assert info.value.is_service_failure is True


@pytest.mark.parametrize(
    "body",
    [
        [],
        "a string",
        42,
        {},
        {"id": PID},
        pairing_json(user=None),
        pairing_json(user="jdoe"),
        pairing_json(user={"id": "u"}),
        pairing_json(enabled="maybe"),
        pairing_json(pending=None),
        pairing_json(id=["x"]),
        pairing_json(reason_code="many"),
    ],
)
def test_wrong_shaped_pairing_json_is_malformed_not_a_bare_error(mocked, api, body):
    mocked.add("GET", f"{API_URL}/pairings/{PID}", json=body)
    with pytest.raises(toopher.ToopherMalformedResponseError) as info:
        api.get_pairing_status(PID)
    assert "Could not parse Pairing" in str(info.value)
    assert info.value.is_service_failure is True


def test_json_null_body_is_malformed(mocked, api):
    mocked.add("GET", f"{API_URL}/pairings/{PID}", body="null", content_type="application/json")
    with pytest.raises(toopher.ToopherMalformedResponseError, match="expected a JSON object"):
        api.get_pairing_status(PID)


@pytest.mark.parametrize(
    "body",
    [
        {"pending": False, "granted": True},
        auth_json(granted=None),
        auth_json(pending="yes"),
        auth_json(terminal=[1]),
        auth_json(terminal={"name": "no id"}),
        auth_json(user={"id": 1}),
        auth_json(automated=3),
    ],
)
def test_wrong_shaped_authentication_json_is_malformed(mocked, api, body):
    mocked.add("GET", f"{API_URL}/authentication_requests/x", json=body)
    with pytest.raises(toopher.ToopherMalformedResponseError):
        api.get_authentication_status("x")


@pytest.mark.parametrize("status", [301, 302, 307])
def test_redirects_are_not_followed(mocked, api, status):
    mocked.add("GET", f"{API_URL}/pairings/{PID}", status=status,
               headers={"Location": "https://evil.test/v1/pairings/x"})
    with pytest.raises(toopher.ToopherApiError) as info:
        api.get_pairing_status(PID)
    assert info.value.status_code == status
    assert "redirect" in str(info.value)
    assert len(mocked.calls) == 1


def test_2xx_other_than_200_is_success(mocked, api):
    mocked.add("POST", f"{API_URL}/pairings/create", status=201, json=pairing_json())
    assert api.pair("awkward turtle", "jdoe").id == pairing_json()["id"]


def test_error_messages_never_contain_the_secret(mocked):
    secret = "very-secret-value-123"
    client = toopher.ToopherApi("key", secret, API_URL)
    mocked.add("GET", f"{API_URL}/pairings/{PID}", status=500, body="oops")
    with pytest.raises(toopher.ToopherApiError) as info:
        client.get_pairing_status(PID)
    assert secret not in str(info.value)
    assert secret not in repr(info.value)
    assert secret not in repr(client)


@pytest.mark.parametrize(
    "exc",
    [
        toopher.ToopherApiError("m", 409, 601, "Not allowed"),
        toopher.UserDisabledError("m", 409, 704, "opted out"),
        toopher.PairingDeactivatedError("m", 409, 707, "gone"),
        toopher.ToopherTimeoutError("slow"),
        toopher.ToopherMalformedResponseError("bad", status_code=200),
        toopher.SignatureValidationError("bad sig"),
    ],
)
def test_errors_pickle_with_all_fields(exc):
    copy = pickle.loads(pickle.dumps(exc))
    assert type(copy) is type(exc)
    assert (copy.message, copy.status_code, copy.error_code, copy.error_message) == (
        exc.message, exc.status_code, exc.error_code, exc.error_message)
    assert copy.is_service_failure == exc.is_service_failure


def test_exception_tree():
    for cls in (toopher.UserDisabledError, toopher.UserUnknownError,
                toopher.TerminalUnknownError, toopher.PairingDeactivatedError,
                toopher.ToopherTransportError, toopher.ToopherMalformedResponseError,
                toopher.SignatureValidationError):
        assert issubclass(cls, toopher.ToopherApiError)
    for cls in (toopher.ToopherTimeoutError, toopher.ToopherConnectionError,
                toopher.ToopherTLSError):
        assert issubclass(cls, toopher.ToopherTransportError)
        assert cls("x").is_service_failure is True
    assert toopher.ToopherApiError("x").is_service_failure is False
    assert toopher.ToopherApiError("x", status_code=500).is_service_failure is True
    assert toopher.ToopherApiError("x", status_code=499).is_service_failure is False


def test_code_table_lives_in_errors_module():
    assert errors.ERROR_CODE_CLASSES == {
        704: toopher.UserDisabledError,
        705: toopher.UserUnknownError,
        706: toopher.TerminalUnknownError,
        707: toopher.PairingDeactivatedError,
    }
