"""OAuth 1.0a (two-legged, HMAC-SHA1) verification with oauthlib's server side.

Parameters may sit in the ``Authorization`` header, the query string or the form
body (spec §1.3). Each consumer key's nonces are recorded (``nonces``); a
timestamp outside the window, a reused nonce, an unknown key or a wrong signature
all get 401 ``{"error_code": 401, "error_message": "Not a valid OAuth signed request"}``.

Two-legged OAuth has no token: an empty ``oauth_token`` (some libraries send one) is
accepted, a non-empty one is refused with that 401. The signature is checked over the
request target exactly as the client sent it (``REQUEST_URI`` from waitress,
``RAW_URI`` from gunicorn), so ``%2F``, ``;x=1`` or ``..`` in a path verify and then
simply route to a 404.

A requester's secret is read sealed (``Requester.secrets_valid_now()``): during a
rotation's overlap the signature is checked against the current secret, then the
previous one. A secret that does not decrypt (its key left ``TOOPHER_SECRET_KEYS`` too
soon) is a 503, logged without the secret.
"""

from __future__ import annotations

import logging
import string
from typing import Any
from urllib.parse import urlencode

from django.http import HttpRequest
from django.views.decorators.debug import sensitive_variables
from oauthlib.oauth1 import RequestValidator, SignatureOnlyEndpoint
from oauthlib.oauth1.rfc5849 import utils as oauth_utils

from . import lookups, nonces, oauth_fast
from .errors import OAUTH_MESSAGE, ApiError
from .models import Requester
from .nonces import timestamp_window
from .params import body_pairs, is_form, query_pairs, raw_body_text
from .secretbox import SecretBoxError

log = logging.getLogger(__name__)

_SAFE = set(string.ascii_letters + string.digits + "-._~+/=:")
_PRINTABLE = set(string.printable) - set("\t\n\r\x0b\x0c")
KEYS_MESSAGE = "The service cannot verify requests now (its keys are misconfigured)."
_DUMMY_KEY = "toopher-sandbox-dummy-client"
_DUMMY_SECRET = "toopher-sandbox-dummy-secret"  # noqa: S105 (not a credential)


class SandboxRequestValidator(RequestValidator):
    """oauthlib's validator, backed by the service's requesters and nonces."""

    enforce_ssl = False
    allowed_signature_methods = ("HMAC-SHA1",)
    dummy_client = _DUMMY_KEY

    def __init__(self) -> None:
        super().__init__()
        self.requester: Requester | None = None
        #: The requester's secrets valid now (the current one, the previous one during
        #: a rotation's overlap) and which one the next signature check uses.
        self.secrets: list[str] = []
        self.choice = 0

    @property
    def timestamp_lifetime(self) -> int:
        return timestamp_window()

    def check_client_key(self, client_key: str) -> bool:
        return 1 <= len(client_key) <= 200 and set(client_key) <= _PRINTABLE

    def check_nonce(self, nonce: str) -> bool:
        return 1 <= len(nonce) <= 255 and set(nonce) <= _SAFE

    def validate_client_key(self, client_key: str, request) -> bool:
        if self.requester is None or self.requester.key != client_key:
            self.requester = lookups.requester(client_key)
            self.secrets = self.requester.secrets_valid_now() if self.requester else []
        return self.requester is not None

    def get_client_secret(self, client_key: str, request) -> str:
        if self.requester is not None and self.requester.key == client_key:
            if self.choice < len(self.secrets):
                return self.secrets[self.choice]
        return _DUMMY_SECRET

    @property
    def more_secrets(self) -> bool:
        """Whether another valid secret is left to try after the one in use."""
        return self.choice + 1 < len(self.secrets)

    def validate_timestamp_and_nonce(
        self,
        client_key: str,
        timestamp: str,
        nonce: str,
        request: Any,
        request_token: str | None = None,
        access_token: str | None = None,
    ) -> bool:
        """A reused nonce is refused when it is recorded (unique key and nonce), below."""
        return True

    def get_access_token_secret(self, client_key: str, token: str, request: Any) -> str:
        """Two-legged: there are no tokens (a non-empty one is refused after the check)."""
        return ""

    def validate_access_token(self, client_key: str, token: str, request: Any) -> bool:
        return False


def _headers(request: HttpRequest) -> dict[str, str]:
    headers = {}
    if "HTTP_AUTHORIZATION" in request.META:
        headers["Authorization"] = request.META["HTTP_AUTHORIZATION"]
    if request.META.get("CONTENT_TYPE"):
        headers["Content-Type"] = request.META["CONTENT_TYPE"]
    return headers


def consumer_key_of(request: HttpRequest) -> str:
    """The ``oauth_consumer_key`` a request claims, unverified ('' if none)."""
    header = request.META.get("HTTP_AUTHORIZATION", "")
    if header[:6].lower() == "oauth ":
        try:
            for key, value in oauth_utils.parse_authorization_header(header):
                if key == "oauth_consumer_key":
                    return value
        except (ValueError, TypeError, IndexError):
            return ""
    for key, value in query_pairs(request) + body_pairs(request):
        if key == "oauth_consumer_key":
            return value
    return ""


