"""The audit trail: every pairing, authentication request and decision, hash-chained.

What is recorded (``event``: ``outcome``), each with the requester, the user, the device
(the phone's id), the time and small details (ids, the action, who acted):

=============================  ===============================================================
``pairing.created``            ``pending`` (P1 phrase, P2 QR, P3 SMS, the iframe's pairing)
``pairing.allowed``            ``enabled``: the phone allowed it
``pairing.denied``             ``denied``: the phone denied it
``pairing.deactivated``        ``deactivated``: by the requester (P8), the phone, the iframe
``pairing.reset``              ``deactivated``: by a reset link (P6/P7) or ``users/reset`` (U5)
``authentication.initiated``   ``pending``, or ``granted``/``denied`` when decided at once
``authentication.cancelled``   ``cancelled`` (A4, the iframe's cancel)
``authentication.expired``     ``expired`` (found stale, see ``lifecycle``)
``authentication.otp_checked`` ``granted`` (valid code) or ``denied`` (A1 with ``otp``, A3)
``decision.allowed``           ``granted``: the phone allowed the request
``decision.denied``            ``denied``: the phone denied it
``decision.automated``         ``granted``/``denied`` by an automation rule at A1
``device.enrolled``            ``enrolled`` (a new device), ``unchanged`` (its key enrolled
                               again: a retry, which changes nothing), with the device id,
                               its label and the client address
``device.invited``             ``pending``: a device made an invitation code for its phone
``device.joined``              ``joined``: a device joined a phone with an invitation code
``device.removed``             ``removed``: by a device of the phone or an administrator
``remembered.forgotten``       ``forgotten``: a remembered browser revoked on the phone
=============================  ===============================================================

:func:`record` appends one row in the **same transaction** as the change it records: if
the change rolls back, so does its record, and a change is never committed without it.
Refused calls (bad input, 4xx, rate limits) change nothing and record nothing.

**Appending, serialized.** Each row carries the HMAC of the previous row's hash and its
own content (:mod:`.auditchain`), so appends must happen one at a time across every
instance of the service, or two rows would chain from the same predecessor (a fork).
The chain's head (``AuditHead``, one row) is locked first, and held to the end of the
transaction:

* PostgreSQL (and any database with row locks): ``SELECT ... FOR UPDATE`` on the head.
  A second instance's append waits there until the first commits or rolls back, then
  reads the new head (READ COMMITTED, PostgreSQL's default: run the service at that
  level; REPEATABLE READ or SERIALIZABLE would make the waiter fail instead of wait).
* SQLite has no row locks: the append's first statement is a write to the head
  (``UPDATE ... SET seq = seq``), which takes the database's single write lock before
  the head is read, so a second writer cannot read a head that is about to change.

The head is one hot row: audited changes of all requesters commit one after another.
Callers therefore record as the last write of their transaction, which keeps the lock
short (a few milliseconds), and always take the head after their other row locks
(never before), so two transactions cannot wait on each other.

**The key.** HMAC-SHA256 under the audit key: the setting ``TOOPHER_SERVER_AUDIT_KEY``,
else the environment's ``TOOPHER_AUDIT_KEY`` (base64url of 32 bytes,
:func:`.auditchain.generate_key`). When neither is set (the sandbox, the example
project, the tests) the key is derived from ``SECRET_KEY``, so a development setup needs
nothing more. **Production sets its own key**, kept outside the database and apart from
``SECRET_KEY`` (which lives in the same settings a database thief may read, and which
rotating would then break the chain): :func:`audit_key_is_explicit` says whether it
did, and the deploy check uses it. A key that is set but malformed raises
:class:`.auditchain.AuditKeyError` at the first record: the change it records is rolled
back (the service fails closed rather than change anything unaudited).

``manage.py verifyaudit`` (``toopher-server verifyaudit``) checks the chain:
:func:`chained_entries` reads the rows in appending order with a cursor.
"""

from __future__ import annotations

from collections.abc import Generator, Iterable, Mapping
from datetime import UTC, datetime
from typing import Any

from django.db import IntegrityError, connections, transaction
from django.utils import timezone

