"""The signed terminal cookie: an opaque, random id for this browser.

The cookie value is ``django.core.signing`` output (own salt) over a 192-bit
random id. It does not depend on the user, so one browser used by several people
is one terminal per (user, id) pair in :class:`~django_toopher.models.Terminal`
and at Toopher (``terminal_name_extra`` / ``requester_specified_id``). A cookie
with a bad signature, an expired timestamp or a malformed id counts as no cookie.
The id itself never reaches a log, a template or an error message.
"""

from __future__ import annotations

import re
import secrets

from django.http import HttpRequest, HttpResponse

from .conf import toopher_settings

SALT = "django_toopher.terminal-cookie.v1"
_ID_RE = re.compile(r"\A[A-Za-z0-9_-]{32}\Z")


def new_terminal_id() -> str:
    """A fresh terminal id: 24 random bytes (192 bits), URL-safe base64, 32 characters."""
    return secrets.token_urlsafe(24)


def is_valid_terminal_id(value: object) -> bool:
    return isinstance(value, str) and bool(_ID_RE.match(value))


def read_terminal_id(request: HttpRequest) -> str | None:
    """The terminal id from a valid signed cookie, or None."""
    value = request.get_signed_cookie(
        toopher_settings.TERMINAL_COOKIE_NAME,
        default=None,
        salt=SALT,
        max_age=toopher_settings.TERMINAL_COOKIE_AGE,
    )
    return value if is_valid_terminal_id(value) else None


def set_terminal_cookie(request: HttpRequest, response: HttpResponse, terminal_id: str) -> None:
    """Set the signed cookie: HttpOnly, SameSite=Lax, Secure when the request is."""
    if not is_valid_terminal_id(terminal_id):
        raise ValueError("not a terminal id")
    response.set_signed_cookie(
        toopher_settings.TERMINAL_COOKIE_NAME,
        terminal_id,
        salt=SALT,
        max_age=toopher_settings.TERMINAL_COOKIE_AGE,
        path="/",
        secure=request.is_secure(),
        httponly=True,
        samesite="Lax",
    )


def terminal_id_for(request: HttpRequest) -> str:
    """This browser's terminal id; a new one is made (and set on the response by
    :func:`apply_cookie`) when the request has no valid cookie."""
    pending = getattr(request, "_toopher_new_terminal_id", None)
    if pending:
        return pending
    existing = read_terminal_id(request)
    if existing:
        return existing
    fresh = new_terminal_id()
    request._toopher_new_terminal_id = fresh  # type: ignore[attr-defined]
    return fresh


def remember_terminal_id(request: HttpRequest, terminal_id: str) -> None:
    """Make sure the response carries a cookie for ``terminal_id`` if the browser lacks it."""
    if read_terminal_id(request) != terminal_id:
        request._toopher_new_terminal_id = terminal_id  # type: ignore[attr-defined]


def apply_cookie(request: HttpRequest, response: HttpResponse) -> HttpResponse:
    """Set the cookie chosen during this request, if any (idempotent)."""
    fresh = getattr(request, "_toopher_new_terminal_id", None)
    if fresh and toopher_settings.TERMINAL_COOKIE_NAME not in response.cookies:
        set_terminal_cookie(request, response, fresh)
    return response
