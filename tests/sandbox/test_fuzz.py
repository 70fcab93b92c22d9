"""Fuzz every API v1 endpoint of the live sandbox: signed right and wrong, odd ids, odd
parameters. Every answer is a Toopher answer (never a 500, never HTML), and the sandbox
still answers afterwards."""

from __future__ import annotations

import uuid
from urllib.parse import quote, urlencode

import pytest
import requests
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from oauthlib.oauth1 import Client

from .oauth_forge import auth_header, oauth_params, sign

#: (method, path under /v1 with {id} for an id segment) of every API v1 endpoint.
ENDPOINTS = [
    ("POST", "pairings/create"),
    ("POST", "pairings/create/qr"),
    ("POST", "pairings/create/sms"),
    ("GET", "pairings/{id}"),
    ("POST", "pairings/{id}"),
    ("POST", "pairings/{id}/generate_reset_link"),
    ("POST", "pairings/{id}/send_reset_link"),
    ("GET", "qr/pairings/{id}"),
    ("POST", "authentication_requests/initiate"),
    ("GET", "authentication_requests/{id}"),
    ("POST", "authentication_requests/{id}/otp_auth"),
    ("POST", "authentication_requests/{id}/cancel"),
    ("GET", "users"),
    ("POST", "users/create"),
    ("POST", "users/reset"),
    ("GET", "users/{id}"),
    ("POST", "users/{id}"),
    ("GET", "users/{id}/pairings"),
    ("POST", "user_terminals/create"),
    ("GET", "user_terminals/{id}"),
    ("POST", "user_terminals/{id}"),
]
#: Parameter names the endpoints read, plus OAuth ones and nonsense.
NAMES = [
    "user_name", "name", "pairing_phrase", "pairing_token", "phone_number", "phone_country",
    "pairing_id", "terminal_name", "terminal_name_extra", "requester_specified_terminal_id",
    "action_name", "automation_allowed", "challenge_required", "otp", "deactivated",
    "toopher_authentication_enabled", "disable_toopher_auth", "name_extra", "reset_email",
    "security_question", "user_id", "terminal_id", "oauth_token", "oauth_nonce",
    "oauth_signature", "oauth_consumer_key", "", "x" * 300,
]
SIGNINGS = ["header", "query", "body", "wrong_secret", "unsigned", "empty_token",
            "token", "stale", "garbage_header", "duplicate_oauth"]
ALLOWED = {200, 400, 401, 403, 404, 405, 409, 413, 429}

texts = st.text(max_size=40) | st.sampled_from(
    ["", "true", "false", "0", "1", "awkward turtle", "+15125551234", "a@b.c", "%00", "\x00"]
)
ids = st.one_of(
    st.uuids(version=4).map(str),
    st.just(str(uuid.UUID(int=0))),
    st.text(min_size=1, max_size=50),
    st.sampled_from(["..", ".", "%2F", "a;x=1", "x%2F..%2Fy", " ", "ÿ", "\u2603"]),
)
params = st.lists(st.tuples(st.sampled_from(NAMES) | st.text(max_size=10), texts), max_size=6)


def _url(api_url: str, path: str, ident: str) -> str:
    # Dots are escaped too: urllib3 would remove a ".." segment before sending, and the
    # request would reach another path than the one fuzzed (the raw-socket tests send
    # "/v1/../x" as it is).
    return f"{api_url}/{path.format(id=quote(ident, safe='').replace('.', '%2E'))}"


def send(requester: dict[str, str], method: str, url: str, pairs: list[tuple[str, str]],
         signing: str) -> requests.Response:
    """One request, signed in the way ``signing`` names."""
    key, secret = requester["key"], requester["secret"]
    headers: dict[str, str] = {}
    query, body = (pairs, []) if method == "GET" else ([], pairs)
    full = f"{url}?{urlencode(query)}" if query else url
    if signing in {"header", "wrong_secret", "empty_token", "token", "stale"}:
        extra = {"empty_token": {"resource_owner_key": ""},
                 "token": {"resource_owner_key": "tok", "resource_owner_secret": "s"}}
        client = Client(key, client_secret="wrong" if signing == "wrong_secret" else secret,
                        timestamp="1" if signing == "stale" else None,
                        **extra.get(signing, {}))
        if signing == "empty_token":  # oauthlib leaves an empty token out: put it in
            oauth = oauth_params(key, oauth_token="")
            headers["Authorization"] = auth_header(
                [*oauth, ("oauth_signature", sign(method, url, query + body + oauth, secret))])
        else:
            form = {"Content-Type": "application/x-www-form-urlencoded"} if body else {}
            _, signed, _ = client.sign(full, http_method=method,
                                       body=urlencode(body) or None, headers=form)
            headers.update(signed)
    elif signing in {"query", "body", "duplicate_oauth"}:
        oauth = oauth_params(key)
        oauth.append(("oauth_signature", sign(method, url, query + body + oauth, secret)))
        if signing == "duplicate_oauth":
            oauth.append(("oauth_nonce", "again"))
        if signing == "body" and method == "POST":
            body = body + oauth
        else:
            query = query + oauth
    elif signing == "garbage_header":
        headers["Authorization"] = f'OAuth oauth_consumer_key="{key}", oauth_nonce=, "x'
    full = f"{url}?{urlencode(query)}" if query else url
    if body:
        headers["Content-Type"] = "application/x-www-form-urlencoded"
    return requests.request(method, full, data=urlencode(body).encode() if body else None,
                            headers=headers, timeout=10, allow_redirects=False)


