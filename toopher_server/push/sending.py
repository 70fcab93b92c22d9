"""Which requests are pushed, when, and with what.

:func:`request_created` runs in the transaction that makes a pending request
(``service.start_authentication``), before its INSERT. It finds the subscriptions of the
device(s) that answer for the request's pairing and sets the request's ``push_state``,
which the INSERT then stores:

* ``none``: nothing to wake (no subscription, or answered at once by an OTP or a rule);
* ``held``: the user said "This wasn't me" a short while ago (:mod:`.holds`): no push;
* ``queued``: handed to the queue **after the transaction commits** (``on_commit``), so
  a push never goes out for a request that was rolled back, and the API's answer never
  waits for a push service;
* ``sent``: at least one push service accepted it (201); ``failed``: none did (an error,
  a timeout, a full queue, or the request expired before its turn).

Each push: the payload ``{"request_id": "<uuid>"}`` encrypted with aes128gcm (RFC
8291) and signed with the service's VAPID key (RFC 8292), ``Urgency: high``, ``TTL``
the request's remaining life in seconds, ``Topic`` a hash of the device id (a newer
push replaces an undelivered older one), and ``TOOPHER_SERVER_PUSH_TIMEOUT`` seconds
(default 5) to answer. A push service answering 404 or 410 says the subscription is
gone: it is deleted.
"""

from __future__ import annotations

import base64
import hashlib
import json
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

import requests
from django.db import OperationalError, connections, transaction
from django.utils import timezone

from .. import db, lifecycle
from ..conf import setting
from ..models import AuthenticationRequest, Device
from ..rowfetch import column_name
from . import egress, holds, vapid
from .models import PushSubscription
from .worker import PushQueue

if TYPE_CHECKING:
    from py_vapid import Vapid

__all__ = [
    "FAILED",
    "HELD",
    "NONE",
    "QUEUED",
    "SENT",
    "Job",
    "Target",
    "deliver",
    "drain",
    "payload",
    "request_created",
    "topic",
]

log = logging.getLogger(__name__)

NONE, QUEUED, SENT, FAILED, HELD = "none", "queued", "sent", "failed", "held"
DEFAULT_TIMEOUT = 5.0
DEFAULT_WORKERS = 4
DEFAULT_QUEUE_SIZE = 1000
DEFAULT_CONTACT = "mailto:root@localhost"
#: Push service answers that say the subscription no longer exists.
GONE = (404, 410)


@dataclass(frozen=True)
class Target:
    """One subscription to push to, as it was when the request was made."""

    device_id: str
    endpoint: str
    p256dh: str
    auth: str


@dataclass(frozen=True)
class Job:
    """One request's pushes."""

    request_id: str
    expires_at: datetime
    targets: tuple[Target, ...]


def payload(request_id: str) -> str:
    """The push's clear text: the request id and nothing else."""
    return json.dumps({"request_id": request_id}, separators=(",", ":"))


def topic(device_id: str) -> str:
    """The ``Topic`` of a device's pushes: 22 base64url characters (RFC 8030 allows 32)."""
    digest = hashlib.sha256(b"toopher push topic:" + device_id.encode("utf-8")).digest()
    return base64.urlsafe_b64encode(digest[:16]).rstrip(b"=").decode("ascii")


def targets_of_phone(phone_id: Any) -> tuple[Target, ...]:
    """The push subscriptions of the phone's devices: one statement, written once per
    database (every new request that waits for a phone asks)."""
    using = db.alias()
    connection = connections[using]
    key = (using, connection.vendor)
    sql = _TARGETS_SQL.get(key)
    if sql is None:
        quote = connection.ops.quote_name
        subscriptions, devices = PushSubscription._meta, Device._meta
        column = [quote(column_name(subscriptions.get_field(name)))
                  for name in ("device", "endpoint", "p256dh", "auth")]
        device_pk = quote(column_name(devices.pk))
        phone = quote(column_name(devices.get_field("phone")))
        # Only quoted names from the models' metadata; the phone id is a parameter.
        sql = _TARGETS_SQL[key] = (
            f"SELECT {', '.join(f'S.{name}' for name in column)} "  # noqa: S608
            f"FROM {quote(subscriptions.db_table)} S INNER JOIN {quote(devices.db_table)} D "
            f"ON S.{column[0]} = D.{device_pk} WHERE D.{phone} = %s"
        )
    prepared = Device._meta.get_field("phone").get_db_prep_value(
        phone_id, connection)
    with connection.cursor() as cursor:
        cursor.execute(sql, [prepared])
        rows = cursor.fetchall()
    return tuple(Target(str(device), endpoint, p256dh, auth_secret)
                 for device, endpoint, p256dh, auth_secret in rows)


_TARGETS_SQL: dict[tuple[str, str], str] = {}


