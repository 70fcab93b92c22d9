"""Recent authentication: the gate before pairing, unpairing and terminal changes.

A complete login (plain, or approved on the phone) stores its time in
``session[AUTH_AT]``; so does the password re-entry page. Changes to the second
factor need that time to be younger than ``TOOPHER["REAUTH_AGE"]`` seconds
(ASVS 5.0 7.5.1, NIST SP 800-63B 6.1.2.1).
"""

from __future__ import annotations

import contextlib
import logging
import time
from enum import Enum
from typing import Any
from urllib.parse import urlencode

from django.http import HttpRequest
from django.middleware.csrf import rotate_token
from django.urls import reverse

from ..app_settings import app_settings
from ..session_keys import AUTH_AT
from . import ratelimit
from .cache import CacheUnavailable

logger = logging.getLogger("django_toopher")

#: Name of the query parameter that carries the page to return to.
REDIRECT_FIELD_NAME = "next"


def authenticated_at(request: HttpRequest) -> float | None:
    """Unix time of the session's last complete authentication, or None."""
    value = request.session.get(AUTH_AT)
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value)


def is_recently_authenticated(request: HttpRequest, max_age: int | None = None) -> bool:
    """True when the user authenticated less than ``max_age`` (default REAUTH_AGE) s ago."""
    if not request.user.is_authenticated:
        return False
    at = authenticated_at(request)
    if at is None:
        return False
    age = time.time() - at
    limit = app_settings.REAUTH_AGE if max_age is None else max_age
    # A time in the future (clock skew, tampering) is not trusted as recent.
    return -5 <= age < limit


def mark_authenticated(request: HttpRequest) -> None:
    """Record that the user proved who they are just now."""
    request.session[AUTH_AT] = time.time()


def is_locked(request: HttpRequest) -> bool:
    """Too many wrong passwords on re-entry lately (or no cache to count them in:
    fail closed)."""
    try:
        return ratelimit.reauth_locked(request.user.pk)
    except CacheUnavailable:
        return True


def check_password(request: HttpRequest, form: Any) -> bool:
    """Validate a bound :class:`~django_toopher.forms.ReauthenticationForm`, counting a
    wrong password against the limit; on success the authentication time is now."""
    if form.is_valid():
        with contextlib.suppress(CacheUnavailable):
            ratelimit.reset(ratelimit.reauth_key(request.user.pk))
        mark_authenticated(request)
        return True
    if form.has_error("password", "invalid"):
        with contextlib.suppress(CacheUnavailable):  # is_locked() then fails closed
            ratelimit.count_wrong_password(request.user.pk)
        logger.warning("Wrong password on re-authentication, user pk=%s", request.user.pk)
    return False


class Outcome(str, Enum):
    """How a password re-entry ended."""

    DONE = "done"  # the password was right: recently authenticated now
    WRONG = "wrong"  # the form says why (a wrong password was counted)
    LOCKED = "locked"  # too many wrong passwords lately (REAUTH_RATE_LIMIT)
    NO_PASSWORD = "no_password"  # the account has no usable password: log in again


def has_usable_password(user: Any) -> bool:
    """Whether ``user`` can re-enter a password at all (a social login may have none)."""
    return bool(getattr(user, "has_usable_password", lambda: False)())


def reauthenticate(request: HttpRequest, form: Any) -> Outcome:
    """The one way a password re-entry ends, for the page and the JSON API: check the
    bound :class:`~django_toopher.forms.ReauthenticationForm` against the limit; on
    success the authentication time is now, the session key is cycled and the CSRF
    token rotated (as at login). An account without a usable password proves itself
    by logging in again instead; nothing is counted for it."""
    if not has_usable_password(request.user):
        return Outcome.NO_PASSWORD
    if is_locked(request):
        return Outcome.LOCKED
    if not check_password(request, form):
        return Outcome.LOCKED if is_locked(request) else Outcome.WRONG
    request.session.cycle_key()
    rotate_token(request)
    return Outcome.DONE


def reauth_url(request: HttpRequest, next_url: str | None = None) -> str:
    """The password re-entry URL that returns to ``next_url`` (default: this page)."""
    target = next_url or request.get_full_path()
    return f"{reverse('django_toopher:reauth')}?{urlencode({REDIRECT_FIELD_NAME: target})}"
