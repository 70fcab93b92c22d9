"""Telling Toopher that a push is no longer wanted (A4 ``cancel``), so the phone drops
it: when a login is cancelled, expires, is refused here or is replaced, and when a
one-time password granted it instead.

Best effort, and never in the user's way: the call runs on a small background pool
with the client's own timeouts; a failure is logged and forgotten (the request then
simply expires at Toopher).
"""

from __future__ import annotations

import logging
import threading
from concurrent.futures import Future, ThreadPoolExecutor, wait

import toopher

from ..app_settings import app_settings
from . import failures

logger = logging.getLogger("django_toopher")

_POOL = ThreadPoolExecutor(max_workers=2, thread_name_prefix="django-toopher-cancel")
_IN_FLIGHT: set[Future[None]] = set()
_LOCK = threading.Lock()


def _cancel(client: toopher.ToopherApi, request_id: str) -> None:
    try:
        client.cancel_authentication_request(request_id)
    except failures.CLIENT_ERRORS as exc:
        logger.info("django_toopher: could not cancel a push at Toopher: %s",
                    failures.describe(exc))
    finally:
        client.close()


def cancel_push(request_id: str | None) -> None:
    """Ask Toopher, in the background, to cancel the push ``request_id``."""
    if not request_id:
        return
    client = toopher.ToopherApi(  # its own connection: the pool's threads share nothing
        app_settings.CONSUMER_KEY, app_settings.CONSUMER_SECRET, app_settings.API_URL,
        timeout=app_settings.TIMEOUT, allow_insecure_http=app_settings.ALLOW_INSECURE_HTTP,
    )
    future = _POOL.submit(_cancel, client, request_id)
    with _LOCK:
        _IN_FLIGHT.add(future)
    future.add_done_callback(_forget)


def _forget(future: Future[None]) -> None:
    with _LOCK:
        _IN_FLIGHT.discard(future)


def wait_for_cancels(timeout: float = 10.0) -> None:
    """Wait until every cancel sent so far is done (tests; a graceful shutdown)."""
    with _LOCK:
        pending = set(_IN_FLIGHT)
    wait(pending, timeout=timeout)