def request_created(auth: AuthenticationRequest) -> str:
    """Decide and schedule the push of a request about to be inserted (in its
    transaction, before its INSERT, which then carries the ``push_state`` set here on
    the instance); its ``push_state``."""
    if not auth.pending or auth.pairing.phone_id is None:
        return NONE
    targets = targets_of_phone(auth.pairing.phone_id)
    if not targets:
        return NONE
    now = timezone.now()
    state = HELD if holds.is_held(auth.user_id, now) else QUEUED
    auth.push_state, auth.push_state_at = state, now
    if state == QUEUED:  # the job is made after the commit: ``created`` is set by then
        transaction.on_commit(
            lambda: _submit(Job(str(auth.pk), lifecycle.expires_at(auth), targets)),
            using=db.alias(),
        )
    return state


def _record(request_id: Any, state: str, *, only_from: str = "") -> None:
    """Set a request's ``push_state`` outside any transaction (after the commit)."""
    rows = AuthenticationRequest.objects.using(db.alias()).filter(pk=request_id)
    if only_from:
        rows = rows.filter(push_state=only_from)
    when = timezone.now()
    _retrying(lambda: rows.update(push_state=state, push_state_at=when))


def _retrying(write: Callable[[], Any], attempts: int = 4) -> None:
    """Run ``write``, again after a short pause while the database is locked (SQLite
    under concurrent writers; a worker thread may wait, a request should not)."""
    for attempt in range(attempts):
        try:
            write()
            return
        except OperationalError:
            if attempt == attempts - 1:
                raise
            time.sleep(0.05 * 2**attempt)


def _submit(job: Job) -> None:
    """Hand ``job`` to the queue (after the commit: an error here must not reach the
    answer of a call whose work is done, so it is logged)."""
    try:
        if not _queue().submit(job):
            log.warning("push: the queue is full; request %s not pushed", job.request_id)
            _record(job.request_id, FAILED, only_from=QUEUED)
    except Exception:  # noqa: BLE001 - logged; the request stands, the app lists it
        log.exception("push: request %s could not be queued", job.request_id)


_queue_lock = threading.Lock()
_the_queue: PushQueue[Job] | None = None
_local = threading.local()


def _queue() -> PushQueue[Job]:
    global _the_queue
    with _queue_lock:
        if _the_queue is None:
            _the_queue = PushQueue(
                deliver,
                size=int(setting("PUSH_QUEUE_SIZE", DEFAULT_QUEUE_SIZE)),
                threads=int(setting("PUSH_WORKERS", DEFAULT_WORKERS)),
            )
        return _the_queue


def drain(timeout: float = 10.0) -> bool:
    """Wait until every push handed to this process's queue is done (tests, benchmark)."""
    with _queue_lock:
        current = _the_queue
    return True if current is None else current.drain(timeout)


def _session() -> requests.Session:
    session = getattr(_local, "session", None)
    if session is None:
        session = _local.session = egress.session()
    return session


_signers: dict[str, Vapid] = {}


def _signer() -> Vapid:
    from py_vapid import Vapid  # here: pywebpush and its imports cost ~0.5 s at start

    key = vapid.current()
    signer = _signers.get(key.public_key)
    if signer is None:
        _signers.clear()
        signer = _signers[key.public_key] = Vapid.from_pem(key.private_pem)
    return signer


def deliver(job: Job) -> str:
    """Send one request's pushes now (a worker thread); the ``push_state`` recorded."""
    ttl = int((job.expires_at - timezone.now()).total_seconds())
    if ttl <= 0:
        log.warning("push: request %s expired before its push went out", job.request_id)
        _record(job.request_id, FAILED, only_from=QUEUED)
        return FAILED
    signer = _signer()
    body = payload(job.request_id)
    timeout = float(setting("PUSH_TIMEOUT", DEFAULT_TIMEOUT))
    contact = str(setting("PUSH_CONTACT", DEFAULT_CONTACT))
    sent = False
    for target in job.targets:
        sent = _push(target, body, signer, contact, ttl, timeout, job.request_id) or sent
    state = SENT if sent else FAILED
    _record(job.request_id, state, only_from=QUEUED)
    return state


def _push(
    target: Target,
    body: str,
    signer: Vapid,
    contact: str,
    ttl: int,
    timeout: float,
    request_id: str,
) -> bool:
    from pywebpush import WebPushException, webpush

    try:
        webpush(
            {"endpoint": target.endpoint, "keys": {"p256dh": target.p256dh, "auth": target.auth}},
            data=body,
            vapid_private_key=signer,
            vapid_claims={"sub": contact},
            content_encoding="aes128gcm",
            ttl=ttl,
            timeout=timeout,
            headers={"Urgency": "high", "Topic": topic(target.device_id)},
            requests_session=_session(),
        )
    except WebPushException as error:
        status = getattr(error.response, "status_code", None)
        if status in GONE:
            gone = PushSubscription.objects.using(db.alias()).filter(
                device_id=target.device_id, endpoint=target.endpoint
            )
            _retrying(gone.delete)
            log.info("push: subscription of device %s is gone (%s): deleted",
                     target.device_id, status)
        else:
            log.warning("push: request %s to device %s refused (%s)",
                        request_id, target.device_id, status)
        return False
    except requests.RequestException as error:
        why = "an address that is not public" if egress.refused(error) else type(error).__name__
        log.warning("push: request %s to device %s failed (%s)", request_id, target.device_id, why)
        return False
    return True
