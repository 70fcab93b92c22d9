"""The Django cache django_toopher uses (``TOOPHER["CACHE_ALIAS"]``), with one rule
for when it fails: every backend error becomes :class:`CacheUnavailable`.

The cache holds the push lock, the rate limits and the upstream answers. Without it
the app fails closed: no push is sent, no limit is skipped, no call to Toopher is made
for a poll; the user is told to try again in a moment (see docs/reliability.md).
"""

from __future__ import annotations

from typing import Any

from django.core.cache import caches

from ..app_settings import app_settings


class CacheUnavailable(Exception):
    """The cache did not answer (a Redis restart, a network fault)."""


class SafeCache:
    """The configured cache, its backend errors raised as :class:`CacheUnavailable`.

    ``ValueError`` passes through: Django's ``incr`` raises it for a missing key.
    """

    def __init__(self, backend: Any) -> None:
        self._backend = backend

    def _call(self, name: str, *args: Any, **kwargs: Any) -> Any:
        try:
            return getattr(self._backend, name)(*args, **kwargs)
        except ValueError:
            raise
        except Exception as exc:  # noqa: BLE001 - any backend's connection error
            raise CacheUnavailable(type(exc).__name__) from exc

    def get(self, key: str, default: Any = None) -> Any:
        return self._call("get", key, default)

    def add(self, key: str, value: Any, timeout: int) -> bool:
        return bool(self._call("add", key, value, timeout=timeout))

    def set(self, key: str, value: Any, timeout: int) -> None:
        self._call("set", key, value, timeout=timeout)

    def incr(self, key: str) -> int:
        return int(self._call("incr", key))

    def delete(self, key: str) -> None:
        self._call("delete", key)


def get_cache() -> SafeCache:
    return SafeCache(caches[app_settings.CACHE_ALIAS])
