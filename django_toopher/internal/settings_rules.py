"""The rules for the values of ``settings.TOOPHER``, stated once.

:mod:`django_toopher.checks` registers them as system checks; each rule takes the
merged settings (defaults filled in) and returns the check messages it finds.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core import checks

from ..app_settings import DEFAULTS

#: ASVS 5.0 6.5.5 / NIST 63B 5.1.3.2: an out-of-band request lives at most 10 minutes.
MAX_PENDING_TTL = 600

POSITIVE_INTS = (
    "PENDING_TTL",
    "POLL_INTERVAL",
    "PUSH_RATE_LIMIT",
    "PUSH_RATE_WINDOW",
    "OTP_RATE_LIMIT",
    "LOGIN_RATE_LIMIT",
    "LOGIN_RATE_WINDOW",
    "REAUTH_RATE_LIMIT",
    "REAUTH_RATE_WINDOW",
    "PAIRING_TTL",
    "PAIRING_RATE_LIMIT",
    "PAIRING_RATE_WINDOW",
    "TERMINAL_COOKIE_AGE",
    "REAUTH_AGE",
    "ACTION_MAX_AGE",
    "RESET_LINK_MAX_AGE",
)
#: Every setting whose default is True or False must stay a bool.
FLAGS = tuple(name for name, value in DEFAULTS.items() if isinstance(value, bool))
NON_EMPTY_STRINGS = (
    "TERMINAL_COOKIE_NAME", "LOGIN_ACTION_NAME", "DEFAULT_TERMINAL_NAME", "ADAPTER"
)


def error(msg: str, n: int, hint: str | None = None) -> checks.Error:
    return checks.Error(msg, hint=hint, id=f"django_toopher.E{n:03d}")


def warning(msg: str, n: int, hint: str | None = None) -> checks.Warning:
    return checks.Warning(msg, hint=hint, id=f"django_toopher.W{n:03d}")


def ttl_errors(conf: dict[str, Any]) -> list:
    """E007: a time to live above 600 s (ASVS 5.0 6.5.5, NIST SP 800-63B 5.1.3.2)."""
    errors: list = []
    for name in ("PENDING_TTL", "PAIRING_TTL"):
        ttl = conf.get(name)
        if isinstance(ttl, int) and not isinstance(ttl, bool) and ttl > MAX_PENDING_TTL:
            errors.append(
                error(
                    f"TOOPHER['{name}'] is {ttl} s; an approval or pairing request may "
                    f"live at most {MAX_PENDING_TTL} s.",
                    7,
                    hint="ASVS 5.0 6.5.5 and NIST SP 800-63B 5.1.3.2: out-of-band requests "
                    "expire within 10 minutes. 120 s is the default.",
                )
            )
    return errors


def is_positive_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value > 0


def positive_int_errors(conf: dict[str, Any]) -> list:
    return [
        error(f"TOOPHER['{name}'] must be a positive integer, not {conf.get(name)!r}.", 6)
        for name in POSITIVE_INTS
        if not is_positive_int(conf.get(name))
    ]


def poll_errors(conf: dict[str, Any]) -> list:
    ttl, poll = conf.get("PENDING_TTL"), conf.get("POLL_INTERVAL")
    if not isinstance(ttl, int) or not isinstance(poll, int):
        return []
    if not (is_positive_int(ttl) and is_positive_int(poll)) or poll < ttl:
        return []
    return [
        warning(
            f"TOOPHER['POLL_INTERVAL'] ({poll} s) is not shorter than "
            f"TOOPHER['PENDING_TTL'] ({ttl} s).",
            4,
            hint="The pending page would not notice an approval before the login expires.",
        )
    ]


def timeout_errors(conf: dict[str, Any]) -> list:
    timeout = conf.get("TIMEOUT")
    parts = timeout if isinstance(timeout, tuple | list) else (timeout,)
    if 1 <= len(parts) <= 2 and all(
        isinstance(p, int | float) and not isinstance(p, bool) and p > 0 for p in parts
    ):
        return []
    return [
        error(
            "TOOPHER['TIMEOUT'] must be a positive number of seconds or a "
            f"(connect, read) pair of them, not {timeout!r}.",
            8,
            hint="Every API call needs a timeout; None (wait forever) is not allowed.",
        )
    ]


def type_errors(conf: dict[str, Any]) -> list:
    errors = [
        error(f"TOOPHER['{name}'] must be a non-empty string.", 9)
        for name in NON_EMPTY_STRINGS
        if not isinstance(conf.get(name), str) or not str(conf.get(name)).strip()
    ]
    errors.extend(
        error(f"TOOPHER['{name}'] must be True or False, not {conf.get(name)!r}.", 11)
        for name in FLAGS
        if not isinstance(conf.get(name), bool)
    )
    return errors


def exempt_errors(conf: dict[str, Any]) -> list:
    exempt = conf.get("EXEMPT_PATHS")
    if isinstance(exempt, list | tuple) and all(
        isinstance(p, str) and p.startswith("/") and p != "/" for p in exempt
    ):
        return []
    return [
        error(
            f"TOOPHER['EXEMPT_PATHS'] must be a list of path prefixes such as "
            f"'/help/', not {exempt!r}.",
            13,
            hint="'/' is refused: it would exempt the whole site.",
        )
    ]


def cache_errors(conf: dict[str, Any]) -> list:
    alias = conf.get("CACHE_ALIAS")
    if not isinstance(alias, str) or alias not in getattr(settings, "CACHES", {}):
        return [
            error(
                f"TOOPHER['CACHE_ALIAS'] ({alias!r}) is not a key of settings.CACHES.",
                12,
                hint="Rate limits and the poll cache live there. Behind several processes "
                "use a shared cache (Redis, Memcached, database).",
            )
        ]
    if cache_backend(alias).endswith(".DummyCache"):
        return [
            warning(
                f"TOOPHER['CACHE_ALIAS'] ({alias!r}) is a DummyCache: the push and "
                "one-time-password rate limits, the one-push lock and the poll cache are off.",
                5,
                hint="Point CACHE_ALIAS at a real cache (Redis or Memcached behind several "
                "processes; local memory for one process).",
            )
        ]
    return small_cache_warnings(alias)


#: Entries a local-memory cache should hold at least: each pending login keeps about
#: five (the push lock and request, the upstream lock and answer, a rate-limit counter),
#: and LocMemCache evicts at random past MAX_ENTRIES (300 by default), which loses push
#: locks and cached answers (more calls to Toopher) with a few hundred pending logins.
MIN_LOCMEM_ENTRIES = 10_000


def small_cache_warnings(alias: str) -> list:
    """W007: a local-memory cache with the default (or a small) MAX_ENTRIES."""
    if not cache_backend(alias).endswith(".LocMemCache"):
        return []
    options = getattr(settings, "CACHES", {}).get(alias, {}).get("OPTIONS") or {}
    entries = options.get("MAX_ENTRIES", 300)
    if isinstance(entries, int) and entries >= MIN_LOCMEM_ENTRIES:
        return []
    return [
        warning(
            f"TOOPHER['CACHE_ALIAS'] ({alias!r}) is a LocMemCache that holds "
            f"{entries!r} entries; each pending login keeps about five.",
            7,
            hint=f"Set CACHES[{alias!r}]['OPTIONS']['MAX_ENTRIES'] to at least "
            f"{MIN_LOCMEM_ENTRIES}, or use Redis (docs/performance.md).",
        )
    ]


def cache_backend(alias: str) -> str:
    backend = getattr(settings, "CACHES", {}).get(alias, {}).get("BACKEND", "")
    return backend if isinstance(backend, str) else ""


#: Every rule of check_numbers, in the order they report.
NUMBER_RULES = (positive_int_errors, ttl_errors, poll_errors, timeout_errors, type_errors,
                exempt_errors, cache_errors)
