"""Counting the API calls the sandbox verified, from its SQLite file (read-only).

The sandbox stores one OAuth nonce per call it verified (replays are refused), so the
nonce rows are the calls. It prunes rows older than its replay window (about 11
minutes), so the rows are counted by id (SQLite AUTOINCREMENT: ids are never reused)
rather than all of them: a count of all rows would shrink in a run longer than the
window. Any count over less than 11 minutes is exact.

The standalone server writes its nonces to the file in batches, a tenth of a second
apart (``toopher_sandbox.speedups.nonces``), so each figure here is read until two readings a
few batches apart agree: the calls answered before it are all in it.
"""

from __future__ import annotations

import sqlite3
import time

#: Seconds between two readings (several of the server's batch writes).
SETTLE = 0.3
#: Give up waiting for the figure to settle after this many seconds.
SETTLE_LIMIT = 10.0


def _read(sandbox_db: str, sql: str, params: tuple) -> int:
    db = sqlite3.connect(f"file:{sandbox_db}?mode=ro", uri=True, timeout=10)
    try:
        row = db.execute(sql, params).fetchone()
    finally:
        db.close()
    return int(row[0] or 0)


def _scalar(sandbox_db: str, sql: str, params: tuple = ()) -> int:
    """The figure once the server's pending writes are in (two readings agree)."""
    deadline = time.monotonic() + SETTLE_LIMIT
    value = _read(sandbox_db, sql, params)
    while True:
        time.sleep(SETTLE)
        again = _read(sandbox_db, sql, params)
        if again == value or time.monotonic() > deadline:
            return again
        value = again


def api_mark(sandbox_db: str) -> int:
    """A mark to count verified calls from (see :func:`api_calls_since`)."""
    return _scalar(sandbox_db, "SELECT MAX(id) FROM toopher_server_nonce")


def api_calls_since(sandbox_db: str, key: str, mark: int) -> int:
    """Calls from ``key`` the sandbox verified since ``mark`` was taken."""
    return _scalar(
        sandbox_db,
        "SELECT COUNT(*) FROM toopher_server_nonce WHERE key = ? AND id > ?",
        (key, mark),
    )
