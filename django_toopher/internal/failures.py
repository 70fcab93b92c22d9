"""What "Toopher failed" means, stated once: the exceptions to catch, how each one is
classified, and the secret-free description that goes to logs and the audit trail;
and what "the site's own parts failed" means (:data:`INFRASTRUCTURE_ERRORS`)."""

from __future__ import annotations

from enum import Enum

from django.db import DatabaseError

import toopher

from .cache import CacheUnavailable

#: The exceptions a call through the ``toopher`` client may raise. Anything else is a
#: programming error and is left to propagate.
CLIENT_ERRORS: tuple[type[BaseException], ...] = (toopher.ToopherApiError,)
#: The site's own parts did not answer (the database, the cache): the pages answer a
#: 503 with a retry path, the JSON API ``service_unavailable``; nothing was changed.
INFRASTRUCTURE_ERRORS: tuple[type[BaseException], ...] = (DatabaseError, CacheUnavailable)


class Failure(str, Enum):
    """How a failed call to Toopher is handled."""

    DISABLED = "disabled"  # 704: the user turned Toopher off: plain login
    UNKNOWN_USER = "unknown_user"  # 705 (or no local pairing): pairing or plain login
    TERMINAL_UNKNOWN = "terminal_unknown"  # 706: ask for a terminal name, then retry
    DEACTIVATED = "deactivated"  # 707/601: re-pair or refuse
    OUTAGE = "outage"  # unreachable, slow, garbage, 5xx: FAIL_MODE decides
    REFUSED = "refused"  # any other API error (bad credentials...): always refused


def classify(exc: BaseException) -> Failure:
    """The :class:`Failure` of an exception raised by the ``toopher`` client."""
    if isinstance(exc, toopher.UserDisabledError):
        return Failure.DISABLED
    if isinstance(exc, toopher.UserUnknownError):
        return Failure.UNKNOWN_USER
    if isinstance(exc, toopher.TerminalUnknownError):
        return Failure.TERMINAL_UNKNOWN
    if isinstance(exc, toopher.PairingDeactivatedError):
        return Failure.DEACTIVATED
    if isinstance(exc, toopher.ToopherApiError) and not exc.is_service_failure:
        return Failure.REFUSED
    return Failure.OUTAGE


def is_outage(exc: BaseException) -> bool:
    """True when the service failed (unreachable, slow, garbage, 5xx), not refused."""
    return classify(exc) is Failure.OUTAGE


def describe(exc: BaseException) -> str:
    """A short description safe for logs, messages and the audit trail (no secrets,
    no URLs): ``"ToopherTimeoutError"``, ``"ToopherApiError HTTP 403 error 601"``."""
    parts = [type(exc).__name__]
    status = getattr(exc, "status_code", None)
    code = getattr(exc, "error_code", None)
    if status:
        parts.append(f"HTTP {status}")
    if code:
        parts.append(f"error {code}")
    return " ".join(parts)
