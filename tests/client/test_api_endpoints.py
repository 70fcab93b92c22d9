"""Each ToopherApi method: HTTP method, path, parameters, signing, timeout, result."""

from __future__ import annotations

import platform
from urllib.parse import parse_qsl, urlsplit

import pytest
import responses

import toopher
from toopher.resources import AuthenticationRequest, Pairing, User, UserTerminal

from .conftest import API_URL, KEY, SECRET, auth_json, pairing_json, terminal_json, user_json
from .oauth_check import header, verify_request

PID = "5a0b1c2d-3e4f-4a5b-8c6d-7e8f9a0b1c2d"
AID = "0f1e2d3c-4b5a-4697-a8b9-cadbecfd0e1f"
UID = "1c3e9a1e-8d3f-4a4b-9c1d-2f3e4a5b6c7d"
TID = "7d6c5b4a-3f2e-4d1c-9b0a-8f7e6d5c4b3a"

# (id, call, HTTP method, path under /v1, expected wire params, response body, result type)
CASES = [
    ("pair", lambda a: a.pair("awkward turtle", "jdoe"), "POST", "pairings/create",
     {"pairing_phrase": "awkward turtle", "user_name": "jdoe"}, pairing_json(), Pairing),
    ("pair-extras", lambda a: a.pair("awkward turtle", "jdoe", user_id=UID, flag=True,
                                     dropped=None),
     "POST", "pairings/create",
     {"pairing_phrase": "awkward turtle", "user_name": "jdoe", "user_id": UID, "flag": "true"},
     pairing_json(), Pairing),
    ("pair_qr", lambda a: a.pair_qr("jdoe"), "POST", "pairings/create/qr",
     {"user_name": "jdoe"}, pairing_json(), Pairing),
    ("pair_sms", lambda a: a.pair_sms("+15125551234", "jdoe"), "POST", "pairings/create/sms",
     {"phone_number": "+15125551234", "user_name": "jdoe"}, pairing_json(), Pairing),
    ("pair_sms-country", lambda a: a.pair_sms("5125551234", "jdoe", phone_country="1"),
     "POST", "pairings/create/sms",
     {"phone_number": "5125551234", "user_name": "jdoe", "phone_country": "1"},
     pairing_json(), Pairing),
    ("get_pairing_status", lambda a: a.get_pairing_status(PID), "GET", f"pairings/{PID}",
     {}, pairing_json(), Pairing),
    ("authenticate", lambda a: a.authenticate(PID, "my computer"), "POST",
     "authentication_requests/initiate", {"pairing_id": PID, "terminal_name": "my computer"},
     auth_json(), AuthenticationRequest),
    ("authenticate-extras",
     lambda a: a.authenticate(PID, "my computer", "Change email", terminal_name_extra="abc",
                              automation_allowed=False),
     "POST", "authentication_requests/initiate",
     {"pairing_id": PID, "terminal_name": "my computer", "action_name": "Change email",
      "terminal_name_extra": "abc", "automation_allowed": "false"},
     auth_json(), AuthenticationRequest),
    ("authenticate_by_user_name", lambda a: a.authenticate_by_user_name("jdoe", "abc123"),
     "POST", "authentication_requests/initiate",
     {"user_name": "jdoe", "terminal_name_extra": "abc123",
      "requester_specified_terminal_id": "abc123"},
     auth_json(), AuthenticationRequest),
    ("authenticate_by_user_name-action",
     lambda a: a.authenticate_by_user_name("jdoe", "abc123", "Log in", automation_allowed=True),
     "POST", "authentication_requests/initiate",
     {"user_name": "jdoe", "terminal_name_extra": "abc123",
      "requester_specified_terminal_id": "abc123", "action_name": "Log in",
      "automation_allowed": "true"},
     auth_json(), AuthenticationRequest),
    ("get_authentication_status", lambda a: a.get_authentication_status(AID), "GET",
     f"authentication_requests/{AID}", {}, auth_json(), AuthenticationRequest),
    ("authenticate_with_otp", lambda a: a.authenticate_with_otp(AID, "123456"), "POST",
     f"authentication_requests/{AID}/otp_auth", {"otp": "123456"}, auth_json(),
     AuthenticationRequest),
    ("cancel_authentication_request", lambda a: a.cancel_authentication_request(AID), "POST",
     f"authentication_requests/{AID}/cancel", {}, auth_json(cancelled=True, pending=False),
     AuthenticationRequest),
    ("create_user_terminal", lambda a: a.create_user_terminal("jdoe", "Kitchen PC", "abc123"),
     "POST", "user_terminals/create",
     {"user_name": "jdoe", "name": "Kitchen PC", "name_extra": "abc123"},
     terminal_json(), UserTerminal),
    ("get_user_terminal", lambda a: a.get_user_terminal(TID), "GET", f"user_terminals/{TID}",
     {}, terminal_json(), UserTerminal),
    ("update_user_terminal", lambda a: a.update_user_terminal(TID, name_extra="00000000"),
     "POST", f"user_terminals/{TID}", {"name_extra": "00000000"}, terminal_json(),
     UserTerminal),
    ("create_user", lambda a: a.create_user("jdoe"), "POST", "users/create", {"name": "jdoe"},
     user_json(), User),
    ("get_user", lambda a: a.get_user(UID), "GET", f"users/{UID}", {}, user_json(), User),
    ("update_user", lambda a: a.update_user(UID, toopher_authentication_enabled=False),
     "POST", f"users/{UID}", {"toopher_authentication_enabled": "false"}, user_json(), User),
    ("get_user_by_name", lambda a: a.get_user_by_name("jdoe"), "GET", "users",
     {"name": "jdoe"}, [user_json()], User),
]


