"""The push figures of ``/health`` (:func:`toopher_server.health.push_counts`).

Over the same window as ``requests_last_hour`` (requests made in the last hour, by
their ``push_state``), read from the database so that every instance reports the
same figures; and the subscriptions stored now.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.db.models import Count, Q

from .. import db
from ..models import AuthenticationRequest
from .models import PushSubscription

WINDOW = timedelta(hours=1)


def push_counts(now: datetime) -> dict[str, int]:
    """``pushes_{sent,failed,held,queued}_last_hour`` and ``push_subscriptions``."""
    since = now - WINDOW
    # ``pending IN (true, false)`` lets the (pending, created) index serve the range.
    counts = AuthenticationRequest.objects.using(db.alias()).filter(
        pending__in=[True, False], created__gte=since
    ).aggregate(
        **{
            f"pushes_{state}_last_hour": Count("pk", filter=Q(push_state=state))
            for state in ("sent", "failed", "held", "queued")
        }
    )
    result = {name: int(value or 0) for name, value in counts.items()}
    result["push_subscriptions"] = PushSubscription.objects.using(db.alias()).count()
    return result
