"""The usual signed request checked without oauthlib's general machinery.

Every API call is signed (OAuth 1.0a, HMAC-SHA1), and oauthlib's
``SignatureOnlyEndpoint`` took a third of a status read's CPU: it builds a general
request object, collects the parameters of all three places three times over and
percent-encodes each one through two layers of functions. Nearly every request is the
same plain shape: the ``oauth_`` parameters in the ``Authorization`` header, percent-
encoded with unreserved characters only, and a plain query string or form body.
:func:`verify` checks exactly that shape, by oauthlib's rules (the same checks in the
same order of verdicts, its own ``base_string_uri``), and says ``None`` for anything
else: a ``realm``, a token, an ``oauth_`` parameter in the query or body, a header
oauthlib would read differently, unusual characters. The caller then asks oauthlib
(:mod:`toopher_server.oauth`), so a request gets the verdict oauthlib would give either
way; a test compares the two on generated requests (tests/server/test_oauth_fast.py).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import time
from dataclasses import dataclass
from typing import Any, Protocol
from urllib.parse import parse_qsl, quote, unquote, urlsplit

from oauthlib.oauth1.rfc5849.signature import base_string_uri

#: A query string or form body whose every character is one oauthlib's ``urldecode``
#: accepts, with well-formed percent escapes.
_PLAIN_FORM = re.compile(r"(?:[A-Za-z0-9._~+=&-]|%[0-9A-Fa-f]{2})*")
#: An ``Authorization: OAuth`` header of ``name="value"`` pairs, each value percent-
#: encoded with unreserved characters (what every OAuth library sends).
_PAIR_TEXT = r'[a-z_]+="(?:[A-Za-z0-9._~-]|%[0-9A-Fa-f]{2})*"'
_PLAIN_HEADER = re.compile(rf"[Oo][Aa][Uu][Tt][Hh] ((?:{_PAIR_TEXT})(?:, ?{_PAIR_TEXT})*)")
_PAIR = re.compile(r'([a-z_]+)="([^"]*)"')
_UNRESERVED = re.compile(r"[A-Za-z0-9._~-]*")
_MANDATORY = ("oauth_signature", "oauth_consumer_key", "oauth_nonce", "oauth_timestamp",
              "oauth_signature_method")
_FORM = "application/x-www-form-urlencoded"


class Validator(Protocol):
    """What :func:`verify` asks of the service's request validator."""

    dummy_client: str
    allowed_signature_methods: tuple[str, ...]

    @property
    def timestamp_lifetime(self) -> int: ...

    def check_client_key(self, client_key: str) -> bool: ...

    def check_nonce(self, nonce: str) -> bool: ...

    def validate_client_key(self, client_key: str, request: Any) -> bool: ...

    def get_client_secret(self, client_key: str, request: Any) -> str: ...


@dataclass
class Verified:
    """What the caller needs of a checked request (oauthlib's request has these too)."""

    client_key: str
    nonce: str
    timestamp: str
    resource_owner_key: str | None = None


#: ASCII's characters that are not unreserved, each to its ``%XX``.
_ASCII_ESCAPES = str.maketrans({
    chr(code): f"%{code:02X}" for code in range(128) if not _UNRESERVED.fullmatch(chr(code))
})


def escape(value: str) -> str:
    """RFC 5849 §3.6 percent-encoding (oauthlib's ``utils.escape``: ``quote(value,
    safe="~")``), without a per-character Python loop for ASCII text: a value of
    unreserved characters as it is, other ASCII by one table."""
    if _UNRESERVED.fullmatch(value):
        return value
    if value.isascii():
        return value.translate(_ASCII_ESCAPES)
    return quote(value, safe="~")


def _form_pairs(text: str) -> list[tuple[str, str]] | None:
    """``text``'s pairs as oauthlib decodes them, or None when it is not plain."""
    if not text:
        return []
    if not _PLAIN_FORM.fullmatch(text):
        return None
    return parse_qsl(text, keep_blank_values=True)


def _header_params(header: str) -> dict[str, str] | None:
    """The header's ``oauth_`` parameters, unescaped, or None when it is not plain (no
    header, a ``realm`` or another name, a name twice)."""
    found = _PLAIN_HEADER.fullmatch(header)
    if found is None:
        return None
    pairs = _PAIR.findall(found.group(1))
    params = {name: unquote(value) for name, value in pairs}
    if len(params) != len(pairs) or not all(name.startswith("oauth_") for name in params):
        return None
    return params


def verify(
    uri: str, method: str, body: str, headers: dict[str, str], validator: Validator
) -> tuple[bool, Verified | None] | None:
    """oauthlib's verdict on a plain request, as ``SignatureOnlyEndpoint.validate_request``
    gives it (``(valid, request)``), or None when the request is not plain."""
    header = headers.get("Authorization", "")
    if "realm" in header:  # oauthlib then drops every parameter named realm: its way
        return None
    oauth = _header_params(header)
    if oauth is None or "oauth_token" in oauth:
        return None
    query = _form_pairs(urlsplit(uri).query)
    form = body if _FORM in headers.get("Content-Type", "") else ""
    body_pairs = _form_pairs(form)
    if query is None or body_pairs is None:
        return None
    if any(name.startswith("oauth_") for name, _ in query + body_pairs):
        return None
    try:
        base_uri = base_string_uri(uri)
    except ValueError:
        return None
    if not all(oauth.get(name) for name in _MANDATORY):
        return False, None
    if oauth["oauth_signature_method"] not in validator.allowed_signature_methods:
        return False, None
    if oauth.get("oauth_version", "1.0") != "1.0":
        return False, None
    stamp = oauth["oauth_timestamp"]
    if len(stamp) != 10:
        return False, None
    try:
        moment = int(stamp)
    except ValueError:
        return False, None
    if abs(time.time() - moment) > validator.timestamp_lifetime:
        return False, None
    key, nonce = oauth["oauth_consumer_key"], oauth["oauth_nonce"]
    if not validator.check_client_key(key) or not validator.check_nonce(nonce):
        return False, None
    request = Verified(key, nonce, stamp)
    # As oauthlib: an unknown key is checked with a dummy secret (no early answer).
    known = validator.validate_client_key(key, request)
    secret = validator.get_client_secret(key if known else validator.dummy_client, request)
    params = [(name, value) for name, value in oauth.items() if name != "oauth_signature"]
    # Sorted as oauthlib sorts: the (name, value) pairs, not the joined strings.
    encoded = sorted((escape(name), escape(value)) for name, value in params + body_pairs + query)
    normalized = "&".join(f"{name}={value}" for name, value in encoded)
    base_string = f"{escape(method.upper())}&{escape(base_uri)}&{escape(normalized)}"
    digest = hmac.new(f"{escape(secret)}&".encode(), base_string.encode(), hashlib.sha1).digest()
    expected = base64.b64encode(digest)
    signed = hmac.compare_digest(expected, oauth["oauth_signature"].encode("utf-8"))
    return known and signed, request