@pytest.mark.parametrize(
    ("call", "method", "path", "params", "body", "result_type"),
    [pytest.param(*case[1:], id=case[0]) for case in CASES],
)
def test_endpoint(mocked, api, call, method, path, params, body, result_type):
    mocked.add(method, f"{API_URL}/{path}", json=body)

    result = call(api)

    assert isinstance(result, result_type)
    assert len(mocked.calls) == 1
    request = mocked.calls[0].request
    assert request.method == method
    url = urlsplit(request.url)
    assert (url.scheme, url.netloc, url.path) == ("https", "api.toopher.test", f"/v1/{path}")
    if method == "GET":
        assert not request.body
        sent = parse_qsl(url.query, keep_blank_values=True)
    else:
        assert url.query == ""
        sent = parse_qsl(request.body.decode() if isinstance(request.body, bytes)
                         else request.body, keep_blank_values=True)
    assert dict(sent) == params
    assert len(sent) == len(params)  # no duplicates
    verify_request(request, KEY, SECRET)
    assert request.req_kwargs["timeout"] == (5.0, 15.0)
    assert header(request, "User-Agent") == (
        f"Toopher-Python/{toopher.__version__} (Python {platform.python_version()})"
    )


def test_get_qr_code_image_returns_bytes_without_json_decoding(mocked, api):
    png = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR{not json}"
    mocked.add("GET", f"{API_URL}/qr/pairings/{PID}", body=png, content_type="image/png")

    assert api.get_qr_code_image(PID) == png
    verify_request(mocked.calls[0].request, KEY, SECRET)


def test_get_qr_code_image_error_is_mapped(mocked, api):
    mocked.add("GET", f"{API_URL}/qr/pairings/{PID}", status=404,
               json={"error_code": 404, "error_message": "No such pairing"})
    with pytest.raises(toopher.ToopherApiError) as info:
        api.get_qr_code_image(PID)
    assert info.value.status_code == 404
    assert info.value.error_message == "No such pairing"