def assert_toopher_answer(response: requests.Response) -> None:
    """A Toopher answer (``requests``' response, or the Django test client's)."""
    text = response.content[:300]
    assert response.status_code in ALLOWED, (response.status_code, text)
    content_type = response.headers.get("Content-Type", "")
    if response.status_code == 200 and content_type == "image/png":
        return
    assert content_type.startswith("application/json"), (content_type, text)
    data = response.json()
    if response.status_code >= 400:
        assert set(data) == {"error_code", "error_message"}, data
        assert isinstance(data["error_code"], int) and isinstance(data["error_message"], str)
    else:
        assert isinstance(data, dict | list)


@pytest.mark.slow
@pytest.mark.parametrize("method, path", ENDPOINTS, ids=[f"{m} {p}" for m, p in ENDPOINTS])
@settings(max_examples=40, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(ident=ids, pairs=params, signing=st.sampled_from(SIGNINGS),
       other_method=st.booleans())
def test_fuzz_endpoint(
    toopher_sandbox_process, toopher_requester, method, path, ident, pairs, signing, other_method
):
    if other_method:
        method = {"GET": "POST", "POST": "GET"}[method]
    url = _url(toopher_sandbox_process.api_url, path, ident)
    response = send(toopher_requester, method, url, pairs, signing)
    assert_toopher_answer(response)
    if signing in {"wrong_secret", "unsigned", "token", "stale", "garbage_header"}:
        assert response.status_code in {401, 404, 405}, response.text


CONTROL = [
    ("POST", "requesters"), ("POST", "phones"), ("POST", "phones/{id}/phrases"),
    ("GET", "phones/{id}/requests"), ("POST", "pairings/{id}/respond"),
    ("POST", "pairings/{id}/deactivate"), ("GET", "pairings/{id}/otp"),
    ("POST", "authentication_requests/{id}/respond"), ("POST", "automations"),
    ("POST", "faults"), ("GET", "messages"),
]
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | texts
    | st.floats(allow_nan=False, allow_infinity=False),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner,
                                                                 max_size=3),
    max_leaves=6,
)
bodies = st.one_of(
    st.dictionaries(st.sampled_from(["name", "key", "secret", "allow", "grant", "reason",
                                     "automate", "pairing_id", "terminal_id", "action_name",
                                     "phone_number", "pairing_phrase", "latency_ms",
                                     "status", "rate", "malformed"]),
                    json_values, max_size=5),
    json_values,
)


@pytest.mark.slow
@pytest.mark.parametrize("method, path", CONTROL, ids=[f"{m} {p}" for m, p in CONTROL])
@settings(max_examples=25, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(ident=ids, body=bodies, token=st.sampled_from(["right", "wrong", "none"]))
def test_fuzz_control(toopher_sandbox_process, toopher_sandbox, method, path, ident, body, token):
    """The control API with odd JSON: Toopher error JSON, and no change without the token."""
    if isinstance(body, dict) and body.get("latency_ms"):
        body["latency_ms"] = 0  # an accepted latency would only slow the fuzz down
    headers = {"right": {"X-Sandbox-Token": toopher_sandbox.token},
               "wrong": {"X-Sandbox-Token": "x" * 24}, "none": {}}[token]
    url = f"{toopher_sandbox.control_url}/{path.format(id=quote(ident, safe=''))}"
    response = requests.request(method, url, json=body, headers=headers, timeout=10)
    assert_toopher_answer(response)
    if token != "right":
        assert response.status_code in {401, 404, 405}, response.text
    toopher_sandbox.clear_faults()


def test_the_sandbox_still_answers_after_the_fuzz(toopher_sandbox_process, toopher_requester):
    """Run last in this module: the fuzzed sandbox serves a plain signed call."""
    response = send(toopher_requester, "POST", f"{toopher_sandbox_process.api_url}/users/create",
                    [("name", "after the fuzz")], "header")
    assert response.status_code == 200, response.text
    assert response.json()["name"] == "after the fuzz"
