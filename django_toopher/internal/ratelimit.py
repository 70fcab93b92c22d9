"""Cache-based limits: pushes and pairings per user, one-time-password tries per
pending login, password tries on the JSON login per client address, wrong passwords
on re-authentication per user. Each limit's cache key is written here only.

The counters live in the Django cache (``TOOPHER["CACHE_ALIAS"]``), so every process
and instance that shares the cache shares the limits. A window starts at the first
hit and ends ``window`` seconds later (``cache.add`` + ``cache.incr``). A cache that
fails raises :class:`~.cache.CacheUnavailable`, and the caller fails closed.
"""

from __future__ import annotations

import time

from ..app_settings import app_settings
from .cache import get_cache

PREFIX = "django_toopher:rl:"


def hit(key: str, limit: int, window: int) -> bool:
    """Count one hit on ``key``; True while the count is within ``limit``."""
    cache = get_cache()
    full = PREFIX + key
    window = max(1, int(window))
    if cache.add(full, 0, timeout=window):
        cache.set(full + ":until", time.time() + window, timeout=window)
    try:
        count = cache.incr(full)
    except ValueError:  # expired between add and incr
        cache.add(full, 1, timeout=window)
        cache.set(full + ":until", time.time() + window, timeout=window)
        count = 1
    return count <= int(limit)


def retry_after(key: str) -> int:
    """Seconds until the window of ``key`` ends (0 when there is none)."""
    until = get_cache().get(PREFIX + key + ":until")
    if not isinstance(until, int | float):
        return 0
    return max(0, int(until - time.time() + 0.999))


def count(key: str) -> int:
    return int(get_cache().get(PREFIX + key) or 0)


def reset(key: str) -> None:
    get_cache().delete(PREFIX + key)


def push_key(user_pk: object) -> str:
    return f"push:{user_pk}"


def allow_push(user_pk: object) -> bool:
    """Count one push for the user; False once ``PUSH_RATE_LIMIT`` per window is passed."""
    return hit(push_key(user_pk), app_settings.PUSH_RATE_LIMIT, app_settings.PUSH_RATE_WINDOW)


def allow_pairing(user_pk: object) -> bool:
    """Count one started pairing; False once ``PAIRING_RATE_LIMIT`` per window is passed.

    The same limit at login and on the security page."""
    return hit(
        f"pair:{user_pk}", app_settings.PAIRING_RATE_LIMIT, app_settings.PAIRING_RATE_WINDOW
    )


def _otp_key(flow_id: str) -> str:
    return f"otp:{flow_id}"


def allow_otp_try(flow_id: str) -> bool:
    """Count one OTP try of a pending login; False once ``OTP_RATE_LIMIT`` is passed."""
    return hit(
        _otp_key(flow_id), app_settings.OTP_RATE_LIMIT, max(app_settings.PENDING_TTL, 60)
    )


def otp_tries_left(flow_id: str) -> int:
    return max(0, app_settings.OTP_RATE_LIMIT - count(_otp_key(flow_id)))


def login_key(address: str | None) -> str:
    return f"headless-login:{address or 'unknown'}"


def allow_login(address: str | None) -> bool:
    """Count one password try on the JSON login from ``address``; False once
    ``LOGIN_RATE_LIMIT`` per ``LOGIN_RATE_WINDOW`` is passed."""
    return hit(login_key(address), app_settings.LOGIN_RATE_LIMIT,
               app_settings.LOGIN_RATE_WINDOW)


def reauth_key(user_pk: object) -> str:
    return f"reauth:{user_pk}"


def count_wrong_password(user_pk: object) -> None:
    """Count one wrong password on re-authentication (``REAUTH_RATE_LIMIT`` per
    ``REAUTH_RATE_WINDOW``)."""
    hit(reauth_key(user_pk), app_settings.REAUTH_RATE_LIMIT, app_settings.REAUTH_RATE_WINDOW)


def reauth_locked(user_pk: object) -> bool:
    """Whether the user entered ``REAUTH_RATE_LIMIT`` wrong passwords in the window."""
    return count(reauth_key(user_pk)) >= app_settings.REAUTH_RATE_LIMIT