def test_get_pairing_reset_link(mocked, api):
    url = f"https://api.toopher.test/v1/pairings/{PID}/reset?reset_authorization=abc"
    mocked.add("POST", f"{API_URL}/pairings/{PID}/generate_reset_link", json={"url": url})

    assert api.get_pairing_reset_link(PID) == url
    request = mocked.calls[0].request
    assert not request.body  # both None: nothing sent
    verify_request(request, KEY, SECRET)


def test_get_pairing_reset_link_with_question(mocked, api):
    mocked.add("POST", f"{API_URL}/pairings/{PID}/generate_reset_link",
               json={"url": "https://x.test/r"})
    api.get_pairing_reset_link(PID, "Pet's name?", "Rex")
    body = dict(parse_qsl(mocked.calls[0].request.body.decode()))
    assert body == {"security_question": "Pet's name?", "security_answer": "Rex"}
    verify_request(mocked.calls[0].request, KEY, SECRET)


@pytest.mark.parametrize("body", [{}, {"url": 5}, [], {"url": ""}])
def test_get_pairing_reset_link_wrong_shape(mocked, api, body):
    mocked.add("POST", f"{API_URL}/pairings/{PID}/generate_reset_link", json=body)
    with pytest.raises(toopher.ToopherMalformedResponseError):
        api.get_pairing_reset_link(PID)


@pytest.mark.parametrize(("status", "body"), [(200, "[]"), (201, "[]"), (200, ""),
                                              (200, "not json")])
def test_email_pairing_reset_link_ignores_body(mocked, api, status, body):
    mocked.add("POST", f"{API_URL}/pairings/{PID}/send_reset_link", status=status, body=body)
    assert api.email_pairing_reset_link(PID, "jdoe@example.com") is None
    request = mocked.calls[0].request
    assert dict(parse_qsl(request.body.decode())) == {"reset_email": "jdoe@example.com"}
    verify_request(request, KEY, SECRET)


def test_reset_user(mocked, api):
    mocked.add("POST", f"{API_URL}/users/reset", json={})
    assert api.reset_user("jdoe") is None
    request = mocked.calls[0].request
    assert dict(parse_qsl(request.body.decode())) == {"user_name": "jdoe"}
    verify_request(request, KEY, SECRET)


def test_get_user_pairings(mocked, api):
    second = pairing_json(id="6b1c2d3e-4f5a-4b6c-9d7e-8f9a0b1c2d3e", deactivated=True)
    mocked.add("GET", f"{API_URL}/users/{UID}/pairings", json=[pairing_json(), second])
    pairings = api.get_user_pairings(UID)
    assert [p.deactivated for p in pairings] == [False, True]
    assert all(isinstance(p, Pairing) for p in pairings)
    verify_request(mocked.calls[0].request, KEY, SECRET)


@pytest.mark.parametrize("body", [{}, {"pairings": []}, [{"id": "x"}]])
def test_get_user_pairings_wrong_shape(mocked, api, body):
    mocked.add("GET", f"{API_URL}/users/{UID}/pairings", json=body)
    with pytest.raises(toopher.ToopherMalformedResponseError):
        api.get_user_pairings(UID)


def test_get_user_by_name_none(mocked, api):
    mocked.add("GET", f"{API_URL}/users", json=[])
    with pytest.raises(toopher.UserUnknownError, match="No users with name = jdoe"):
        api.get_user_by_name("jdoe")


def test_get_user_by_name_several(mocked, api):
    mocked.add("GET", f"{API_URL}/users", json=[user_json(), user_json(id="other")])
    with pytest.raises(toopher.ToopherApiError, match="Multiple users with name = jdoe") as info:
        api.get_user_by_name("jdoe")
    assert type(info.value) is toopher.ToopherApiError


def test_get_user_by_name_not_a_list(mocked, api):
    mocked.add("GET", f"{API_URL}/users", json=user_json())
    with pytest.raises(toopher.ToopherMalformedResponseError):
        api.get_user_by_name("jdoe")


