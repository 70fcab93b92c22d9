"""``ToopherApi``: the REST client for Toopher API v1.

One public method per endpoint of spec §3; one private :meth:`ToopherApi._request`
does everything else: OAuth 1.0a signing (HMAC-SHA1, in the ``Authorization``
header, through requests-oauthlib), timeouts, JSON decoding and error mapping.
Each client owns one :class:`requests.Session`, so connections are kept alive.
"""

from __future__ import annotations

import ipaddress
import logging
import math
import platform
import ssl
import time
from collections.abc import Mapping
from typing import Any, Literal, TypeVar
from urllib.parse import quote, urlsplit

import requests
import urllib3
from requests_oauthlib import OAuth1

from . import __version__
from .errors import (
    ToopherApiError,
    ToopherConnectionError,
    ToopherMalformedResponseError,
    ToopherTimeoutError,
    ToopherTLSError,
    ToopherTransportError,
    UserUnknownError,
    error_for,
)
from .resources import AuthenticationRequest, Pairing, Resource, User, UserTerminal

__all__ = ["DEFAULT_API_URL", "DEFAULT_TIMEOUT", "USER_AGENT", "ToopherApi"]

#: The production base URL of the (defunct) Toopher service.
DEFAULT_API_URL = "https://api.toopher.com/v1"
#: (connect, read) timeout in seconds used for every call unless configured.
DEFAULT_TIMEOUT: tuple[float, float] = (5.0, 15.0)
#: The User-Agent sent with every call.
USER_AGENT = f"Toopher-Python/{__version__} (Python {platform.python_version()})"

logger = logging.getLogger("toopher")

Timeout = float | tuple[float, float]
_R = TypeVar("_R", bound=Resource)
_Expect = Literal["json", "bytes", "ignore"]


def is_loopback_host(host: str | None) -> bool:
    """True for ``localhost`` (and ``*.localhost``) and addresses in 127.0.0.0/8 or ``::1``."""
    if not host:
        return False
    host = host.strip("[]").lower()
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def normalize_api_url(api_url: str | None, *, allow_insecure_http: bool = False) -> str:
    """Check a base URL and return it without its trailing slash.

    ``https://`` is always accepted. Plain ``http://`` is accepted only for a
    loopback host (127.0.0.0/8, ::1, localhost) or with ``allow_insecure_http``;
    anything else raises :class:`ValueError`.
    """
    url = DEFAULT_API_URL if api_url is None else api_url
    if not isinstance(url, str) or not url.strip():
        raise ValueError("api_url must be a non-empty string such as 'https://api.toopher.com/v1'")
    url = url.strip().rstrip("/")
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"api_url must be an http(s) URL with a host, got {url!r}")
    if parts.query or parts.fragment:
        raise ValueError(f"api_url must not carry a query or fragment, got {url!r}")
    if parts.username or parts.password:
        raise ValueError("api_url must not carry credentials")
    if scheme == "http" and not (allow_insecure_http or is_loopback_host(parts.hostname)):
        raise ValueError(
            f"refusing plain http:// for non-loopback host {parts.hostname!r}: use https://, "
            "or pass allow_insecure_http=True if you really mean it"
        )
    return url


def _check_timeout(timeout: Any) -> Timeout:
    def positive(value: Any) -> bool:
        return (isinstance(value, int | float) and not isinstance(value, bool)
                and math.isfinite(value) and value > 0)

    if positive(timeout):
        return float(timeout)
    if (isinstance(timeout, tuple | list) and len(timeout) == 2
            and all(positive(v) for v in timeout)):
        return (float(timeout[0]), float(timeout[1]))
    raise ValueError(
        "timeout must be a positive number of seconds or a (connect, read) pair of them; "
        f"got {timeout!r} (every call needs a timeout)"
    )


