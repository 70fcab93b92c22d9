"""The one place that builds a :class:`toopher.ToopherApi` from the settings.

Clients are cached per (key, secret, url, timeout, insecure flag), so the HTTP
connection pool of a client is reused across requests, while a change of
``settings.TOOPHER`` (in tests, say) gives a fresh client at once.
"""

from __future__ import annotations

import functools
from typing import Any

import toopher

from .conf import toopher_settings


def _timeout(value: Any) -> Any:
    if isinstance(value, list):
        return tuple(value)
    return value


@functools.lru_cache(maxsize=16)
def _build(
    key: str, secret: str, api_url: str, timeout: Any, allow_insecure_http: bool
) -> toopher.ToopherApi:
    return toopher.ToopherApi(
        key,
        secret,
        api_url,
        timeout=timeout,
        allow_insecure_http=allow_insecure_http,
    )


def get_client() -> toopher.ToopherApi:
    """The API client for the current ``TOOPHER`` settings (read on every call)."""
    return _build(
        toopher_settings.CONSUMER_KEY,
        toopher_settings.CONSUMER_SECRET,
        toopher_settings.API_URL,
        _timeout(toopher_settings.TIMEOUT),
        bool(toopher_settings.ALLOW_INSECURE_HTTP),
    )


def clear_cache() -> None:
    """Forget every cached client (tests; credential rotation)."""
    _build.cache_clear()
