"""Process-local copies of rows every API call reads: requesters by key, the faults,
the row of an authentication request a status poll reads.

Only the standalone server turns them on (``enable()``), because there this process is
the database's only writer, through one connection: :func:`watch_writes` drops every
copy whenever that connection runs any statement but a SELECT (an ``update()`` or raw
SQL included), and the ``post_save`` / ``post_delete`` receivers below drop them too. A
copy is only taken outside a transaction (``remembered_committed``), so it never holds
what a rollback undoes. A project that mounts the sandbox (maybe in several processes)
always reads the database.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any, TypeVar

from django.db.models.signals import post_delete, post_save

from .models import Fault, Requester

_T = TypeVar("_T")
_lock = threading.Lock()
_copies: dict[tuple[str, str], Any] = {}
_enabled = False
MAX_COPIES = 1000


def enable() -> None:
    """Keep copies from now on (the standalone server, one process)."""
    global _enabled
    _enabled = True


def remembered(kind: str, key: str, load: Callable[[], _T]) -> _T:
    """``load()``, or the copy kept for ``(kind, key)`` when copies are on."""
    if not _enabled:
        return load()
    with _lock:
        if (kind, key) in _copies:
            return _copies[(kind, key)]  # type: ignore[no-any-return, unused-ignore]
    value = load()
    with _lock:
        if len(_copies) >= MAX_COPIES:  # unknown keys must not grow it without end
            _copies.clear()
        _copies[(kind, key)] = value
    return value


def remembered_committed(kind: str, key: str, load: Callable[[], _T], connection: Any) -> _T:
    """:func:`remembered`, but a load inside a transaction is not kept."""
    if connection.in_atomic_block:
        return load()
    return remembered(kind, key, load)


def watch_writes(connection: Any) -> None:
    """Drop every copy after each statement ``connection`` runs that is not a SELECT."""
    connection.execute_wrappers.append(_forget_after_writes)


def _forget_after_writes(execute: Callable[..., Any], sql: str, params: Any, many: bool,
                         context: dict[str, Any]) -> Any:
    try:
        return execute(sql, params, many, context)
    finally:
        if sql.lstrip()[:6].upper() != "SELECT":
            forget()


def forget(**kwargs: Any) -> None:
    """Drop every copy (a requester or a fault changed)."""
    with _lock:
        _copies.clear()


for _model in (Requester, Fault):
    post_save.connect(forget, sender=_model, dispatch_uid=f"memo-save-{_model.__name__}")
    post_delete.connect(forget, sender=_model, dispatch_uid=f"memo-delete-{_model.__name__}")
