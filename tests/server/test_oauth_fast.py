"""toopher_server.oauth_fast gives oauthlib's verdict on every request it answers.

Generated requests (methods, hosts, ports, paths, queries, form and other bodies), each
signed by oauthlib's client and then often spoiled one way (the signature, the clock,
the version, the method, a missing or repeated parameter, a realm, a token, an unknown
key, an ``oauth_`` parameter in the query, the header's spacing or case): wherever the
fast path answers, its verdict is the one of oauthlib's ``SignatureOnlyEndpoint``; and
the plain requests every client sends are answered by the fast path.
"""

from __future__ import annotations

import time
from typing import Any
from urllib.parse import urlencode

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from oauthlib.oauth1 import Client, SignatureOnlyEndpoint

from toopher_server import oauth_fast
from toopher_server.oauth import SandboxRequestValidator

KEY, SECRET = "site-key-123", "s3cret/with+odd&chars=~"  # noqa: S105 (test values)
FORM = "application/x-www-form-urlencoded"


class Validator(SandboxRequestValidator):
    """The service's validator with one requester, without the database."""

    @property
    def timestamp_lifetime(self) -> int:
        return 300

    def validate_client_key(self, client_key: str, request: Any) -> bool:
        return client_key == KEY

    def get_client_secret(self, client_key: str, request: Any) -> str:
        return SECRET if client_key == KEY else "dummy-secret"


def oauthlib_verdict(uri: str, method: str, body: str, headers: dict[str, str]) -> bool:
    try:
        return SignatureOnlyEndpoint(Validator()).validate_request(uri, method, body, headers)[0]
    except (ValueError, TypeError, UnicodeError, AttributeError, IndexError, KeyError):
        return False


texts = st.text(
    alphabet=st.sampled_from("abcXYZ019 -._~+/=&%;:@!é€\"'"), min_size=0, max_size=8)
pairs = st.lists(st.tuples(st.sampled_from(["a", "a-b", "a_b", "B", "x", "realm", "oauth_x"]),
                           texts), max_size=4)
SPOILS = ["none", "signature", "old", "future", "version", "method", "no_nonce", "realm",
          "token", "empty_token", "unknown_key", "spacing", "case", "duplicate", "query_oauth",
          "lower_method"]


@st.composite
def requests(draw: Any) -> tuple[str, str, str, dict[str, str], str]:
    method = draw(st.sampled_from(["GET", "POST", "PUT", "DELETE"]))
    scheme = draw(st.sampled_from(["http", "https", "HTTP"]))
    host = draw(st.sampled_from(["127.0.0.1:8000", "Example.COM", "example.com:80",
                                 "example.com:443", "[::1]:9000"]))
    path = draw(st.sampled_from(["/v1/users", "/v1/a%2Fb", "/v1/x;y=1", "/", "/v1/caf%C3%A9"]))
    query = draw(pairs)
    uri = f"{scheme}://{host}{path}" + (f"?{urlencode(query)}" if query else "")
    kind = draw(st.sampled_from(["form", "json", "none"]))
    if method == "GET":  # oauthlib's client signs no body of a GET
        kind = "none"
    body = urlencode(draw(pairs)) if kind == "form" and method != "GET" else ""
    if kind == "json" and method != "GET":
        body = '{"a": 1}'
    headers = {"Content-Type": FORM} if kind == "form" else (
        {"Content-Type": "application/json"} if kind == "json" else {})
    spoil = draw(st.sampled_from(SPOILS))
    client_args: dict[str, Any] = {"client_secret": SECRET}
    if spoil == "realm":
        client_args["realm"] = "toopher"
    if spoil == "token":
        client_args.update(resource_owner_key="tok", resource_owner_secret="toksecret")
    if spoil == "old":
        client_args["timestamp"] = str(int(time.time()) - 1000)
    if spoil == "future":
        client_args["timestamp"] = str(int(time.time()) + 1000)
    if spoil == "method":
        client_args["signature_method"] = "PLAINTEXT"
    key = "someone-else" if spoil == "unknown_key" else KEY
    sign_body = body if kind == "form" else None
    signed_uri, signed, _ = Client(key, **client_args).sign(
        uri, http_method=method, body=sign_body, headers=dict(headers))
    authorization = signed["Authorization"]
    if spoil == "signature":
        authorization = authorization.replace('oauth_signature="', 'oauth_signature="A')
    if spoil == "version":
        authorization = authorization.replace('oauth_version="1.0"', 'oauth_version="1.1"')
    if spoil == "no_nonce":
        authorization = ", ".join(part for part in authorization.split(", ")
                                  if not part.startswith("oauth_nonce"))
    if spoil == "empty_token":
        authorization += ', oauth_token=""'
    if spoil == "spacing":
        authorization = authorization.replace(", ", ",  ")
    if spoil == "case":
        authorization = "oauth " + authorization[6:]
    if spoil == "duplicate":
        authorization += ', oauth_nonce="again"'
    if spoil == "query_oauth":
        signed_uri += ("&" if "?" in signed_uri else "?") + "oauth_callback=oob"
    if spoil == "lower_method":
        method = method.lower()
    return signed_uri, method, body, {**headers, "Authorization": authorization}, spoil


@settings(max_examples=600, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(requests())
def test_the_fast_path_gives_oauthlibs_verdict(case: tuple) -> None:
    uri, method, body, headers, spoil = case
    fast = oauth_fast.verify(uri, method, body, headers, Validator())
    if fast is not None:
        assert fast[0] == oauthlib_verdict(uri, method, body, headers), (spoil, uri, headers)


def test_the_plain_requests_every_client_sends_take_the_fast_path() -> None:
    """A signed GET with a query, a signed form POST: answered (and valid) by the fast
    path; spoiled, answered invalid by it too."""
    client = Client(KEY, client_secret=SECRET)
    uri, headers, _ = client.sign("http://127.0.0.1:8000/v1/users?name=pat%20smith",
                                  http_method="GET")
    assert oauth_fast.verify(uri, "GET", "", headers, Validator()) is not None
    assert oauth_fast.verify(uri, "GET", "", headers, Validator())[0] is True  # type: ignore[index]
    body = urlencode({"pairing_id": "d3b0", "terminal_name": "Kitchen PC é"})
    form = {"Content-Type": FORM}
    uri, headers, _ = client.sign("https://toopher.example/v1/authentication_requests/initiate",
                                  http_method="POST", body=body, headers=form)
    verdict = oauth_fast.verify(uri, "POST", body, headers, Validator())
    assert verdict is not None and verdict[0] is True
    tampered = body.replace("d3b0", "d3b1")
    verdict = oauth_fast.verify(uri, "POST", tampered, headers, Validator())
    assert verdict is not None and verdict[0] is False
    assert oauthlib_verdict(uri, "POST", tampered, headers) is False


@given(st.text(max_size=40))
def test_escape_is_oauthlibs(value: str) -> None:
    from oauthlib.oauth1.rfc5849.utils import escape

    assert oauth_fast.escape(value) == escape(value)