from . import db, keys
from .audit_models import AuditHead, AuditRecord
from .auditchain import ENV_VAR, GENESIS, AuditEntry, ChainedEntry, entry_hash, load_key
from .conf import setting
from .models import AuthenticationRequest, Device, Pairing, Phone, Requester, User
from .rowfetch import RowInsert, column_name

__all__ = [
    "AUTH_CANCELLED",
    "AUTH_EXPIRED",
    "AUTH_INITIATED",
    "AUTH_OTP_CHECKED",
    "DECISION_ALLOWED",
    "DECISION_AUTOMATED",
    "DECISION_DENIED",
    "DEVICE_ENROLLED",
    "EVENTS",
    "PAIRING_ALLOWED",
    "PAIRING_CREATED",
    "PAIRING_DEACTIVATED",
    "PAIRING_DENIED",
    "PAIRING_RESET",
    "SETTING",
    "audit_key",
    "audit_key_is_explicit",
    "chained_entries",
    "device_enrolled",
    "pairing_event",
    "pairings_event",
    "record",
    "request_event",
    "request_initiated",
]

PAIRING_CREATED = "pairing.created"
PAIRING_ALLOWED = "pairing.allowed"
PAIRING_DENIED = "pairing.denied"
PAIRING_DEACTIVATED = "pairing.deactivated"
PAIRING_RESET = "pairing.reset"
AUTH_INITIATED = "authentication.initiated"
AUTH_CANCELLED = "authentication.cancelled"
AUTH_EXPIRED = "authentication.expired"
AUTH_OTP_CHECKED = "authentication.otp_checked"
DECISION_ALLOWED = "decision.allowed"
DECISION_DENIED = "decision.denied"
DECISION_AUTOMATED = "decision.automated"
DEVICE_ENROLLED = "device.enrolled"

#: Every event the service records.
EVENTS = frozenset({
    PAIRING_CREATED, PAIRING_ALLOWED, PAIRING_DENIED, PAIRING_DEACTIVATED, PAIRING_RESET,
    AUTH_INITIATED, AUTH_CANCELLED, AUTH_EXPIRED, AUTH_OTP_CHECKED,
    DECISION_ALLOWED, DECISION_DENIED, DECISION_AUTOMATED, DEVICE_ENROLLED,
})  # fmt: skip

# Several devices per phone and remembered browsers (``phone_devices``, ``remembered``).
DEVICE_INVITED = "device.invited"
DEVICE_JOINED = "device.joined"
DEVICE_REMOVED = "device.removed"
DEVICE_RENAMED = "device.renamed"
REMEMBERED_FORGOTTEN = "remembered.forgotten"
EVENTS = EVENTS | {
    DEVICE_INVITED, DEVICE_JOINED, DEVICE_REMOVED, DEVICE_RENAMED, REMEMBERED_FORGOTTEN,
}  # fmt: skip

#: The Django setting that holds the audit key (``TOOPHER_SERVER_AUDIT_KEY``).
SETTING = "TOOPHER_SERVER_AUDIT_KEY"
_DERIVED_LABEL = b"toopher-server audit key derived from SECRET_KEY v1"
_HEAD = 1


# --- the key ---------------------------------------------------------------------------------


def _text(value: Any) -> str:
    return str(value or "").strip()


def audit_key_is_explicit() -> bool:
    """True when the operator set an audit key (setting or environment), as production must.

    False means the key is derived from ``SECRET_KEY``: fine for the sandbox and tests,
    not for production (see the module docstring). This only says whether a key is set;
    :func:`audit_key` also checks its form.
    """
    return keys.explicit_value(setting("AUDIT_KEY"), ENV_VAR, _text) is not None


def audit_key() -> bytes:
    """The 32-byte key of the chain's HMAC (see the module docstring for where it comes from).

    Raises :class:`.auditchain.AuditKeyError` (naming where, never showing the value) when
    a key is set but malformed.
    """
    found = keys.key_material(setting("AUDIT_KEY"), ENV_VAR, _text, _DERIVED_LABEL)
    if found[0] == "derived":
        return found[1]
    where = SETTING if found[0] == "setting" else ENV_VAR
    return load_key(where, {where: found[1]})


