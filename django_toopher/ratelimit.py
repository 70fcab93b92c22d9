"""Cache-based limits: pushes per user, one-time-password tries per pending login.

The counters live in the Django cache (``TOOPHER["CACHE_ALIAS"]``), so every
process and instance that shares the cache shares the limits. A window starts at
the first hit and ends ``window`` seconds later (``cache.add`` + ``cache.incr``).
"""

from __future__ import annotations

from django.core.cache import BaseCache, caches

from .conf import toopher_settings

PREFIX = "django_toopher:rl:"


def get_cache() -> BaseCache:
    return caches[toopher_settings.CACHE_ALIAS]


def hit(key: str, limit: int, window: int) -> bool:
    """Count one hit on ``key``; True while the count is within ``limit``."""
    cache = get_cache()
    full = PREFIX + key
    cache.add(full, 0, timeout=max(1, int(window)))
    try:
        count = cache.incr(full)
    except ValueError:  # expired between add and incr
        cache.add(full, 1, timeout=max(1, int(window)))
        count = 1
    return count <= int(limit)


def count(key: str) -> int:
    return int(get_cache().get(PREFIX + key) or 0)


def reset(key: str) -> None:
    get_cache().delete(PREFIX + key)


def push_key(user_pk: object) -> str:
    return f"push:{user_pk}"


def allow_push(user_pk: object) -> bool:
    """Count one push for the user; False once ``PUSH_RATE_LIMIT`` per window is passed."""
    return hit(
        push_key(user_pk),
        toopher_settings.PUSH_RATE_LIMIT,
        toopher_settings.PUSH_RATE_WINDOW,
    )


def push_limit_reached(user_pk: object) -> bool:
    """True if another push would pass the limit (does not count a hit)."""
    return count(push_key(user_pk)) >= int(toopher_settings.PUSH_RATE_LIMIT)


def allow_otp_try(flow_id: str) -> bool:
    """Count one wrong OTP for a pending login; False once ``OTP_RATE_LIMIT`` is passed."""
    return hit(
        f"otp:{flow_id}",
        toopher_settings.OTP_RATE_LIMIT,
        max(int(toopher_settings.PENDING_TTL), 60),
    )


def otp_tries_left(flow_id: str) -> int:
    return max(0, int(toopher_settings.OTP_RATE_LIMIT) - count(f"otp:{flow_id}"))
