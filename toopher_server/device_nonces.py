"""The one-time ids devices sign with, kept in the database: a reused one is a replay.

:class:`DatabaseSeenIds` is ``devicesig``'s :class:`~toopher_server.devicesig.SeenIds`
backed by the unique ``(device, nonce)`` constraint of ``DeviceNonce``: the database is
the one record every instance of the service shares, so a call replayed to another
instance behind the same balancer is refused too (as ``nonces`` does for OAuth).

An id is kept until its ``expires_at`` (the signed time plus the clock window's age);
after that the verifier refuses the call as ``stale`` anyway, and a housekeeping round
(about one insert in a hundred) deletes it.
"""

from __future__ import annotations

import logging
import random
import time

from django.db import DatabaseError, IntegrityError

from . import db
from .models import DeviceNonce

log = logging.getLogger(__name__)

#: The share of inserts that also delete the expired ids.
CLEANUP_RATE = 0.01


class DatabaseSeenIds:
    """:class:`~toopher_server.devicesig.SeenIds` in the service's database."""

    def add(self, device_id: str, nonce: str, expires_at: float) -> bool:
        """Record ``(device_id, nonce)``; ``False`` if it is already recorded (a replay).

        The INSERT runs in a savepoint, so a replay inside a project's transaction
        (``ATOMIC_REQUESTS``) leaves that transaction usable.
        """
        try:
            with db.atomic():
                DeviceNonce.objects.using(db.alias()).create(
                    device=device_id, nonce=nonce, expires_at=int(expires_at)
                )
        except IntegrityError:
            return False
        if random.random() < CLEANUP_RATE:  # noqa: S311 (housekeeping, not security)
            delete_expired()
        return True


def delete_expired(now: float | None = None) -> int:
    """Delete the ids whose time has passed; how many (a failure waits for the next round)."""
    cutoff = int(time.time() if now is None else now)
    try:
        deleted, _ = DeviceNonce.objects.using(db.alias()).filter(expires_at__lt=cutoff).delete()
    except DatabaseError as exc:
        log.info("toopher_server: could not delete expired device nonces: %s", exc)
        return 0
    return deleted
