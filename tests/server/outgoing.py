"""Helpers for the service's outgoing messages: the real delivery (no sandbox sender)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from toopher_server import messaging


@contextmanager
def delivered_by_the_service(sender: messaging.Sender | None = None) -> Iterator[None]:
    """The service's own delivery (Django's mail backend, no SMS) while inside, or
    ``sender``; the sender installed before (the sandbox's outbox) comes back after."""
    before = messaging.installed()
    messaging.install(sender)
    try:
        yield
    finally:
        messaging.install(before)