@pytest.mark.parametrize("enabled", [True, False])
def test_set_toopher_enabled_for_user(mocked, api, enabled):
    mocked.add("GET", f"{API_URL}/users", json=[user_json()])
    mocked.add("POST", f"{API_URL}/users/{UID}",
               json=user_json(toopher_authentication_enabled=enabled))

    user = api.set_toopher_enabled_for_user("jdoe", enabled)

    assert user.toopher_authentication_enabled is enabled
    find, update = (c.request for c in mocked.calls)
    assert dict(parse_qsl(urlsplit(find.url).query)) == {"name": "jdoe"}
    assert dict(parse_qsl(update.body.decode())) == {
        "toopher_authentication_enabled": "true" if enabled else "false",
        "disable_toopher_auth": "false" if enabled else "true",
    }
    verify_request(find, KEY, SECRET)
    verify_request(update, KEY, SECRET)


def test_set_toopher_enabled_for_unknown_user_sends_no_update(mocked, api):
    mocked.add("GET", f"{API_URL}/users", json=[])
    with pytest.raises(toopher.UserUnknownError):
        api.set_toopher_enabled_for_user("ghost", False)
    assert len(mocked.calls) == 1


def test_set_toopher_enabled_requires_a_bool(mocked, api):
    with pytest.raises(TypeError):
        api.set_toopher_enabled_for_user("jdoe", "no")
    assert len(mocked.calls) == 0


def test_trailing_slash_in_api_url_is_tolerated(mocked):
    mocked.add("GET", f"{API_URL}/pairings/{PID}", json=pairing_json())
    with toopher.ToopherApi(KEY, SECRET, API_URL + "/") as client:
        client.get_pairing_status(PID)
    assert urlsplit(mocked.calls[0].request.url).path == f"/v1/pairings/{PID}"


def test_default_api_url(mocked):
    mocked.add("GET", f"https://api.toopher.com/v1/pairings/{PID}", json=pairing_json())
    client = toopher.ToopherApi(KEY, SECRET)
    assert client.api_url == "https://api.toopher.com/v1"
    client.get_pairing_status(PID)
    assert mocked.calls[0].request.url == f"https://api.toopher.com/v1/pairings/{PID}"


def test_ids_are_quoted_into_one_path_segment(mocked, api):
    mocked.add("GET", f"{API_URL}/pairings/..%2Fusers%3Fname%3Dx", json=pairing_json())
    api.get_pairing_status("../users?name=x")
    url = urlsplit(mocked.calls[0].request.url)
    assert url.path == "/v1/pairings/..%2Fusers%3Fname%3Dx"
    assert url.query == ""


@pytest.mark.parametrize("bad", ["", None, 5])
def test_bad_ids_are_refused_before_any_call(mocked, api, bad):
    with pytest.raises(ValueError):
        api.get_pairing_status(bad)
    with pytest.raises(ValueError):
        api.get_authentication_status(bad)
    with pytest.raises(ValueError):
        api.cancel_authentication_request(bad)
    assert len(mocked.calls) == 0


def test_cancel_maps_errors_like_every_call(mocked, api):
    mocked.add("POST", f"{API_URL}/authentication_requests/{AID}/cancel", status=404,
               json={"error_code": 404, "error_message": "No authentication request with this id."})
    with pytest.raises(toopher.ToopherApiError) as excinfo:
        api.cancel_authentication_request(AID)
    assert excinfo.value.status_code == 404 and excinfo.value.error_code == 404


def test_unsupported_parameter_type_is_refused_before_any_call(mocked, api):
    with pytest.raises(TypeError, match="extra"):
        api.pair("awkward turtle", "jdoe", extra={"a": 1})
    assert len(mocked.calls) == 0


def test_non_ascii_parameters_are_signed_correctly(mocked, api):
    mocked.add("POST", f"{API_URL}/authentication_requests/initiate", json=auth_json())
    api.authenticate(PID, "Büro PC ~ 100% *ok*", action_name="Überweisung & Co")
    request = mocked.calls[0].request
    assert dict(parse_qsl(request.body.decode()))["terminal_name"] == "Büro PC ~ 100% *ok*"
    verify_request(request, KEY, SECRET)