# --- appending ---------------------------------------------------------------------------------


def _id(value: Any) -> str | None:
    """A row's id as text (a model instance, an id, or None)."""
    if value is None:
        return None
    return str(getattr(value, "pk", value))


def _aware(moment: datetime) -> datetime:
    """A time as the chain hashes it: aware, in UTC (a naive one, with USE_TZ off, is UTC)."""
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


def _head_sql(using: str) -> tuple[str, str, str]:
    """The chain head's statements on this database: read it (locking it where the
    database locks rows), take the write lock first (SQLite), move it."""
    connection = connections[using]
    key = (using, connection.vendor)
    if key not in _HEAD_SQL:
        quote = connection.ops.quote_name
        table = quote(AuditHead._meta.db_table)
        seq, digest, pk = (quote(column_name(AuditHead._meta.get_field(name)))
                           for name in ("seq", "hash", "id"))
        lock = " FOR UPDATE" if connection.features.has_select_for_update else ""
        # Only quoted names from the model's metadata; the values are parameters.
        _HEAD_SQL[key] = (
            f"SELECT {seq}, {digest} FROM {table} WHERE {pk} = %s{lock}",  # noqa: S608
            f"UPDATE {table} SET {seq} = {seq} WHERE {pk} = %s",  # noqa: S608
            f"UPDATE {table} SET {seq} = %s, {digest} = %s WHERE {pk} = %s",  # noqa: S608
        )
    return _HEAD_SQL[key]


_HEAD_SQL: dict[tuple[str, str], tuple[str, str, str]] = {}
_RECORDS = RowInsert(AuditRecord)


def _lock_head(using: str) -> tuple[int, str]:
    """The chain's head (``seq``, ``hash``), locked to the end of the transaction (see the
    module docstring). One statement on PostgreSQL: appending is on the path of every
    call that changes something, and every instance waits for this lock in turn."""
    connection = connections[using]
    read, write_lock, _ = _head_sql(using)
    for _ in range(2):
        with connection.cursor() as cursor:
            if not connection.features.has_select_for_update:
                cursor.execute(write_lock, [_HEAD])  # SQLite: the database's write lock
            cursor.execute(read, [_HEAD])
            head = cursor.fetchone()
        if head is not None:
            return int(head[0]), str(head[1])
        try:  # the first record ever: make the head (another instance may race us)
            with transaction.atomic(using=using):
                AuditHead.objects.using(using).create(id=_HEAD, seq=0, hash=GENESIS)
        except IntegrityError:
            pass
    raise RuntimeError("the audit chain's head row cannot be created")  # pragma: no cover


def record(
    event: str,
    outcome: str,
    *,
    requester: Requester | str | None = None,
    user: User | str | None = None,
    phone: Phone | str | None = None,
    details: Mapping[str, Any] | None = None,
) -> AuditRecord:
    """Append one audit record, chained to the one before, in the caller's transaction.

    ``requester``, ``user`` and ``phone`` are rows or their ids; a ``User`` row also
    puts its name into the details (``user_name``), so the record still says who it was
    when the user is gone. ``details`` holds small JSON values (no floats). Called inside
    ``db.atomic()`` it joins that transaction; called outside, it makes its own.
    """
    if event not in EVENTS:
        raise ValueError(f"unknown audit event {event!r}")
    extra = dict(details or {})
    if isinstance(user, User):
        extra.setdefault("user_name", user.name)
    key = audit_key()
    using = db.alias()
    with transaction.atomic(using=using, savepoint=False):
        seq, previous = _lock_head(using)
        now = timezone.now()
        entry = AuditEntry(
            seq=seq + 1,
            time=_aware(now),
            event=event,
            outcome=outcome,
            requester=_id(requester),
            user=_id(user),
            device=_id(phone),
            details=extra,
        )
        digest = entry_hash(previous, entry, key)
        row = AuditRecord(
            seq=entry.seq,
            time=now,
            event=event,
            outcome=outcome,
            requester=entry.requester,
            user=entry.user,
            device=entry.device,
            details=extra,
            hash=digest,
        )
        _RECORDS.insert(row, using)
        with connections[using].cursor() as cursor:
            cursor.execute(_head_sql(using)[2], [entry.seq, digest, _HEAD])
    return row


