"""An independent RFC 5849 (OAuth 1.0a, HMAC-SHA1) checker for the client tests.

Written from the RFC, not with oauthlib, so that it can catch a signing mistake in
the client (which signs through requests-oauthlib/oauthlib). It is itself checked
against the spec's §1.6 vectors in ``test_oauth.py``.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from urllib.parse import parse_qsl, unquote, urlsplit


def enc(value: str) -> str:
    """RFC 3986 percent-encoding with the unreserved set A-Z a-z 0-9 - . _ ~."""
    out = []
    for byte in value.encode("utf-8"):
        char = chr(byte)
        if char.isascii() and (char.isalnum() or char in "-._~"):
            out.append(char)
        else:
            out.append(f"%{byte:02X}")
    return "".join(out)


def base_string_uri(url: str) -> str:
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    host = (parts.hostname or "").lower()
    port = parts.port
    if port and not ((scheme == "http" and port == 80) or (scheme == "https" and port == 443)):
        host = f"{host}:{port}"
    return f"{scheme}://{host}{parts.path or '/'}"


def signature(method: str, url: str, params: list[tuple[str, str]], secret: str) -> str:
    pairs = sorted((enc(k), enc(v)) for k, v in params if k != "oauth_signature")
    normalized = "&".join(f"{k}={v}" for k, v in pairs)
    base = "&".join([method.upper(), enc(base_string_uri(url)), enc(normalized)])
    key = f"{enc(secret)}&".encode()
    return base64.b64encode(hmac.new(key, base.encode(), hashlib.sha1).digest()).decode()


def header(request, name: str) -> str:
    """A request header as text (requests-oauthlib leaves headers as bytes)."""
    value = request.headers[name]
    return value.decode() if isinstance(value, bytes) else value


def parse_authorization(header: str) -> dict[str, str]:
    assert header.startswith("OAuth "), header
    params = {}
    for item in header[len("OAuth "):].split(","):
        key, _, value = item.strip().partition("=")
        assert value.startswith('"') and value.endswith('"'), item
        params[unquote(key)] = unquote(value[1:-1])
    return params


def verify_request(request, consumer_key: str, consumer_secret: str) -> dict[str, str]:
    """Assert that a prepared request carries a valid two-legged OAuth 1.0a
    HMAC-SHA1 ``Authorization`` header; return its oauth parameters."""
    header = request.headers["Authorization"]
    if isinstance(header, bytes):
        header = header.decode()
    oauth = parse_authorization(header)
    assert oauth["oauth_consumer_key"] == consumer_key
    assert oauth["oauth_signature_method"] == "HMAC-SHA1"
    assert oauth["oauth_version"] == "1.0"
    assert oauth["oauth_nonce"]
    assert oauth["oauth_timestamp"].isdigit()
    assert "oauth_token" not in oauth
    params = list(parse_qsl(urlsplit(request.url).query, keep_blank_values=True))
    body = request.body
    if body:
        if isinstance(body, bytes):
            body = body.decode()
        content_type = request.headers.get("Content-Type", "")
        if isinstance(content_type, bytes):
            content_type = content_type.decode()
        assert content_type.startswith("application/x-www-form-urlencoded"), content_type
        params += parse_qsl(body, keep_blank_values=True)
    params += [(k, v) for k, v in oauth.items() if k != "oauth_signature"]
    expected = signature(request.method, request.url, params, consumer_secret)
    assert hmac.compare_digest(expected, oauth["oauth_signature"]), (
        f"bad OAuth signature: expected {expected}, got {oauth['oauth_signature']}"
    )
    return oauth
