"""One database writer at a time, for the standalone server's SQLite file.

SQLite lets one writer in at a time and makes the others poll for the lock, which under
load starves some requests for many seconds. The standalone server therefore runs the
Django part of each request under one fair lock, released while a request merely
waits (an injected latency), so slow answers still overlap. Mounted in a project,
the sandbox does not use it (``enable()`` is never called).
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager

_lock = threading.Lock()
_local = threading.local()
_enabled = False


def enable() -> None:
    """Serialize request handling from now on (called by the standalone server)."""
    global _enabled
    _enabled = True


@contextmanager
def exclusive() -> Iterator[None]:
    """Hold the lock (if enabled) for the duration of the block."""
    if not _enabled:
        yield
        return
    with _lock:
        _local.held = True
        try:
            yield
        finally:
            _local.held = False


@contextmanager
def released() -> Iterator[None]:
    """Let other requests run while this one waits (if this thread holds the lock)."""
    if not getattr(_local, "held", False):
        yield
        return
    _local.held = False
    _lock.release()
    try:
        yield
    finally:
        _lock.acquire()
        _local.held = True