def test_oauth_checker_rejects_a_tampered_request(mocked, api):
    """The checker used above is not a rubber stamp."""
    mocked.add("POST", f"{API_URL}/pairings/create", json=pairing_json())
    api.pair("awkward turtle", "jdoe")
    request = mocked.calls[0].request.copy()
    request.body = b"pairing_phrase=awkward+turtle&user_name=mallory"
    with pytest.raises(AssertionError, match="bad OAuth signature"):
        verify_request(request, KEY, SECRET)
    with pytest.raises(AssertionError, match="bad OAuth signature"):
        verify_request(mocked.calls[0].request, KEY, SECRET + "x")


def test_readme_example_works_as_written(mocked):
    """The original README example, with ``api_url=`` added."""
    mocked.add("POST", f"{API_URL}/pairings/create",
               json=pairing_json(enabled=False, pending=True))
    mocked.add("POST", f"{API_URL}/authentication_requests/initiate",
               json=auth_json(pending=True, granted=False))
    mocked.add("GET", f"{API_URL}/authentication_requests/{AID}", json=auth_json())
    let_in = False

    api = toopher.ToopherApi("<your consumer key>", "<your consumer secret>", api_url=API_URL)
    pairing_status = api.pair("pairing phrase", "username@yourservice.com")
    auth = api.authenticate(pairing_status.id, "my computer")
    auth_status = api.get_authentication_status(auth.id)
    if (auth_status.pending == False and auth_status.granted == True):  # noqa: E712
        let_in = True

    assert let_in
    assert [c.request.method for c in mocked.calls] == ["POST", "POST", "GET"]


def test_responses_mock_is_strict_about_unknown_urls(api):
    """Sanity: with the mock active, nothing reaches the network."""
    with responses.RequestsMock(), pytest.raises(toopher.ToopherConnectionError):
        api.get_pairing_status(PID)


@pytest.mark.parametrize(
    "call",
    [
        lambda a: a.pair("", "jdoe"),
        lambda a: a.pair("awkward turtle", None),
        lambda a: a.pair_qr(""),
        lambda a: a.pair_sms("", "jdoe"),
        lambda a: a.authenticate(None, "my computer"),
        lambda a: a.authenticate(PID, None),
        lambda a: a.authenticate_by_user_name("", "abc"),
        lambda a: a.authenticate_with_otp(AID, ""),
        lambda a: a.create_user_terminal("jdoe", "", "abc"),
        lambda a: a.create_user_terminal("jdoe", "PC", ""),
        lambda a: a.create_user(""),
        lambda a: a.get_user_by_name(""),
        lambda a: a.reset_user(""),
        lambda a: a.email_pairing_reset_link(PID, ""),
        lambda a: a.get_user_pairings(""),
        lambda a: a.update_user_terminal("", name="x"),
    ],
)
def test_missing_required_arguments_are_refused_before_any_call(mocked, api, call):
    with pytest.raises(ValueError, match="must be"):
        call(api)
    assert len(mocked.calls) == 0


def test_debug_log_names_the_call_but_no_parameters_or_secrets(mocked, caplog):
    client = toopher.ToopherApi(KEY, "the-secret-xyz", API_URL)
    mocked.add("POST", f"{API_URL}/authentication_requests/{AID}/otp_auth", json=auth_json())
    mocked.add("GET", f"{API_URL}/pairings/{PID}", body=ConnectionError("down"))
    with caplog.at_level("DEBUG", logger="toopher"):
        client.authenticate_with_otp(AID, "987654")
        with pytest.raises(toopher.ToopherConnectionError):
            client.get_pairing_status(PID)
    text = caplog.text
    assert f"POST authentication_requests/{AID}/otp_auth -> 200" in text
    assert f"GET pairings/{PID} failed" in text
    for secret in ("987654", "the-secret-xyz", "oauth_signature"):
        assert secret not in text
