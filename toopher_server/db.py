"""The service's database: where its tables live when a site mounts it beside its own
(a router may keep them in a database of their own, as the example project does)."""

from __future__ import annotations

from django.db import router, transaction
from django.db.transaction import Atomic

from .models import Requester


def alias() -> str:
    """The database alias the service writes to."""
    return router.db_for_write(Requester) or "default"


def atomic() -> Atomic:
    """``transaction.atomic()`` on the service's own database."""
    return transaction.atomic(using=alias())