def _body_candidates(request: HttpRequest) -> list[str]:
    """Bodies to verify: with .NET's query/body duplicates collapsed first, then as sent."""
    if request.method != "POST" or not is_form(request):
        return [""]
    body = raw_body_text(request)
    query = set(query_pairs(request))
    pairs = body_pairs(request)
    if query and any(pair in query for pair in pairs):
        collapsed = urlencode([pair for pair in pairs if pair not in query])
        return [collapsed, body]
    return [body]


def sent_target(request: HttpRequest) -> str | None:
    """The request target's path and query as the client sent them (not decoded).

    From the server's raw request URI (``REQUEST_URI``: waitress; ``RAW_URI``:
    gunicorn); an absolute-form target is cut to its path. None when the server gives
    none (Django's test client, runserver).
    """
    raw = request.META.get("REQUEST_URI") or request.META.get("RAW_URI")
    if not isinstance(raw, str) or not raw:
        return None
    raw = raw.split("#", 1)[0]
    if "://" in raw.split("?", 1)[0]:
        after = raw.split("://", 1)[1]
        raw = "/" + after.split("/", 1)[1] if "/" in after else "/"
    return raw if raw.startswith("/") else "/" + raw


def _uri_candidates(request: HttpRequest, unsigned: tuple[str, ...]) -> list[str]:
    """The request URI as sent, then without the query parameters in ``unsigned``."""
    target = sent_target(request)
    if target is None:
        uri, base = request.build_absolute_uri(), request.build_absolute_uri(request.path)
    else:
        uri = f"{request.scheme}://{request.get_host()}{target}"
        base = uri.split("?", 1)[0]
    pairs = query_pairs(request)
    if not any(key in unsigned for key, _ in pairs):
        return [uri]
    kept = urlencode([(k, v) for k, v in pairs if k not in unsigned])
    return [uri, f"{base}?{kept}" if kept else base]


def _validate(
    endpoint: SignatureOnlyEndpoint, uri: str, method: str, body: str, headers: dict[str, str]
) -> tuple[bool, Any]:
    """oauthlib's verdict on one reading of the request; any malformed input is False.
    The usual plain request gets it from :mod:`.oauth_fast`, the rest from oauthlib."""
    validator = endpoint.request_validator
    assert isinstance(validator, SandboxRequestValidator)
    fast = oauth_fast.verify(uri, method, body, headers, validator)
    if fast is not None:
        return fast
    try:
        return endpoint.validate_request(uri, method, body, headers)
    except (ValueError, TypeError, UnicodeError, AttributeError, IndexError, KeyError):
        return False, None
    except NotImplementedError:  # a validator hook oauthlib wanted and we lack
        log.warning("oauthlib asked for an unimplemented validator hook")
        return False, None


def authenticate(request: HttpRequest, unsigned: tuple[str, ...] = ()) -> Requester:
    """Verify the request's OAuth signature and return its requester, or raise a 401.

    ``unsigned`` names query parameters a client may append after signing (the v1
    iframe host script appends ``terminal_name``); the signature is tried with and
    without them.
    """
    return authenticate_with_secret(request, unsigned)[0]


@sensitive_variables()  # this frame and oauthlib's below it hold the secrets
def authenticate_with_secret(
    request: HttpRequest, unsigned: tuple[str, ...] = ()
) -> tuple[Requester, bool]:
    """:func:`authenticate`, and whether the *previous* secret (a rotation's overlap)
    signed the request: the iframe signs its result with the secret the site used."""
    query_pairs(request)  # undecodable input is a 400, before any signature check
    headers = _headers(request)
    validator = SandboxRequestValidator()
    endpoint = SignatureOnlyEndpoint(validator)
    valid, oauth_request = False, None
    candidates = [
        (uri, body)
        for uri in _uri_candidates(request, unsigned)
        for body in _body_candidates(request)
    ]
    try:
        for uri, body in candidates:
            validator.choice = 0
            while True:  # each secret valid now: during a rotation's overlap, old or new
                valid, oauth_request = _validate(endpoint, uri, request.method or "", body, headers)
                if valid or not validator.more_secrets:
                    break
                validator.choice += 1
            if valid:
                break
    except SecretBoxError as exc:  # the key ring misses the key a secret is sealed with
        log.error("a requester's secret does not decrypt (%s): check TOOPHER_SECRET_KEYS", exc)
        raise ApiError(503, 503, KEYS_MESSAGE) from None
    if not valid or oauth_request is None or validator.requester is None:
        raise ApiError(401, 401, OAUTH_MESSAGE)
    # Three-legged (a non-empty oauth_token) is not Toopher's protocol. A token outside
    # the place the other oauth_ parameters are in was refused above already.
    if oauth_request.resource_owner_key:
        raise ApiError(401, 401, OAUTH_MESSAGE)
    try:
        nonces.record(oauth_request.client_key, oauth_request.nonce, oauth_request.timestamp)
    except nonces.Replayed as exc:
        raise ApiError(401, 401, OAUTH_MESSAGE) from exc
    return validator.requester, validator.choice > 0
