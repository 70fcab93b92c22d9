"""The OAuth nonces the sandbox has seen, per consumer key: a reused one is a replay.

Mounted in a project (maybe in several processes), each verified call INSERTs its
nonce and the unique ``(key, nonce)`` constraint refuses a replay: the database is the
one record all processes share.

The standalone server is the only user of its file, so it keeps the record in memory
(:func:`keep_in_memory`): a replay is refused from there, at once, and the nonces reach
the database in batches (:func:`write_pending`, called by the server every
``WRITE_EVERY`` seconds and when it stops). A verified call then makes no SQLite write
while it holds the server's database lock. The file still holds every nonce (a kept
``--db`` refuses, after a restart, the nonces it saw before; the benchmarks count the
calls from it), a fraction of a second later.

Either way a nonce is kept for ``2 * window + 60`` seconds (``window``: the allowed
clock skew, :func:`timestamp_window`): longer than its
timestamp stays acceptable, after which oauthlib refuses the request anyway.
"""

from __future__ import annotations

import functools
import logging
import random
import threading
import time
from collections import deque
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import DatabaseError, IntegrityError, connections
from django.utils import timezone

from . import db
from .models import Nonce

log = logging.getLogger(__name__)

DEFAULT_TIMESTAMP_WINDOW = 300
#: Seconds between two batch writes of the standalone server.
WRITE_EVERY = 0.1
#: Seconds between two deletions of the nonces older than :func:`keep_seconds`.
CLEAN_EVERY = 10.0
#: Unwritten nonces kept for a database that keeps failing (then the oldest go; they
#: are still refused from memory, only the file misses them).
MAX_UNWRITTEN = 200_000
_FIELDS = ("key", "nonce", "timestamp", "created")


class Replayed(Exception):
    """This consumer key has used this nonce before."""


def timestamp_window() -> int:
    """Allowed clock skew, in seconds (setting ``TOOPHER_SANDBOX_TIMESTAMP_WINDOW``)."""
    return int(getattr(settings, "TOOPHER_SANDBOX_TIMESTAMP_WINDOW", DEFAULT_TIMESTAMP_WINDOW))


def keep_seconds() -> int:
    """How long a nonce is kept (and a replay of it refused)."""
    return 2 * timestamp_window() + 60


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


def record(key: str, nonce: str, timestamp: str) -> None:
    """Record that ``key`` used ``nonce`` (its request's ``oauth_timestamp``); raise
    :class:`Replayed` if it did before."""
    if _book is not None:
        _book.record(key, nonce, int(timestamp))
        return
    try:
        _insert(key, nonce, int(timestamp))
    except IntegrityError as exc:  # the unique (key, nonce): used before, or raced in
        raise Replayed(key) from exc
    if random.random() < 0.01:  # noqa: S311 (housekeeping, not security)
        _delete_old()


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
        _delete_old()
    return len(rows)


def _delete_old() -> None:
    cutoff = timezone.now() - timedelta(seconds=keep_seconds())
    try:
        Nonce.objects.using(db.alias()).filter(created__lt=cutoff).delete()
    except DatabaseError as exc:  # housekeeping: the next round tries again
        log.info("toopher_sandbox: could not delete old nonces: %s", exc)


def _insert(key: str, nonce: str, timestamp: int) -> None:
    """One plain INSERT (no model instance, no ``RETURNING``): every signed call of a
    mounted sandbox makes it. In autocommit it commits on its own; inside a transaction
    (a project with ``ATOMIC_REQUESTS``) a savepoint keeps that transaction usable after
    a replay."""
    alias = db.alias()
    connection = connections[alias]
    values: list[Any] = [
        key, nonce, timestamp, connection.ops.adapt_datetimefield_value(timezone.now())
    ]
    if connection.in_atomic_block:
        with db.atomic(), connection.cursor() as cursor:
            cursor.execute(_insert_sql(alias), values)
    else:
        with connection.cursor() as cursor:
            cursor.execute(_insert_sql(alias), values)


@functools.lru_cache(maxsize=8)
def _insert_sql(alias: str) -> str:
    """The nonce INSERT for this database (built once: every signed call makes it)."""
    quote = connections[alias].ops.quote_name
    meta = Nonce._meta
    columns = ", ".join(quote(meta.get_field(name).column or name) for name in _FIELDS)  # type: ignore[union-attr]
    # Only quoted names from the model's metadata; the values are parameters.
    return f"INSERT INTO {quote(meta.db_table)} ({columns}) VALUES (%s, %s, %s, %s)"  # noqa: S608

