"""The OAuth nonces the service has seen, per consumer key: a reused one is a replay.

Each verified call INSERTs its nonce and the unique ``(key, nonce)`` constraint refuses
a replay: the database is the one record that every instance of the service shares, so
a request replayed to another instance behind the same balancer is refused too.

A nonce is kept for ``2 * window + 60`` seconds (``window``: the allowed clock skew,
:func:`timestamp_window`): longer than its timestamp stays acceptable, after which
oauthlib refuses the request anyway.

A process that is its database's only user may keep the record elsewhere (the
sandbox's standalone server keeps it in memory and writes it in batches:
``toopher_sandbox.speedups``) by :func:`install`-ing a :class:`NonceBook`.
"""

from __future__ import annotations

import logging
import random
from datetime import timedelta
from typing import Any, Protocol

from django.db import DatabaseError, IntegrityError, connections
from django.utils import timezone

from . import db
from .conf import setting_int
from .models import Nonce
from .rowfetch import RowInsert

log = logging.getLogger(__name__)

DEFAULT_TIMESTAMP_WINDOW = 300
_FIELDS = ("key", "nonce", "timestamp", "created")
#: The nonce INSERT (no model instance, no ``RETURNING``): every signed call makes it.
_ROWS = RowInsert(Nonce, _FIELDS)


class Replayed(Exception):
    """This consumer key has used this nonce before."""


class NonceBook(Protocol):
    """Another record of the nonces: ``record`` raises :class:`Replayed` for a reuse."""

    def record(self, key: str, nonce: str, timestamp: int) -> None: ...


_book: NonceBook | None = None


def install(book: NonceBook | None) -> None:
    """Record nonces in ``book`` from now on (None: in the database again)."""
    global _book
    _book = book


def timestamp_window() -> int:
    """Allowed clock skew, in seconds (setting ``TOOPHER_SERVER_TIMESTAMP_WINDOW``)."""
    return setting_int("TIMESTAMP_WINDOW", DEFAULT_TIMESTAMP_WINDOW)


def keep_seconds() -> int:
    """How long a nonce is kept (and a replay of it refused)."""
    return 2 * timestamp_window() + 60


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
        delete_old()


def delete_old() -> None:
    """Delete the nonces older than :func:`keep_seconds` (housekeeping; a failure waits
    for the next round)."""
    cutoff = timezone.now() - timedelta(seconds=keep_seconds())
    try:
        Nonce.objects.using(db.alias()).filter(created__lt=cutoff).delete()
    except DatabaseError as exc:
        log.info("toopher_server: could not delete old nonces: %s", exc)


def _insert(key: str, nonce: str, timestamp: int) -> None:
    """One plain INSERT (no model instance, no ``RETURNING``): every signed call of a
    service makes it. In autocommit it commits on its own; inside a transaction
    (a project with ``ATOMIC_REQUESTS``) a savepoint keeps that transaction usable after
    a replay."""
    alias = db.alias()
    connection = connections[alias]
    values: list[Any] = [
        key, nonce, timestamp, connection.ops.adapt_datetimefield_value(timezone.now())
    ]
    if connection.in_atomic_block:
        with db.atomic(), connection.cursor() as cursor:
            cursor.execute(_ROWS.sql(alias), values)
    else:
        with connection.cursor() as cursor:
            cursor.execute(_ROWS.sql(alias), values)