def _wire_value(key: str, value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return value
    if isinstance(value, int | float):
        return str(value)
    raise TypeError(
        f"parameter {key!r} must be a string, number or boolean, not {type(value).__name__}"
    )


def encode_params(params: Mapping[str, Any]) -> dict[str, str]:
    """Turn call parameters into wire strings: booleans become ``"true"``/``"false"``
    and ``None`` values are dropped."""
    return {key: _wire_value(key, value) for key, value in params.items() if value is not None}


def _required(name: str, value: Any) -> str:
    """Refuse, before any call, an argument that must be a non-empty string."""
    if not isinstance(value, str) or not value:
        raise ValueError(f"{name} must be a non-empty string, got {value!r}")
    return value


def _segment(name: str, value: Any) -> str:
    """Quote one path segment (an id) so it cannot change the path."""
    return quote(_required(name, value), safe="")


class ToopherApi:
    """A client for the Toopher API v1.

    :param consumer_key: the requester's consumer key.
    :param consumer_secret: the requester's consumer secret (used for signing only;
        never logged, never shown in ``repr()`` or in errors).
    :param api_url: the base URL, default ``https://api.toopher.com/v1``. A trailing
        slash is tolerated. Plain ``http://`` is refused unless the host is loopback
        or ``allow_insecure_http`` is true.
    :param timeout: seconds, or a ``(connect, read)`` pair; applied to every call.
    :param session: a :class:`requests.Session` to use instead of a new one. The
        client does not close a session it was given.
    :param allow_insecure_http: accept ``http://`` for any host.

    Use it as a context manager, or call :meth:`close`, to release connections.
    """

    def __init__(
        self,
        consumer_key: str,
        consumer_secret: str,
        api_url: str | None = None,
        *,
        timeout: Timeout = DEFAULT_TIMEOUT,
        session: requests.Session | None = None,
        allow_insecure_http: bool = False,
    ) -> None:
        if not isinstance(consumer_key, str) or not consumer_key:
            raise ValueError("consumer_key must be a non-empty string")
        if not isinstance(consumer_secret, str) or not consumer_secret:
            raise ValueError("consumer_secret must be a non-empty string")
        self.consumer_key = consumer_key
        self.api_url = normalize_api_url(api_url, allow_insecure_http=allow_insecure_http)
        self.timeout = _check_timeout(timeout)
        self._owns_session = session is None
        self.session = session if session is not None else requests.Session()
        self._auth = OAuth1(
            consumer_key,
            client_secret=consumer_secret,
            signature_method="HMAC-SHA1",
            signature_type="AUTH_HEADER",
        )

    # ------------------------------------------------------------------ lifecycle

    def close(self) -> None:
        """Close the connections of the session this client created."""
        if self._owns_session:
            self.session.close()

    def __enter__(self) -> ToopherApi:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"<ToopherApi key={self.consumer_key!r} api_url={self.api_url!r}>"

    def __getstate__(self) -> None:
        raise TypeError("ToopherApi holds a live session and credentials; it does not pickle")

    # ------------------------------------------------------------------ pairing

    def pair(self, pairing_phrase: str, user_name: str, **kwargs: Any) -> Pairing:
        """P1: pair ``user_name`` with the phone that shows ``pairing_phrase``."""
        params = {"pairing_phrase": _required("pairing_phrase", pairing_phrase),
                  "user_name": _required("user_name", user_name), **kwargs}
        return self._resource(Pairing, "POST", "pairings/create", params)

    def pair_qr(self, user_name: str, **kwargs: Any) -> Pairing:
        """P2: start a QR pairing; show :meth:`get_qr_code_image` to the user."""
        params = {"user_name": _required("user_name", user_name), **kwargs}
        return self._resource(Pairing, "POST", "pairings/create/qr", params)

    def pair_sms(self, phone_number: str, user_name: str,
                 phone_country: str | None = None) -> Pairing:
        """P3: pair by SMS to ``phone_number`` (non-US numbers start with ``+``)."""
        params = {"phone_number": _required("phone_number", phone_number),
                  "user_name": _required("user_name", user_name),
                  "phone_country": phone_country}
        return self._resource(Pairing, "POST", "pairings/create/sms", params)

    def get_pairing_status(self, pairing_id: str) -> Pairing:
        """P4: the current state of a pairing."""
        path = f"pairings/{_segment('pairing_id', pairing_id)}"
        return self._resource(Pairing, "GET", path)

    def get_qr_code_image(self, pairing_id: str) -> bytes:
        """P5: the QR code of a QR pairing, as image (PNG) bytes."""
        path = f"qr/pairings/{_segment('pairing_id', pairing_id)}"
        return self._request("GET", path, expect="bytes")

    def get_pairing_reset_link(self, pairing_id: str, security_question: str | None = None,
                               security_answer: str | None = None) -> str:
        """P6: a one-time URL with which the user can reset (deactivate) the pairing."""
        path = f"pairings/{_segment('pairing_id', pairing_id)}/generate_reset_link"
        params = {"security_question": security_question, "security_answer": security_answer}
        body = self._request("POST", path, params)
        url = body.get("url") if isinstance(body, dict) else None
        if not isinstance(url, str) or not url:
            raise ToopherMalformedResponseError(
                "Could not parse reset link from response: expected {\"url\": \"...\"}",
                status_code=200,
            )
        return url

    def email_pairing_reset_link(self, pairing_id: str, email: str, **kwargs: Any) -> None:
        """P7: ask the service to email a pairing reset link to ``email``."""
        path = f"pairings/{_segment('pairing_id', pairing_id)}/send_reset_link"
        params = {"reset_email": _required("email", email), **kwargs}
        self._request("POST", path, params, expect="ignore")

    # ------------------------------------------------------------------ authentication

    def authenticate(self, pairing_id: str, terminal_name: str, action_name: str | None = None,
                     **kwargs: Any) -> AuthenticationRequest:
        """A1: ask the phone of a stored pairing to approve ``action_name``.

        Extra keyword arguments go to the API as they are, for instance
        ``terminal_name_extra="<opaque browser id>"`` or ``automation_allowed=False``.
        """
        if not isinstance(terminal_name, str):
            raise ValueError(f"terminal_name must be a string, got {terminal_name!r}")
        params = {"pairing_id": _required("pairing_id", pairing_id),
                  "terminal_name": terminal_name,
                  "action_name": action_name, **kwargs}
        return self._resource(AuthenticationRequest, "POST",
                              "authentication_requests/initiate", params)

    def authenticate_by_user_name(self, user_name: str, terminal_name_extra: str,
                                  action_name: str | None = None,
                                  **kwargs: Any) -> AuthenticationRequest:
        """A1 in zero-storage mode: authenticate by user name and terminal id.

        Raises :class:`~toopher.errors.UserDisabledError` (704: let the user in),
        :class:`~toopher.errors.UserUnknownError` (705: pair first),
        :class:`~toopher.errors.TerminalUnknownError` (706: name the terminal with
        :meth:`create_user_terminal`, then retry) or
        :class:`~toopher.errors.PairingDeactivatedError` (707/601: pair again).
        The terminal id is sent both as ``terminal_name_extra`` (1.x servers) and
        ``requester_specified_terminal_id`` (2015 servers).
        """
        params: dict[str, Any] = {
            "user_name": _required("user_name", user_name),
            "terminal_name_extra": terminal_name_extra,
            "requester_specified_terminal_id": terminal_name_extra,
            "action_name": action_name,
            **kwargs,
        }
        return self._resource(AuthenticationRequest, "POST",
                              "authentication_requests/initiate", params)

    def get_authentication_status(self, authentication_request_id: str) -> AuthenticationRequest:
        """A2: the current state of an authentication request."""
        path = ("authentication_requests/"
                f"{_segment('authentication_request_id', authentication_request_id)}")
        return self._resource(AuthenticationRequest, "GET", path)

    def authenticate_with_otp(self, authentication_request_id: str,
                              otp: str) -> AuthenticationRequest:
        """A3: answer an authentication request with the OTP shown in the app."""
        path = ("authentication_requests/"
                f"{_segment('authentication_request_id', authentication_request_id)}/otp_auth")
        return self._resource(AuthenticationRequest, "POST", path,
                              {"otp": _required("otp", otp)})

    def cancel_authentication_request(self, request_id: str) -> AuthenticationRequest:
        """A4: cancel a pending authentication request; returns its new state.

        The phone drops a cancelled request, and answering it there afterwards changes
        nothing. A request that was already decided is returned unchanged (the call
        is idempotent), so a site may call this whenever a login ends without the
        answer (cancelled, denied locally, expired, replaced). Errors are raised as
        for every call (:class:`~toopher.errors.ToopherApiError` and its transport
        subclasses); a caller that must never block catches those.
        """
        path = f"authentication_requests/{_segment('request_id', request_id)}/cancel"
        return self._resource(AuthenticationRequest, "POST", path)

    # ------------------------------------------------------------------ terminals

    def create_user_terminal(self, user_name: str, terminal_name: str,
                             requester_terminal_id: str) -> UserTerminal:
        """T1: give the terminal ``requester_terminal_id`` of ``user_name`` a friendly name
        (the answer to error 706)."""
        params = {"user_name": _required("user_name", user_name),
                  "name": _required("terminal_name", terminal_name),
                  "name_extra": _required("requester_terminal_id", requester_terminal_id)}
        return self._resource(UserTerminal, "POST", "user_terminals/create", params)

    def get_user_terminal(self, terminal_id: str) -> UserTerminal:
        """T2: a terminal by id."""
        path = f"user_terminals/{_segment('terminal_id', terminal_id)}"
        return self._resource(UserTerminal, "GET", path)

    def update_user_terminal(self, terminal_id: str, **kwargs: Any) -> UserTerminal:
        """T3: update a terminal (for example ``name_extra="00000000"`` to forget it)."""
        path = f"user_terminals/{_segment('terminal_id', terminal_id)}"
        return self._resource(UserTerminal, "POST", path, kwargs)

    # ------------------------------------------------------------------ users

    def create_user(self, user_name: str, **kwargs: Any) -> User:
        """U1: create a user."""
        params = {"name": _required("user_name", user_name), **kwargs}
        return self._resource(User, "POST", "users/create", params)

    def get_user(self, user_id: str) -> User:
        """U2: a user by id."""
        return self._resource(User, "GET", f"users/{_segment('user_id', user_id)}")

    def get_user_by_name(self, user_name: str) -> User:
        """U3: the one user called ``user_name``.

        Raises :class:`~toopher.errors.UserUnknownError` if there is none and
        :class:`~toopher.errors.ToopherApiError` if there are several.
        """
        body = self._request("GET", "users", {"name": _required("user_name", user_name)})
        if not isinstance(body, list):
            raise ToopherMalformedResponseError(
                "Could not parse users from response: expected a JSON array", status_code=200
            )
        if not body:
            raise UserUnknownError(f"No users with name = {user_name}")
        if len(body) > 1:
            raise ToopherApiError(f"Multiple users with name = {user_name}")
        return self._build(User, body[0])

    def update_user(self, user_id: str, **kwargs: Any) -> User:
        """U4: update a user (e.g. ``toopher_authentication_enabled=False``)."""
        return self._resource(User, "POST", f"users/{_segment('user_id', user_id)}", kwargs)

    def set_toopher_enabled_for_user(self, user_name: str, enabled: bool) -> User:
        """U3 + U4: turn Toopher on or off for the user called ``user_name``.

        A disabled (opted-out) user makes zero-storage authentication fail with 704.
        Both the 2015 flag and the older inverse flag are sent.
        """
        if not isinstance(enabled, bool):
            raise TypeError(f"enabled must be True or False, got {enabled!r}")
        user = self.get_user_by_name(user_name)
        return self.update_user(user.id, toopher_authentication_enabled=enabled,
                                disable_toopher_auth=not enabled)

    def reset_user(self, user_name: str) -> None:
        """U5: remove all pairings of ``user_name``; the user must pair again."""
        params = {"user_name": _required("user_name", user_name)}
        self._request("POST", "users/reset", params, expect="ignore")

    def get_user_pairings(self, user_id: str) -> list[Pairing]:
        """U6: every pairing of a user (check ``deactivated`` on each)."""
        body = self._request("GET", f"users/{_segment('user_id', user_id)}/pairings")
        if not isinstance(body, list):
            raise ToopherMalformedResponseError(
                "Could not parse pairings from response: expected a JSON array",
                status_code=200,
            )
        return [self._build(Pairing, item) for item in body]

    # ------------------------------------------------------------------ plumbing

    def _resource(self, cls: type[_R], method: str, path: str,
                  params: Mapping[str, Any] | None = None) -> _R:
        return self._build(cls, self._request(method, path, params))

    @staticmethod
    def _build(cls: type[_R], body: Any) -> _R:
        try:
            return cls(body, _owned=True)  # freshly decoded JSON: no copy needed
        except ToopherMalformedResponseError as exc:
            exc.status_code = exc.status_code or 200
            raise

    def _request(self, method: str, path: str, params: Mapping[str, Any] | None = None,
                 *, expect: _Expect = "json") -> Any:
        """Send one signed call and return its decoded answer.

        ``expect`` is ``"json"`` (return the decoded body), ``"bytes"`` (return the
        raw body, e.g. a PNG) or ``"ignore"`` (return ``None``).
        """
        url = f"{self.api_url}/{path}"
        wire = encode_params(params or {})
        kwargs: dict[str, Any] = {"params": wire} if method == "GET" else {"data": wire}
        headers = {"User-Agent": USER_AGENT, "Accept": "application/json"}
        started = time.monotonic()
        try:
            response = self.session.request(
                method, url, headers=headers, auth=self._auth, timeout=self.timeout,
                allow_redirects=False, **kwargs,
            )
        except (requests.exceptions.RequestException, urllib3.exceptions.HTTPError,
                OSError) as exc:
            # Only the method, path and failure are logged: never parameters (phone
            # numbers, OTPs) nor headers (the signature).
            logger.debug("%s %s failed after %.0f ms: %s", method, path,
                         (time.monotonic() - started) * 1000, type(exc).__name__)
            raise self._transport_error(exc) from exc
        logger.debug("%s %s -> %s in %.0f ms", method, path, response.status_code,
                     (time.monotonic() - started) * 1000)
        return self._decode(response, expect)

    def _transport_error(self, exc: Exception) -> ToopherApiError:
        """The :class:`ToopherTransportError` subclass that says what went wrong.

        Besides the ``requests`` exceptions, this also covers the rare ``urllib3`` and
        socket-level errors that can leak through ``requests``.
        """
        where = f"the Toopher API at {self.api_url}"
        timeout_msg = (f"Timed out talking to {where} (timeout={self.timeout!r}): "
                       f"{type(exc).__name__}")
        if isinstance(exc, requests.exceptions.RequestException):
            if isinstance(exc, requests.exceptions.Timeout):
                return ToopherTimeoutError(timeout_msg)
            if isinstance(exc, requests.exceptions.SSLError):
                return ToopherTLSError(f"TLS failure talking to {where}: {exc}")
            if isinstance(exc, requests.exceptions.ConnectionError):
                return ToopherConnectionError(f"Could not connect to {where}: {exc}")
            return ToopherTransportError(f"No usable answer from {where}: {exc}")
        if isinstance(exc, urllib3.exceptions.TimeoutError | TimeoutError):
            return ToopherTimeoutError(timeout_msg)
        if isinstance(exc, urllib3.exceptions.SSLError | ssl.SSLError):
            return ToopherTLSError(f"TLS failure talking to {where}: {exc}")
        if isinstance(exc, OSError | urllib3.exceptions.ProtocolError):
            return ToopherConnectionError(f"Could not connect to {where}: {exc}")
        return ToopherTransportError(f"No usable answer from {where}: {exc}")

    def _decode(self, response: requests.Response, expect: _Expect) -> Any:
        status = response.status_code
        if status >= 400:
            raise self._error_from(response)
        if not 200 <= status < 300:
            where = response.headers.get("Location", "")
            raise ToopherApiError(
                f"Unexpected HTTP {status} {response.reason or ''} from the Toopher API"
                + (f" (redirect to {where}; check api_url)" if where else ""),
                status_code=status,
            )
        if expect == "bytes":
            return response.content
        if expect == "ignore":
            return None
        try:
            return response.json()
        except ValueError:
            raise ToopherMalformedResponseError(
                f"Response from server could not be decoded as JSON (HTTP {status}, "
                f"Content-Type {response.headers.get('Content-Type', 'unknown')!r})",
                status_code=status,
            ) from None

    @staticmethod
    def _error_from(response: requests.Response) -> ToopherApiError:
        status = response.status_code
        try:
            body = response.json()
        except ValueError:
            body = None
        error_code: int | None = None
        error_message: str | None = None
        if isinstance(body, dict):
            code = body.get("error_code")
            if isinstance(code, int) and not isinstance(code, bool):
                error_code = code
            elif isinstance(code, str) and code.strip().isdigit():
                error_code = int(code.strip())
            message = body.get("error_message")
            if isinstance(message, str):
                error_message = message
        if error_code is None and error_message is None:
            return ToopherApiError(
                f"HTTP {status} {response.reason or ''}".rstrip()
                + " from the Toopher API (no error details in the body)",
                status_code=status,
            )
        return error_for(error_code, error_message, status_code=status)
