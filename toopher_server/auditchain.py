"""The hash chain of the append-only audit trail, independent of the ORM.

Each audit row carries ``hash = entry_hash(previous row's hash, this entry)``; the first
row chains from :data:`GENESIS`. :func:`verify` walks the rows and reports the first
sequence number where the chain breaks, and what most likely happened there: a row
altered, deleted, inserted or reordered.

The hash is keyed: HMAC-SHA256 with ``TOOPHER_AUDIT_KEY`` from the environment, a key that
is not in the database. Why: with a plain SHA-256 chain, anyone who can write the table
(a stolen database password, an injection, a careless migration) can alter a row and
recompute every hash after it, and the chain verifies again. With the key outside the
database they cannot. The cost: verifying needs the key (the operator has it, as
``toopher-server verifyaudit`` runs in the service's environment), and whoever holds the
service's environment can still rebuild the chain; the chain detects, it does not
prevent. The key is separate from ``TOOPHER_SECRET_KEYS`` so that rotating the secrets'
key does not touch the audit trail, and each can be kept by different people.

What a chain alone cannot see: the newest rows deleted (the chain is shorter, not broken).
Keep the head ``(seq, hash)`` somewhere else (a log line, a monitoring system) and pass it
as ``anchor`` to :func:`verify` to catch that.

Canonical entry: UTF-8 JSON with sorted keys, no white space and every non-ASCII
character escaped (ASCII output), of ``seq``, ``time`` (UTC, ``2026-12-06T19:10:00.000000Z``,
microseconds), ``requester``, ``user``, ``device`` (strings or null), ``event``, ``outcome``
and ``details`` (an object of strings, integers, booleans, null, lists and objects; no
floats, whose text can change on a round trip through a database).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import os
import re
import secrets
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

__all__ = [
    "ENV_VAR",
    "GENESIS",
    "AuditEntry",
    "AuditKeyError",
    "ChainBreak",
    "ChainReport",
    "ChainedEntry",
    "canonical_entry",
    "chain",
    "entry_hash",
    "generate_key",
    "load_key",
    "verify",
]

#: The environment variable that holds the audit key (base64url, 32 bytes).
ENV_VAR = "TOOPHER_AUDIT_KEY"
#: The "previous hash" of the first row.
GENESIS = "0" * 64
_LABEL = b"toopher-audit-v1\n"
_HEX64 = re.compile(r"[0-9a-f]{64}")


class AuditKeyError(ValueError):
    """The audit key is missing or malformed. The message never shows the key."""


def generate_key() -> str:
    """A new random 256-bit audit key, base64url without padding."""
    return base64.urlsafe_b64encode(secrets.token_bytes(32)).rstrip(b"=").decode("ascii")


def load_key(var: str = ENV_VAR, environ: Mapping[str, str] | None = None) -> bytes:
    """The audit key from ``environ[var]`` (default ``os.environ``)."""
    value = (os.environ if environ is None else environ).get(var, "").strip()
    if not value:
        raise AuditKeyError(f"{var} is not set")
    try:
        key = base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))
    except (binascii.Error, ValueError):
        raise AuditKeyError(f"{var} is not base64url") from None
    if len(key) != 32:
        raise AuditKeyError(f"{var} must hold 32 bytes (43 base64url characters)")
    return key


@dataclass(frozen=True)
class AuditEntry:
    """One audit event: who (requester, user, device), what (event), how it ended."""

    seq: int
    time: datetime
    event: str
    outcome: str
    requester: str | None = None
    user: str | None = None
    device: str | None = None
    details: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class ChainedEntry:
    """An entry as stored: the entry and the chain hash its row carries."""

    entry: AuditEntry
    hash: str


def _check_json(value: Any, where: str) -> None:
    if isinstance(value, float):
        raise TypeError(f"{where}: floats are not allowed in audit details")
    if isinstance(value, Mapping):
        for k, v in value.items():
            if not isinstance(k, str):
                raise TypeError(f"{where}: keys must be strings")
            _check_json(v, f"{where}.{k}")
    elif isinstance(value, list | tuple):
        for i, v in enumerate(value):
            _check_json(v, f"{where}[{i}]")
    elif not (value is None or isinstance(value, str | int)):
        raise TypeError(f"{where}: {type(value).__name__} is not allowed in audit details")


def _time_text(moment: datetime) -> str:
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError("an audit time must be timezone-aware")
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def canonical_entry(entry: AuditEntry) -> bytes:
    """The bytes of ``entry`` that the chain hashes (see the module docstring)."""
    if isinstance(entry.seq, bool) or not isinstance(entry.seq, int) or entry.seq < 1:
        raise ValueError("seq must be a positive integer")
    _check_json(entry.details, "details")
    for name in ("event", "outcome"):
        if not isinstance(getattr(entry, name), str):
            raise TypeError(f"{name} must be a string")
    for name in ("requester", "user", "device"):
        if not isinstance(getattr(entry, name), str | None):
            raise TypeError(f"{name} must be a string or None")
    document = {
        "seq": entry.seq,
        "time": _time_text(entry.time),
        "requester": entry.requester,
        "user": entry.user,
        "device": entry.device,
        "event": entry.event,
        "outcome": entry.outcome,
        "details": entry.details,
    }
    return json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=True).encode(
        "ascii"
    )


def entry_hash(previous_hash: str, entry: AuditEntry, key: bytes) -> str:
    """HMAC-SHA256 (hex) of the previous row's hash and this entry, under the audit key."""
    if not _HEX64.fullmatch(previous_hash):
        raise ValueError("previous_hash must be 64 lowercase hex digits")
    message = _LABEL + previous_hash.encode("ascii") + b"\n" + canonical_entry(entry)
    return hmac.new(key, message, hashlib.sha256).hexdigest()


