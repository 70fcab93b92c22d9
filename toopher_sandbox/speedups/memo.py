"""Process-local copies of rows every API call reads: requesters by key, the faults,
the row of an authentication request a status poll reads.

Only the standalone server turns them on (:func:`enable`), because there this process
is the database's only writer, through one connection: every copy is dropped after
each statement that connection runs other than a SELECT (a save, an ``update()``, raw
SQL alike), and no copy is taken inside a transaction, so none holds what a rollback
undoes. A project that mounts the sandbox (maybe in several processes) always reads
the database.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any, TypeVar

_T = TypeVar("_T")
_lock = threading.Lock()
_copies: dict[tuple[str, str], Any] = {}
#: The connection every write goes through, while copies are kept (else None).
_connection: Any = None
MAX_COPIES = 1000


def enable(connection: Any) -> None:
    """Keep copies from now on (the standalone server, one process), dropped after
    each statement ``connection`` runs that is not a SELECT."""
    global _connection
    connection.execute_wrappers.append(_forget_after_writes)
    _connection = connection


def disable() -> None:
    """Keep no copies any more (tests)."""
    global _connection
    if _connection is not None:
        _connection.execute_wrappers.remove(_forget_after_writes)
    _connection = None
    forget()


def remembered(kind: str, key: str, load: Callable[[], _T]) -> _T:
    """``load()``, or the copy kept for ``(kind, key)`` when copies are on (a load
    inside a transaction is not kept)."""
    if _connection is None or _connection.in_atomic_block:
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


def _forget_after_writes(execute: Callable[..., Any], sql: str, params: Any, many: bool,
                         context: dict[str, Any]) -> Any:
    try:
        return execute(sql, params, many, context)
    finally:
        if sql.lstrip()[:6].upper() != "SELECT":
            forget()


def forget() -> None:
    """Drop every copy."""
    with _lock:
        _copies.clear()

