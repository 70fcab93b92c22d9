"""At most one call to Toopher per poll interval for one thing being waited on,
however many tabs, processes or instances poll it.

The last answer lives in the Django cache (never in the session). ``cache.add`` is
the lock: whoever adds it asks Toopher; everyone else within the interval reads the
cached answer (or none yet). A final answer is kept for the longest pending login.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from typing import Any

from ..app_settings import app_settings
from . import failures
from .cache import CacheUnavailable, get_cache

_PREFIX = "django_toopher:upstream:"


def _digest(scope: str) -> str:
    return hashlib.sha256(scope.encode()).hexdigest()[:32]


def answer_key(scope: str) -> str:
    return f"{_PREFIX}answer:{_digest(scope)}"


def cached(scope: str, fetch: Callable[[], dict[str, Any]]) -> dict[str, Any] | None:
    """The last answer for ``scope`` (``"auth:<id>"``, ``"pairing:<id>"``), asking
    Toopher through ``fetch`` at most once per interval.

    Returns None when another request holds the interval and no answer is cached yet.
    A client error becomes ``{"error": <Failure value>, "detail": ...}``.
    """
    cache = get_cache()
    key = answer_key(scope)
    interval = app_settings.POLL_INTERVAL
    try:
        found = cache.get(key)
        if found is not None:
            return found
        if not cache.add(f"{_PREFIX}lock:{_digest(scope)}", 1, timeout=interval):
            return None
    except CacheUnavailable:
        return None  # fail closed: no lock, no call to Toopher (no storm); ask later
    try:
        answer = fetch()
    except failures.CLIENT_ERRORS as exc:
        answer = {"error": failures.classify(exc).value, "detail": failures.describe(exc)}
    final = not answer.get("pending", True) and "error" not in answer
    try:
        cache.set(key, answer, timeout=app_settings.PENDING_MAX_AGE if final else interval)
    except CacheUnavailable:
        pass  # this poll still has its answer
    return answer


def snapshot(resource: Any, *flags: str) -> dict[str, Any]:
    """What the cache keeps of a resource: its ``id``, ``user_name`` and ``flags``
    (as booleans), never the raw answer."""
    answer: dict[str, Any] = {name: bool(getattr(resource, name, False)) for name in flags}
    answer["id"] = getattr(resource, "id", None)
    answer["user_name"] = getattr(resource, "user_name", None)
    return answer


def forget(scope: str) -> None:
    """Drop the cached answer of ``scope`` (its wait has ended); best effort."""
    try:
        get_cache().delete(answer_key(scope))
    except CacheUnavailable:
        pass  # it expires by itself
