"""``ToopherIframe``: signed iframe URLs and postback validation (spec §5).

The Toopher iframe is a page of the API embedded in the requester's page. Its URL
is a GET URL signed with OAuth 1.0a in the query string (§5.2). When the user is
done, the iframe hands a signed result to the page, which posts it back to the
requester's server (§5.4); :meth:`ToopherIframe.process_postback` checks it:

1. the required keys are there (``toopher_sig``, ``timestamp``, ``session_token``);
2. the signature matches (HMAC-SHA1 with the consumer secret, compared in
   constant time, §5.5), *before* anything in the data is trusted;
3. the timestamp is younger than ``ttl`` seconds (and not in the future);
4. ``session_token`` equals the request token the caller stored, if it gives one.

Only then is an error result turned into an exception, or the result into a
resource object.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import time
from collections.abc import Iterable, Mapping
from typing import Any
from urllib.parse import parse_qsl, quote_plus, urlencode

from oauthlib import oauth1

from .api import normalize_api_url
from .errors import (
    SignatureValidationError,
    ToopherApiError,
    UserDisabledError,
    error_for,
)
from .resources import AuthenticationRequest, Pairing, User

__all__ = [
    "DEFAULT_IFRAME_TTL",
    "IFRAME_VERSION",
    "MAX_CLOCK_SKEW",
    "ToopherIframe",
    "encode_postback",
    "postback_signature",
]

#: Lifetime, in seconds, of iframe URLs and of postbacks (the 2.0 libraries' default).
DEFAULT_IFRAME_TTL = 300
#: The iframe protocol version sent as ``v``.
IFRAME_VERSION = "2"
#: How far in the future (seconds) a postback timestamp may be, for clock skew.
MAX_CLOCK_SKEW = 60

_REQUIRED_KEYS = ("toopher_sig", "timestamp", "session_token")


# ---------------------------------------------------------------------- postback signature


def _quote_python2(value: str) -> str:
    # Python 2 urllib.urlencode: everything but [A-Za-z0-9_.-] escaped, space -> "+".
    return quote_plus(value, safe="").replace("~", "%7E")


def _quote_python3(value: str) -> str:
    return quote_plus(value, safe="")


def _quote_java(value: str) -> str:
    # HttpClient URLEncodedUtils: like Python 2 but "*" is left alone.
    return _quote_python2(value).replace("%2A", "*")


_QUOTERS = {"python2": _quote_python2, "python3": _quote_python3, "java": _quote_java}


def encode_postback(fields: Mapping[str, str], variant: str = "python2") -> str:
    """Serialize postback fields as signed: sorted by key, form-encoded (§5.5).

    ``variant`` is ``"python2"`` (canonical), ``"python3"`` or ``"java"``; they differ
    only in how ``~`` and ``*`` are escaped.
    """
    quoter = _QUOTERS[variant]
    return "&".join(
        f"{quoter(key)}={quoter(value)}" for key, value in sorted(fields.items())
    )


def postback_signature(fields: Mapping[str, str], consumer_secret: str,
                       variant: str = "python2") -> str:
    """The ``toopher_sig`` of a postback: base64(HMAC-SHA1(secret, encoded fields)).

    ``fields`` must not contain ``toopher_sig``; every value must be a string.
    """
    message = encode_postback(fields, variant).encode("utf-8")
    digest = hmac.new(consumer_secret.encode("utf-8"), message, hashlib.sha1).digest()
    return base64.b64encode(digest).decode("ascii")


# ---------------------------------------------------------------------- helpers


def _iframe_value(value: Any) -> str:
    # The §1.6 vectors sign Python-style booleans ("True"/"False"); the service
    # parsed them case-insensitively.
    if isinstance(value, bool):
        return "True" if value else "False"
    return str(value)


def _flatten(data: Mapping[str, Any]) -> dict[str, str]:
    flat: dict[str, str] = {}
    for key in data:
        value = data[key]
        if isinstance(value, list | tuple):
            value = value[0] if value else ""
        if isinstance(value, bytes):
            value = value.decode("utf-8", errors="replace")
        if not isinstance(value, str):
            raise SignatureValidationError(
                f"Postback field {key!r} is not a string (got {type(value).__name__})"
            )
        flat[str(key)] = value
    return flat


def _postback_fields(data: Mapping[str, Any] | str,
                     framework_fields: Iterable[str]) -> dict[str, str]:
    """The signed fields of a postback, in either of its two forms.

    2.0 helper: one form field ``toopher_iframe_data`` holding a URL-encoded string
    (or that string itself). 1.x helper: every result field as its own form field.
    ``framework_fields`` (e.g. a CSRF token) are removed in both forms.
    """
    if isinstance(data, bytes):
        data = data.decode("utf-8", errors="replace")
    if isinstance(data, str):
        encoded: str | None = data
    elif isinstance(data, Mapping):
        flat = _flatten(data)
        encoded = flat.get("toopher_iframe_data")
        if encoded is None:
            fields = flat
    else:
        raise SignatureValidationError(
            f"Postback data must be a mapping or a string, not {type(data).__name__}"
        )
    if encoded is not None:
        fields = {}
        for key, value in parse_qsl(encoded, keep_blank_values=True):
            fields.setdefault(key, value)  # first value wins, as in 1.x
    for name in framework_fields:
        fields.pop(name, None)
    return fields


def _user_from(fields: Mapping[str, str]) -> dict[str, Any] | None:
    user_id = fields.get("pairing_user_id", fields.get("user_id"))
    if user_id is None:
        return None
    user: dict[str, Any] = {"id": user_id, "name": fields.get("user_name", "")}
    if "user_toopher_authentication_enabled" in fields:
        user["toopher_authentication_enabled"] = fields["user_toopher_authentication_enabled"]
    return user


def _resource_from(fields: dict[str, str]) -> AuthenticationRequest | Pairing | User:
    resource_type = fields.get("resource_type")
    if resource_type is None:  # 1.x results carry no resource_type
        if "granted" in fields:
            resource_type = "authentication_request"
        elif "enabled" in fields:
            resource_type = "pairing"
    raw: dict[str, Any] = dict(fields)
    user = _user_from(fields)
    if resource_type == "authentication_request":
        if user is not None:
            raw["user"] = user
        if "terminal_id" in fields:
            raw["terminal"] = {
                "id": fields["terminal_id"],
                "name": fields.get("terminal_name", ""),
                "requester_specified_id": fields.get("terminal_requester_specified_id", ""),
                **({"user": user} if user is not None else {}),
            }
        if "action_id" in fields or "action_name" in fields:
            raw["action"] = {"id": fields.get("action_id", ""),
                             "name": fields.get("action_name", "")}
        return AuthenticationRequest(raw)
    if resource_type == "pairing":
        if user is not None:
            raw["user"] = user
        return Pairing(raw)
    if resource_type == "requester_user":
        return User(raw)
    raise ToopherApiError(f"The postback resource type is not valid: {resource_type!r}")


# ---------------------------------------------------------------------- the class


class ToopherIframe:
    """Build signed iframe URLs and validate iframe postbacks.

    :param consumer_key: the requester's consumer key.
    :param consumer_secret: the requester's consumer secret.
    :param api_url: the API base URL (default ``https://api.toopher.com/v1``); the
        same ``http://`` rule as :class:`~toopher.ToopherApi` applies.
    """

    def __init__(self, consumer_key: str, consumer_secret: str, api_url: str | None = None,
                 *, allow_insecure_http: bool = False) -> None:
        if not isinstance(consumer_key, str) or not consumer_key:
            raise ValueError("consumer_key must be a non-empty string")
        if not isinstance(consumer_secret, str) or not consumer_secret:
            raise ValueError("consumer_secret must be a non-empty string")
        self.consumer_key = consumer_key
        self._secret = consumer_secret
        self.api_url = normalize_api_url(api_url, allow_insecure_http=allow_insecure_http)

    def __repr__(self) -> str:
        return f"<ToopherIframe key={self.consumer_key!r} api_url={self.api_url!r}>"

    # ------------------------------------------------------------------ URLs

    def get_signed_url(self, path: str, params: Mapping[str, Any], *,
                       ttl: int = DEFAULT_IFRAME_TTL, timestamp: int | None = None,
                       nonce: str | None = None) -> str:
        """Sign ``{api_url}/{path}?{params}&expires=...`` with OAuth 1.0a in the query.

        ``None`` values are dropped; booleans are sent as ``True``/``False``.
        ``timestamp`` (Unix seconds) and ``nonce`` exist for tests; leave them out.
        """
        if not isinstance(ttl, int) or isinstance(ttl, bool) or ttl <= 0:
            raise ValueError(f"ttl must be a positive number of seconds, got {ttl!r}")
        now = int(time.time()) if timestamp is None else int(timestamp)
        query = {k: _iframe_value(v) for k, v in params.items() if v is not None}
        query["expires"] = str(now + ttl)
        client = oauth1.Client(
            self.consumer_key,
            client_secret=self._secret,
            signature_method=oauth1.SIGNATURE_HMAC_SHA1,
            signature_type=oauth1.SIGNATURE_TYPE_QUERY,
            timestamp=str(now),
            nonce=nonce,
        )
        url = f"{self.api_url}/{path.lstrip('/')}?{urlencode(query)}"
        return client.sign(url)[0]

    def get_authentication_url(self, username: str, reset_email: str = "",
                               request_token: str = "", action_name: str = "Log In",
                               requester_metadata: str = "", *,
                               ttl: int = DEFAULT_IFRAME_TTL, timestamp: int | None = None,
                               nonce: str | None = None, **kwargs: Any) -> str:
        """The URL of the all-in-one authentication iframe (``web/authenticate``).

        :param request_token: a fresh random token you keep in the user's session;
            it comes back as ``session_token`` and :meth:`process_postback` checks it.
        :param kwargs: e.g. ``automation_allowed=False``, ``challenge_required=True``,
            ``allow_inline_pairing=False``; any extra is passed through and signed.
        """
        params = {
            "v": IFRAME_VERSION,
            "username": username,
            "reset_email": reset_email,
            "action_name": action_name,
            "session_token": request_token,
            "requester_metadata": requester_metadata,
            **kwargs,
        }
        return self.get_signed_url("web/authenticate", params, ttl=ttl,
                                   timestamp=timestamp, nonce=nonce)

    def get_user_management_url(self, username: str, reset_email: str = "", *,
                                ttl: int = DEFAULT_IFRAME_TTL, timestamp: int | None = None,
                                nonce: str | None = None, **kwargs: Any) -> str:
        """The URL of the pairing and user-management iframe (``web/manage_user``)."""
        params = {"v": IFRAME_VERSION, "username": username, "reset_email": reset_email,
                  **kwargs}
        return self.get_signed_url("web/manage_user", params, ttl=ttl,
                                   timestamp=timestamp, nonce=nonce)

    # ------------------------------------------------------------------ postbacks

    def validate_postback(self, data: Mapping[str, Any] | str,
                          request_token: str | None = None, ttl: int = DEFAULT_IFRAME_TTL,
                          framework_fields: Iterable[str] = (), *,
                          now: float | None = None) -> dict[str, str]:
        """Check a postback and return its signed fields (without ``toopher_sig``).

        :param data: the POSTed form (a dict or Django ``QueryDict``) holding either
            ``toopher_iframe_data`` or every result field; or the
            ``toopher_iframe_data`` string itself.
        :param request_token: the token given to :meth:`get_authentication_url`.
            ``None`` skips the check; always pass it when you have one.
        :param ttl: the maximum age of the result, in seconds.
        :param framework_fields: names of fields your page added (CSRF token...),
            removed before the signature is checked.
        :raises SignatureValidationError: on any failure.
        """
        fields = _postback_fields(data, framework_fields)
        missing = [key for key in _REQUIRED_KEYS if key not in fields]
        if missing:
            raise SignatureValidationError(f"Missing required keys: {', '.join(missing)}")
        submitted = fields.pop("toopher_sig")
        if not self._signature_matches(fields, submitted):
            raise SignatureValidationError(
                "Computed signature does not match submitted signature"
            )
        try:
            timestamp = int(fields["timestamp"])
        except ValueError:
            raise SignatureValidationError("Postback timestamp is not an integer") from None
        age = (time.time() if now is None else now) - timestamp
        if age >= ttl:
            raise SignatureValidationError("TTL expired")
        if age < -MAX_CLOCK_SKEW:
            raise SignatureValidationError("Postback timestamp is in the future")
        if request_token is not None and not hmac.compare_digest(
            request_token.encode("utf-8"), fields["session_token"].encode("utf-8")
        ):
            raise SignatureValidationError("Session token does not match expected value")
        return fields

    def process_postback(self, data: Mapping[str, Any] | str,
                         request_token: str | None = None, ttl: int = DEFAULT_IFRAME_TTL,
                         framework_fields: Iterable[str] = (), *,
                         now: float | None = None) -> AuthenticationRequest | Pairing | User:
        """Validate a postback (see :meth:`validate_postback`) and decode it.

        Returns an :class:`~toopher.AuthenticationRequest`, a :class:`~toopher.Pairing`
        or a :class:`~toopher.User` according to ``resource_type``. A (validly signed)
        error result raises the matching :class:`~toopher.ToopherApiError` subclass,
        e.g. :class:`~toopher.UserDisabledError` for 704.
        """
        fields = self.validate_postback(data, request_token, ttl, framework_fields, now=now)
        if "error_code" in fields:
            raw_code = fields["error_code"].strip()
            code = int(raw_code) if raw_code.isdigit() else None
            raise error_for(code, fields.get("error_message") or None)
        return _resource_from(fields)

    def is_authentication_granted(self, data: Mapping[str, Any] | str,
                                  request_token: str | None = None,
                                  ttl: int = DEFAULT_IFRAME_TTL,
                                  framework_fields: Iterable[str] = (), *,
                                  now: float | None = None,
                                  allow_opted_out: bool = True) -> bool:
        """True iff the postback is valid and grants the authentication.

        A validly signed error 704 (the user opted out of Toopher) counts as granted,
        as in every official library, unless ``allow_opted_out`` is false. Any other
        error, including a failed validation, gives ``False``.
        """
        try:
            result = self.process_postback(data, request_token, ttl, framework_fields, now=now)
        except UserDisabledError:
            return allow_opted_out
        except ToopherApiError:
            return False
        return isinstance(result, AuthenticationRequest) and bool(result)

    # ------------------------------------------------------------------ internals

    def _signature_matches(self, fields: Mapping[str, str], submitted: str) -> bool:
        given = submitted.encode("utf-8")
        matched = False
        for variant in _QUOTERS:  # canonical first; every variant is always computed
            computed = postback_signature(fields, self._secret, variant).encode("ascii")
            matched |= hmac.compare_digest(computed, given)
        return matched
