"""Build OAuth 1.0a requests by hand (with oauthlib's primitives) to test the verifier."""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import time
from urllib.parse import urlencode

from oauthlib.oauth1.rfc5849 import signature
from oauthlib.oauth1.rfc5849.utils import escape


def oauth_params(key: str, *, timestamp: int | None = None, nonce: str | None = None,
                 method: str = "HMAC-SHA1", **extra: str) -> list[tuple[str, str]]:
    """The protocol parameters of a request (without ``oauth_signature``)."""
    return [
        ("oauth_consumer_key", key),
        ("oauth_nonce", nonce or secrets.token_hex(16)),
        ("oauth_timestamp", str(int(time.time()) if timestamp is None else timestamp)),
        ("oauth_signature_method", method),
        ("oauth_version", "1.0"),
        *extra.items(),
    ]


def sign(http_method: str, url: str, signed_params: list[tuple[str, str]], secret: str) -> str:
    """RFC 5849 HMAC-SHA1 over exactly ``signed_params`` (token secret empty)."""
    base = signature.signature_base_string(
        http_method, signature.base_string_uri(url), signature.normalize_parameters(signed_params)
    )
    key = f"{escape(secret)}&".encode()
    return base64.b64encode(hmac.new(key, base.encode(), hashlib.sha1).digest()).decode()


def auth_header(oauth: list[tuple[str, str]]) -> str:
    return "OAuth " + ", ".join(f'{k}="{escape(v)}"' for k, v in oauth)


def query_signed_url(url: str, params: list[tuple[str, str]], key: str, secret: str,
                     method: str = "GET", **oauth_kw) -> str:
    """A URL with the API parameters and the OAuth parameters in the query string."""
    oauth = oauth_params(key, **oauth_kw)
    sig = sign(method, url, params + oauth, secret)
    return f"{url}?{urlencode(params + oauth + [('oauth_signature', sig)])}"
