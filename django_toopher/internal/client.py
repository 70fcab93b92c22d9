"""The one place that builds a :class:`toopher.ToopherApi` from the settings.

Clients are cached per (key, secret, url, timeout, insecure flag), so the HTTP
connection pool of a client is reused across requests, while a change of
``settings.TOOPHER`` (in tests, say) gives a fresh client at once.
"""

from __future__ import annotations

import functools
from typing import Any

import toopher

from ..app_settings import app_settings


@functools.lru_cache(maxsize=16)
def _build(
    key: str, secret: str, api_url: str, timeout: Any, allow_insecure_http: bool
) -> toopher.ToopherApi:
    return toopher.ToopherApi(
        key, secret, api_url, timeout=timeout, allow_insecure_http=allow_insecure_http
    )


def get_client() -> toopher.ToopherApi:
    """The API client for the current ``TOOPHER`` settings (read on every call)."""
    return _build(
        app_settings.CONSUMER_KEY,
        app_settings.CONSUMER_SECRET,
        app_settings.API_URL,
        app_settings.TIMEOUT,
        app_settings.ALLOW_INSECURE_HTTP,
    )


def clear_cache() -> None:
    """Forget every cached client (tests; credential rotation)."""
    _build.cache_clear()
