"""The OAuth nonces kept in memory, written to the database in batches.

The standalone server is the only user of its file, so it keeps the record of nonces
in memory (:func:`keep_in_memory`): a replay is refused from there, at once, and the
nonces reach the database in batches (:func:`write_pending`, called by the server
every ``WRITE_EVERY`` seconds and when it stops). A verified call then makes no SQLite
write while it holds the server's database lock. The file still holds every nonce (a
kept ``--db`` refuses, after a restart, the nonces it saw before; the benchmarks count
the calls from it), a fraction of a second later.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from datetime import datetime, timedelta

from django.db import DatabaseError
from django.utils import timezone

from toopher_server import db, nonces
from toopher_server.models import Nonce
from toopher_server.nonces import Replayed, keep_seconds

log = logging.getLogger(__name__)

#: Seconds between two batch writes of the standalone server.
WRITE_EVERY = 0.1
#: Seconds between two deletions of the nonces older than :func:`keep_seconds`.
CLEAN_EVERY = 10.0
#: Unwritten nonces kept for a database that keeps failing (then the oldest go; they
#: are still refused from memory, only the file misses them).
MAX_UNWRITTEN = 200_000


class _MemoryBook:
    """The nonces of the last :func:`keep_seconds`, and those not yet in the database."""

    def __init__(self, known: list[tuple[str, str, datetime]]) -> None:
        self.lock = threading.Lock()
        self.seen: set[tuple[str, str]] = set()
        self.arrivals: deque[tuple[datetime, tuple[str, str]]] = deque()
        self.unwritten: list[Nonce] = []
        self.cleaned = time.monotonic()
        for key, nonce, created in sorted(known, key=lambda row: row[2]):
            self.seen.add((key, nonce))
            self.arrivals.append((created, (key, nonce)))

    def record(self, key: str, nonce: str, timestamp: int) -> None:
        now = timezone.now()
        with self.lock:
            if (key, nonce) in self.seen:
                raise Replayed(key)
            self.seen.add((key, nonce))
            self.arrivals.append((now, (key, nonce)))
            self.unwritten.append(Nonce(key=key, nonce=nonce, timestamp=timestamp, created=now))
            self._bound_unwritten()

    def forget_old(self) -> None:
        cutoff = timezone.now() - timedelta(seconds=keep_seconds())
        with self.lock:
            while self.arrivals and self.arrivals[0][0] < cutoff:
                self.seen.discard(self.arrivals.popleft()[1])

    def take(self) -> list[Nonce]:
        with self.lock:
            taken, self.unwritten = self.unwritten, []
        return taken

    def give_back(self, rows: list[Nonce]) -> None:
        with self.lock:
            self.unwritten[:0] = rows
            self._bound_unwritten()

    def _bound_unwritten(self) -> None:
        if len(self.unwritten) > MAX_UNWRITTEN:
            del self.unwritten[: len(self.unwritten) - MAX_UNWRITTEN]

    def clean_due(self) -> bool:
        """True once every ``CLEAN_EVERY`` seconds."""
        now = time.monotonic()
        if now - self.cleaned < CLEAN_EVERY:
            return False
        self.cleaned = now
        return True


_book: _MemoryBook | None = None


def keep_in_memory() -> None:
    """Keep the record in memory from now on (the standalone server, one process),
    starting with the nonces the database holds from the last :func:`keep_seconds`."""
    global _book
    cutoff = timezone.now() - timedelta(seconds=keep_seconds())
    known = list(
        Nonce.objects.using(db.alias())
        .filter(created__gte=cutoff)
        .values_list("key", "nonce", "created")
    )
    _book = _MemoryBook(known)
    nonces.install(_book)


def stop_keeping() -> None:
    """Record nonces in the database again (tests)."""
    global _book
    _book = None
    nonces.install(None)


def write_pending() -> int:
    """Write the nonces kept in memory and not yet in the database; how many.

    The standalone server calls it under its database lock. A failed write keeps them
    for the next one (a replay is refused from memory meanwhile).
    """
    if _book is None:
        return 0
    rows = _book.take()
    if rows:
        try:
            Nonce.objects.using(db.alias()).bulk_create(rows, ignore_conflicts=True)
        except DatabaseError as exc:
            _book.give_back(rows)
            log.warning("toopher_sandbox: could not write %d nonces yet: %s", len(rows), exc)
            return 0
    if _book.clean_due():
        _book.forget_old()
        nonces.delete_old()
    return len(rows)
