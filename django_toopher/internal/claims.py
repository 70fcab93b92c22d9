"""Single use, on any database: the first caller to insert a token wins.

Used for grants (an authentication request id logs in or approves an action once)
and for pairings (a pairing is recorded once, however many tabs poll it).
"""

from __future__ import annotations

from django.db import IntegrityError, transaction

from ..models import ConsumedRequest


def claim(token: str) -> bool:
    """Mark ``token`` used. True for the one caller that wins, on any database.

    Raises :class:`django.db.DatabaseError` (not ``IntegrityError``) when the database
    could not decide (a locked SQLite table, say); the caller tries again later. The
    transaction is a savepoint around one INSERT: no call to Toopher happens inside.
    """
    try:
        with transaction.atomic():
            ConsumedRequest.objects.create(request_id=token[:64])
    except IntegrityError:
        return False
    return True


def release(token: str) -> None:
    """Undo the claim of ``token`` (its use failed before it changed anything)."""
    ConsumedRequest.objects.filter(request_id=token[:64]).delete()
