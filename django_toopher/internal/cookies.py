"""The two cookies django_toopher writes, and the one place that writes them.

* The signed **terminal cookie**: an opaque random id for this browser
  (``django.core.signing``, own salt, 192 bits). It does not depend on the user, so one
  browser used by several people is one terminal per (user, id) pair here and at
  Toopher. A bad signature, an expired timestamp or a malformed id counts as no
  cookie; the id never reaches a log, a template or an error message.
* The **pending hint**: ``toopher_pending=1`` says only "this browser may have a
  pending login", so the middleware reads the session only when it is present. It is
  a hint, not a control: without it a pending session is still anonymous.

A flow decides what to set during a request (:func:`want_terminal_id`,
:func:`set_hint`, :func:`clear_hint`); :func:`apply` writes it onto the response.
The decisions travel on one request attribute, a :class:`CookieChanges`.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.utils.crypto import salted_hmac

from ..app_settings import app_settings

SALT = "django_toopher.terminal-cookie.v1"
HINT_COOKIE = "toopher_pending"
_ID_RE = re.compile(r"\A[A-Za-z0-9_-]{32}\Z")
_ATTRIBUTE = "_toopher_cookie_changes"


@dataclass
class CookieChanges:
    """What this request decided to write: a terminal id, and the hint (set/clear)."""

    terminal_id: str | None = None
    hint: str | None = None  # "set", "clear" or None


def changes(request: HttpRequest) -> CookieChanges:
    """This request's pending cookie changes (created on first use)."""
    found = getattr(request, _ATTRIBUTE, None)
    if found is None:
        found = CookieChanges()
        setattr(request, _ATTRIBUTE, found)
    return found


# -- the terminal cookie ------------------------------------------------------------


def new_terminal_id() -> str:
    """A fresh terminal id: 24 random bytes (192 bits), URL-safe base64, 32 characters."""
    return secrets.token_urlsafe(24)


def terminal_digest(terminal_id: str) -> str:
    """A keyed hash of a terminal id, for what is kept about forgotten terminals."""
    return salted_hmac(SALT, terminal_id, algorithm="sha256").hexdigest()


def is_valid_terminal_id(value: object) -> bool:
    return isinstance(value, str) and bool(_ID_RE.match(value))


def terminal_token(terminal_id: str) -> str:
    """The signed value of a terminal id: the cookie's value, and what an app client of
    the JSON API keeps and sends back as ``X-Toopher-Terminal``."""
    carrier = HttpResponse()
    carrier.set_signed_cookie(app_settings.TERMINAL_COOKIE_NAME, terminal_id, salt=SALT)
    return carrier.cookies[app_settings.TERMINAL_COOKIE_NAME].value


def read_terminal_id(request: HttpRequest) -> str | None:
    """The terminal id from a valid signed cookie (or, for an app client of the JSON
    API, the ``X-Toopher-Terminal`` header), or None."""
    header = getattr(request, "_toopher_terminal_header", None)
    if header is not None:  # an app client: read the header as the cookie would be
        carrier = HttpRequest()
        carrier.COOKIES[app_settings.TERMINAL_COOKIE_NAME] = header
        request = carrier
    value = request.get_signed_cookie(
        app_settings.TERMINAL_COOKIE_NAME,
        default=None,
        salt=SALT,
        max_age=app_settings.TERMINAL_COOKIE_AGE,
    )
    return value if is_valid_terminal_id(value) else None


def terminal_id_for(request: HttpRequest) -> str:
    """This browser's terminal id: the one chosen in this request, the cookie's, or a
    new one (which the response will then carry)."""
    chosen = changes(request).terminal_id or read_terminal_id(request)
    if chosen is None:
        chosen = new_terminal_id()
    want_terminal_id(request, chosen)
    return chosen


def want_terminal_id(request: HttpRequest, terminal_id: str) -> None:
    """Make sure the response carries a cookie for ``terminal_id`` if the browser lacks it."""
    if read_terminal_id(request) != terminal_id:
        changes(request).terminal_id = terminal_id


def set_terminal_cookie(request: HttpRequest, response: HttpResponse, terminal_id: str) -> None:
    """Set the signed cookie: HttpOnly, SameSite=Lax, Secure when the request is."""
    if not is_valid_terminal_id(terminal_id):
        raise ValueError("not a terminal id")
    response.set_signed_cookie(
        app_settings.TERMINAL_COOKIE_NAME,
        terminal_id,
        salt=SALT,
        max_age=app_settings.TERMINAL_COOKIE_AGE,
        path="/",
        secure=request.is_secure(),
        httponly=True,
        samesite="Lax",
    )


# -- the pending hint ------------------------------------------------------------------


def set_hint(request: HttpRequest) -> None:
    changes(request).hint = "set"


def clear_hint(request: HttpRequest) -> None:
    changes(request).hint = "clear"


# -- writing ------------------------------------------------------------------------------


def spare_session_cookie(request: HttpRequest) -> None:
    """Leave the session cookie alone when this request's session is empty.

    A status poll that raced a grant in another tab (or on another instance) carries
    the session key that grant just cycled away. Its empty session would make
    ``SessionMiddleware`` delete the session cookie, and if this answer arrived last
    the browser would lose the login it was just given. A poll never ends a session.
    """
    if request.session.is_empty():
        request.COOKIES.pop(settings.SESSION_COOKIE_NAME, None)


def apply(request: HttpRequest, response: HttpResponse) -> HttpResponse:
    """Write this request's cookie decisions onto ``response`` (idempotent)."""
    found: CookieChanges | None = getattr(request, _ATTRIBUTE, None)
    if found is None:
        return response
    if found.terminal_id and app_settings.TERMINAL_COOKIE_NAME not in response.cookies:
        set_terminal_cookie(request, response, found.terminal_id)
    if found.hint == "set":
        response.set_cookie(
            HINT_COOKIE,
            "1",
            max_age=app_settings.PENDING_MAX_AGE,
            path="/",
            secure=request.is_secure(),
            httponly=True,
            samesite="Lax",
        )
    elif found.hint == "clear" and HINT_COOKIE in request.COOKIES:
        response.delete_cookie(HINT_COOKIE, path="/", samesite="Lax")
    found.hint = None
    return response