def chain(
    entries: Iterable[AuditEntry], key: bytes, previous_hash: str = GENESIS
) -> list[ChainedEntry]:
    """``entries`` with their chain hashes, as they would be stored one after another."""
    chained = []
    for entry in entries:
        previous_hash = entry_hash(previous_hash, entry, key)
        chained.append(ChainedEntry(entry, previous_hash))
    return chained


@dataclass(frozen=True)
class ChainBreak:
    """Where the chain breaks: the first sequence number that does not verify.

    ``kind`` is the likely cause: ``"altered"`` (the row's content or hash changed, or rows
    were inserted or deleted and the rest renumbered), ``"missing"`` (a gap: rows deleted),
    ``"inserted"`` (a second row with this number), ``"reordered"`` (rows out of order),
    ``"truncated"`` (the chain ends before the expected head).
    """

    seq: int
    kind: str
    message: str


@dataclass(frozen=True)
class ChainReport:
    """The outcome of :func:`verify`."""

    checked: int
    last_seq: int | None
    last_hash: str
    first_break: ChainBreak | None

    @property
    def ok(self) -> bool:
        """Whether the whole chain verified."""
        return self.first_break is None


def _hash_break(seq: int, rest: Iterator[ChainedEntry]) -> ChainBreak:
    """Row ``seq`` came when due but does not match its hash."""
    if any(row.entry.seq == seq for row in rest):
        return ChainBreak(seq, "inserted", f"row {seq} appears twice")
    return ChainBreak(seq, "altered", f"row {seq} does not match its hash")


def _sequence_break(
    expected: int, seq: int, start_seq: int, rest: Iterator[ChainedEntry]
) -> ChainBreak:
    """Row ``seq`` came where row ``expected`` was due."""
    if start_seq <= seq < expected:
        return ChainBreak(seq, "inserted", f"row {seq} appears twice")
    if seq < expected:
        return ChainBreak(seq, "reordered", f"row {seq} comes after row {expected - 1}")
    if any(row.entry.seq == expected for row in rest):
        return ChainBreak(expected, "reordered", f"row {expected} comes after row {seq}")
    return ChainBreak(expected, "missing", f"rows {expected} to {seq - 1} are missing")


def _row_ok(previous_hash: str, row: ChainedEntry, key: bytes) -> bool:
    if not isinstance(row.hash, str) or not _HEX64.fullmatch(row.hash):
        return False
    try:
        expected = entry_hash(previous_hash, row.entry, key)
    except (TypeError, ValueError):  # a row altered into something that cannot be hashed
        return False
    return hmac.compare_digest(expected, row.hash)


def verify(
    entries: Iterable[ChainedEntry],
    key: bytes,
    *,
    start_seq: int = 1,
    previous_hash: str = GENESIS,
    anchor: tuple[int, str] | None = None,
) -> ChainReport:
    """Check the chain in storage order; report the first sequence number where it breaks.

    ``entries`` is read once, in order (a database cursor will do). ``start_seq`` and
    ``previous_hash`` start from a checkpoint (a verified row) instead of the beginning.
    ``anchor`` is a ``(seq, hash)`` recorded outside the database: the chain must reach
    ``seq`` and that row must carry ``hash`` (this is what catches the newest rows deleted).
    """
    rows = iter(entries)
    expected = start_seq
    for row in rows:
        seq = row.entry.seq
        if seq != expected:
            found = _sequence_break(expected, seq, start_seq, rows)
        elif not _row_ok(previous_hash, row, key):
            found = _hash_break(seq, rows)
        elif anchor is not None and seq == anchor[0] and row.hash != anchor[1]:
            found = ChainBreak(seq, "altered", f"row {seq} is not the anchored row")
        else:
            previous_hash, expected = row.hash, expected + 1
            continue
        return _report(start_seq, expected, previous_hash, found)
    if anchor is not None and expected <= anchor[0]:
        message = f"the chain ends at row {expected - 1}, before the anchor at row {anchor[0]}"
        found = ChainBreak(expected, "truncated", message)
        return _report(start_seq, expected, previous_hash, found)
    return _report(start_seq, expected, previous_hash, None)


def _report(start_seq: int, expected: int, last_hash: str, found: ChainBreak | None) -> ChainReport:
    checked = expected - start_seq
    return ChainReport(checked, expected - 1 if checked else None, last_hash, found)
