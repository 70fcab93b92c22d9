""""This wasn't me" holds a user's pushes for a while.

A device that answers a request with ``not_me`` says someone else has the password:
more pushes would only invite a tired "Allow". For ``TOOPHER_SERVER_NOT_ME_PUSH_HOLD``
(seconds or a ``timedelta``, default 15 minutes) that user's new requests are still
made and listed in the app, but not pushed (their ``push_state`` is ``held``).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from django.utils import timezone

from .. import db
from ..conf import setting
from .models import PushHold

__all__ = ["DEFAULT_HOLD", "after_decision", "hold", "hold_duration", "is_held"]

DEFAULT_HOLD = timedelta(minutes=15)


def hold_duration() -> timedelta:
    """How long a "This wasn't me" holds the user's pushes."""
    value: Any = setting("NOT_ME_PUSH_HOLD", DEFAULT_HOLD)
    return value if isinstance(value, timedelta) else timedelta(seconds=int(value))


def hold(user_id: Any, now: datetime | None = None) -> datetime:
    """Hold the pushes of the user ``user_id`` from now; until when."""
    until = (now or timezone.now()) + hold_duration()
    PushHold.objects.using(db.alias()).update_or_create(user_id=user_id, defaults={"until": until})
    return until


def is_held(user_id: Any, now: datetime | None = None) -> bool:
    """Whether the user's pushes are held now."""
    now = now or timezone.now()
    return PushHold.objects.using(db.alias()).filter(user_id=user_id, until__gt=now).exists()


def after_decision(user_id: Any, decision: str) -> None:
    """What a device's decision means for pushes: ``not_me`` holds the user's."""
    if decision == "not_me":
        hold(user_id)