# --- the call sites' one-liners -----------------------------------------------------------------


def _owned_record(
    event: str, outcome: str, requester_id: Any, user: User, phone_id: Any, facts: dict[str, Any]
) -> AuditRecord:
    """Record an event about a requester's row (a request, a pairing) of ``user``."""
    phone = None if phone_id is None else str(phone_id)
    return record(event, outcome, requester=str(requester_id), user=user, phone=phone,
                  details=facts)


def request_event(
    event: str, auth: AuthenticationRequest, outcome: str | None = None, **details: Any
) -> AuditRecord:
    """Record ``event`` about an authentication request (outcome: its state, by default)."""
    pairing = auth.pairing
    facts = {
        "request": str(auth.pk),
        "pairing": str(auth.pairing_id),
        "action": auth.action.name,
        "terminal": str(auth.terminal_id),
        **details,
    }
    status = outcome or auth.status
    return _owned_record(event, status, auth.requester_id, auth.user, pairing.phone_id, facts)


def request_initiated(auth: AuthenticationRequest) -> None:
    """Record a new request (A1, the iframe) and, when it was decided at once, how."""
    request_event(AUTH_INITIATED, auth)
    if auth.pending:
        return
    if auth.automated:
        request_event(DECISION_AUTOMATED, auth)
    else:
        request_event(AUTH_OTP_CHECKED, auth)


def pairing_status(pairing: Pairing) -> str:
    """A pairing's state in one word: pending, enabled, denied or deactivated."""
    return "deactivated" if pairing.deactivated else pairing.state


def pairing_event(
    event: str, pairing: Pairing, outcome: str | None = None, **details: Any
) -> AuditRecord:
    """Record ``event`` about a pairing (outcome: its state, by default)."""
    facts = {"pairing": str(pairing.pk), "kind": pairing.kind, **details}
    status = outcome or pairing_status(pairing)
    return _owned_record(event, status, pairing.requester_id, pairing.user, pairing.phone_id, facts)


def pairings_event(event: str, pairing_ids: Iterable[Any], **details: Any) -> None:
    """Record ``event`` about each of these pairings, read as they are now."""
    pairings = Pairing.objects.select_related("user").filter(id__in=list(pairing_ids))
    for pairing in pairings.order_by("created"):
        pairing_event(event, pairing, **details)


def device_enrolled(device: Device, created: bool, address: str) -> AuditRecord:
    """Record an enrolment: ``enrolled`` for a new device, ``unchanged`` for its key
    enrolled again; with the device id, its label and the client ``address``."""
    return record(
        DEVICE_ENROLLED,
        "enrolled" if created else "unchanged",
        phone=str(device.phone_id),
        details={"device_id": device.id, "label": device.label, "address": address},
    )


# --- reading the chain ----------------------------------------------------------------------------

_COLUMNS = ("seq", "time", "event", "outcome", "requester", "user", "device", "details", "hash")


def chained_entries(
    using: str | None = None, chunk_size: int = 2000, after: int = 0
) -> Generator[ChainedEntry, None, None]:
    """Every record (numbered after ``after``) in appending order, as
    :func:`.auditchain.verify` reads them.

    A cursor (``QuerySet.iterator``; server-side on PostgreSQL): memory stays constant
    however long the trail. A reader that stops early (a break found) closes this
    generator (``contextlib.closing``), which closes the cursor at once.
    """
    records = AuditRecord.objects.using(using or db.alias())
    if after:
        records = records.filter(seq__gt=after)
    rows = records.order_by("id").values_list(*_COLUMNS).iterator(chunk_size=chunk_size)
    try:
        for seq, moment, event, outcome, requester, user, device, details, digest in rows:
            entry = AuditEntry(
                seq=seq,
                time=_aware(moment),
                event=event,
                outcome=outcome,
                requester=requester,
                user=user,
                device=device,
                details=details,  # as stored: altered into another shape, it fails to verify
            )
            yield ChainedEntry(entry, digest)
    finally:
        close = getattr(rows, "close", None)  # QuerySet.iterator() is a generator
        if close is not None:
            close()
