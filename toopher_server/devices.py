"""Enrolled authenticator devices: enrolment, the verifier, and the answers they sign.

A device enrols by sending its P-256 public key in a call signed with that key (proof
of possession); the service makes a ``Phone`` and its ``Device``. From then on every
call of the device is verified by :func:`verifier` (the clock window, the device's key,
the one-time ids kept in the database) and reaches only the pairings and requests on its
own phone. The answers go through ``phones``, the rules the sandbox's simulator uses
too, with the device's phone as a condition: an answer for anything not on this device
is not found and changes nothing.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, fields, replace
from datetime import timedelta
from typing import Any

from cryptography.hazmat.primitives.asymmetric import ec
from django.db import IntegrityError
from django.db.models import BooleanField, ExpressionWrapper
from django.utils import timezone

from . import audit, db, lifecycle, numbers, phones, ratelimit
from .conf import setting_int
from .device_errors import CodeRequired, Mismatch, NotFound, NotPending, RateLimited, WrongCode
from .device_nonces import DatabaseSeenIds
from .devicesig import (
    DEFAULT_MAX_AGE,
    DEFAULT_MAX_FUTURE,
    Decision,
    DeviceVerifier,
    InvalidKey,
    KeyLookup,
    Malformed,
    canonical_json,
    jwk_thumbprint,
    load_jwk,
    load_spki,
    public_jwk,
)
from .errors import ApiError
from .models import AuthenticationRequest, Device, Pairing
from .params import parse_uuid
from .push import holds as push_holds

MAX_LABEL = 100
DEFAULT_LABEL = "Authenticator"
#: ``last_seen`` is written at most this often per device.
LAST_SEEN_EVERY = timedelta(seconds=60)
#: The reason a request denied with "this wasn't me" carries (the site reads it in A2).
NOT_ME_REASON = "Denied on the phone: this wasn't me"
DENY_REASON = "Denied on the phone"


# --- verification ---------------------------------------------------------------------


class _EnrolledKeys:
    """The verifier's key lookup that keeps the device row it found (one query a call)."""

    def __init__(self) -> None:
        self.device: Device | None = None

    def __call__(self, device_id: str) -> ec.EllipticCurvePublicKey | None:
        self.device = Device.objects.select_related("phone").filter(pk=device_id).first()
        return None if self.device is None else load_jwk(self.device.public_jwk)


def verifier(keys: KeyLookup | None = None) -> DeviceVerifier:
    """The verifier of device calls: enrolled keys (``keys``, by default the database's),
    ids in the database, and the clock window of the settings
    ``TOOPHER_SERVER_DEVICE_MAX_AGE`` and ``..._MAX_FUTURE``."""
    return DeviceVerifier(
        keys or _EnrolledKeys(),
        DatabaseSeenIds(),
        max_age=setting_int("DEVICE_MAX_AGE", DEFAULT_MAX_AGE),
        max_future=setting_int("DEVICE_MAX_FUTURE", DEFAULT_MAX_FUTURE),
    )


def verify_call(method: str, path: str, body: bytes, header: str | None) -> Device:
    """Verify a call of an enrolled device (``devicesig`` errors if refused); its device,
    whose ``last_seen`` is refreshed now and then."""
    keys = _EnrolledKeys()
    call = verifier(keys).verify(method, path, body, header)
    device = keys.device
    if device is None or device.id != call.device_id:  # cannot happen: the key was its
        raise NotFound("no enrolled device has this id")
    now = timezone.now()
    if device.last_seen is None or device.last_seen < now - LAST_SEEN_EVERY:
        Device.objects.filter(pk=device.pk).update(last_seen=now)
        device.last_seen = now
    return device


# --- enrolment ------------------------------------------------------------------------


def check_enrol_rate(client: str) -> None:
    """Count one enrolment attempt from ``client`` (its address, ``client_address``);
    :class:`RateLimited` beyond the ``enrol`` limit of :mod:`.ratelimit` (default 10 an
    hour per address)."""
    try:
        ratelimit.check_address(ratelimit.ENROL, client)
    except ratelimit.RateLimited as exc:
        raise RateLimited("too many enrolments from this address: try again later") from exc


@dataclass(frozen=True)
class Enrolment:
    """What an enrolment body holds: the public key and a label for people."""

    key: ec.EllipticCurvePublicKey
    label: str

    @classmethod
    def from_json(cls, body: bytes) -> Enrolment:
        """Parse ``{"jwk": {...}}`` or ``{"spki": "<base64 DER>"}``, with an optional
        ``"label"``; other members are ignored (later versions add some)."""
        value = _json_object(body, "the enrolment body")
        has_jwk, has_spki = "jwk" in value, "spki" in value
        if has_jwk == has_spki:
            raise Malformed("the enrolment body needs exactly one of jwk and spki")
        if has_jwk:
            if not isinstance(value["jwk"], dict):
                raise InvalidKey("jwk must be a JSON object")
            key = load_jwk(value["jwk"])
        else:
            if not isinstance(value["spki"], str) or len(value["spki"]) > 1024:
                raise InvalidKey("spki must be the base64 of the DER public key")
            key = load_spki(value["spki"])
        return cls(key, checked_label(value.get("label", "")))


def checked_label(label: Any) -> str:
    """A device's name as given at enrolment or to rename it: printable text of at most
    :data:`MAX_LABEL` characters, stripped; else :class:`Malformed`."""
    if not isinstance(label, str) or len(label) > MAX_LABEL or not _printable(label):
        raise Malformed(f"label must be text of at most {MAX_LABEL} characters")
    return label.strip()


def enrol(enrolment: Enrolment, address: str = "unknown") -> tuple[Device, bool]:
    """The device of this key, made with its phone if new; ``(device, created)``.

    Enrolling a key again (a retry) gives the same device and changes nothing. Both are
    audited (``device.enrolled``, with the client ``address``).
    """
    device_id = jwk_thumbprint(enrolment.key)
    found = Device.objects.select_related("phone").filter(pk=device_id).first()
    if found is not None:
        audit.device_enrolled(found, False, address)
        return found, False
    label = enrolment.label or DEFAULT_LABEL
    try:
        with db.atomic():
            phone = phones.create_phone(label)
            device = Device.objects.create(
                id=device_id,
                phone=phone,
                public_jwk=public_jwk(enrolment.key),
                label=enrolment.label,
                last_seen=timezone.now(),
            )
            audit.device_enrolled(device, True, address)  # the last write: see audit.py
    except IntegrityError:  # the same key enrolled concurrently
        device = Device.objects.select_related("phone").get(pk=device_id)
        audit.device_enrolled(device, False, address)
        return device, False
    return device, True


# --- what is on the device ------------------------------------------------------------


def pairing_on(device: Device, pairing_id: str) -> Pairing:
    """A pairing on this device's phone (any state); :class:`NotFound` otherwise."""
    pairing = (
        Pairing.objects.select_related("user", "requester")
        .filter(id=_uuid(pairing_id, "pairing"), phone_id=device.phone_id)
        .first()
    )
    if pairing is None:
        raise NotFound("no such pairing on this device")
    return pairing


def request_on(device: Device, request_id: str) -> AuthenticationRequest:
    """An authentication request of a pairing on this device (expired first if its time
    is up); :class:`NotFound` otherwise."""
    auth = (
        AuthenticationRequest.objects.select_related("requester", "user", "action", "terminal")
        .filter(id=_uuid(request_id, "authentication request"), pairing__phone_id=device.phone_id)
        .first()
    )
    if auth is None:
        raise NotFound("no such authentication request on this device")
    return lifecycle.expire_if_stale(auth)


def pairings(device: Device, state: str, limit: int) -> list[Pairing]:
    """The device's pairings waiting for an answer (``pending``) or in use (``enabled``),
    newest first."""
    if state == Pairing.PENDING:
        return list(phones.pending_pairings(device.phone)[:limit])
    return list(phones.active_pairings(device.phone).order_by("-created")[:limit])


def pending_requests(device: Device, limit: int) -> list[AuthenticationRequest]:
    """The live authentication requests on the device, newest first."""
    return list(phones.pending_authentications(device.phone)[:limit])


def active_pairing(device: Device, pairing_id: str) -> Pairing:
    """A pairing on this device that is allowed and not removed (its OTP seed may be
    shown); :class:`NotFound` otherwise."""
    pairing = pairing_on(device, pairing_id)
    if not pairing.usable:
        raise NotFound("no active pairing with this id on this device")
    return pairing


# --- answers --------------------------------------------------------------------------


@dataclass(frozen=True)
class PairingDecision:
    """The body of a pairing answer: the answer and the site and account the phone showed.

    Canonical JSON like :class:`~toopher_server.devicesig.Decision`:
    ``{"decision":"allow","pairing_id":"...","site":"...","user":"..."}``.
    """

    pairing_id: str
    decision: str
    site: str
    user: str

    @classmethod
    def from_json(cls, body: bytes) -> PairingDecision:
        """Parse a pairing answer; :class:`Malformed` unless canonical and complete."""
        value = _json_object(body, "the pairing decision")
        names = {f.name for f in fields(cls)}
        if set(value) != names:
            raise Malformed(f"the pairing decision must have exactly {', '.join(sorted(names))}")
        if not all(isinstance(v, str) and len(v) <= 1024 for v in value.values()):
            raise Malformed("the pairing decision's members must be strings")
        if value["decision"] not in ("allow", "deny"):
            raise Malformed("decision must be allow or deny")
        answer = cls(**value)
        if canonical_json(value) != body:
            raise Malformed("the pairing decision is not in canonical form")
        return answer


def answer_pairing(device: Device, pairing_id: str, body: bytes) -> Pairing:
    """Allow or deny a pending pairing on this device, as the signed body says."""
    answer = PairingDecision.from_json(body)
    pairing = pairing_on(device, pairing_id)
    shown = {
        "pairing_id": str(pairing.id),
        "site": pairing.requester.name,
        "user": pairing.user.name,
    }
    wrong = [name for name, value in shown.items() if getattr(answer, name) != value]
    if wrong:
        raise Mismatch(f"the answer does not match the pairing: {', '.join(wrong)}")
    try:
        return phones.respond_pairing(str(pairing.id), answer.decision == "allow", device.phone)
    except ApiError as error:
        raise _refusal(error) from None


def answer_request(device: Device, request_id: str, body: bytes) -> AuthenticationRequest:
    """Allow, deny or "this wasn't me" a pending request on this device, as the signed
    canonical :class:`~toopher_server.devicesig.Decision` says.

    With number matching, allow needs the picked ``code``: the right one grants, a wrong
    one denies the request (then :class:`WrongCode`), none is :class:`CodeRequired` and
    changes nothing. Deny and "this wasn't me" need no code. A code for a request that
    offers none is a :class:`Mismatch`.
    """
    decision = Decision.from_json(body)
    # "allow_always" is an "allow" to every rule below (number matching included); it
    # also remembers the browser (``remembered``), only if it grants (never a deny rule).
    remember = decision.decision == "allow_always"
    if remember:
        decision = replace(decision, decision="allow")
    auth = request_on(device, request_id)
    wrong = decision.mismatches(
        request_id=str(auth.id),
        site=auth.requester.name,
        user=auth.user.name,
        action=auth.action.name,
        terminal=auth.terminal.name,
    )
    if decision.code is not None and numbers.offered(auth) is None:  # none was offered
        wrong.append("code")
    if wrong:
        raise Mismatch(f"the decision does not match the request: {', '.join(wrong)}")
    grant = decision.decision == "allow"
    reason = {"allow": "", "deny": DENY_REASON, "not_me": NOT_ME_REASON}[decision.decision]
    if grant and numbers.offered(auth) is not None:
        if decision.code is None:
            if not auth.pending:
                raise NotPending(lifecycle.why_not_pending(auth))
            raise CodeRequired("pick the number the site shows to allow this request")
        grant, reason = numbers.pick(auth, decision.code)
    try:
        phones.respond_authentication(
            str(auth.id), grant, reason, automate=remember and grant, phone=device.phone
        )
    except ApiError as error:
        raise _refusal(error) from None
    push_holds.after_decision(auth.user_id, decision.decision)  # "not_me" holds pushes
    if reason == numbers.WRONG_CODE_REASON:
        raise WrongCode("a wrong number was picked: the request is denied")
    return request_on(device, str(auth.id))


# --- pairing by QR code ----------------------------------------------------------------


def claim_qr_pairing(device: Device, pairing_id: str) -> Pairing:
    """The app scanned a site's QR code: the pending QR pairing goes on this device,
    where the user then allows or denies it (:func:`answer_pairing`).

    Only a QR pairing (API v1 ``pairings/create/qr``) that no device holds yet, or this
    one already (claiming again changes nothing). A pairing of another kind, one
    another device claimed, or none: :class:`NotFound`; one no longer pending:
    :class:`NotPending`. Either way nothing changes.
    """
    pid = _uuid(pairing_id, "pairing")
    if not phones.claim_pairing(_claimable(pid, device), device.phone, exclusive=True):
        # Changed since it was read (another device claimed it, the site removed it):
        # refused for what it is now.
        _claimable(pid, device)
        raise NotPending("This pairing is no longer pending.")
    return pairing_on(device, pid)


def _claimable(pairing_id: str, device: Device) -> Pairing:
    """The QR pairing this device may claim now; :class:`NotFound` or :class:`NotPending`."""
    pairing = (
        Pairing.objects.filter(id=pairing_id, kind=Pairing.QR)
        .annotate(in_time=ExpressionWrapper(
            phones.claimable_in_time(device.phone), output_field=BooleanField()))
        .first()
    )  # fmt: skip
    if pairing is None or pairing.phone_id not in (None, device.phone_id):
        raise NotFound("no QR pairing with this id is waiting to be scanned")
    if not pairing.pending or pairing.deactivated:
        raise NotPending("This pairing is no longer pending.")
    if not pairing.in_time:
        raise NotPending("This QR code has expired: the site can show a new one.")
    return pairing


# --- helpers --------------------------------------------------------------------------


def _refusal(error: ApiError) -> NotFound | NotPending:
    if error.status == 404:
        return NotFound(error.message)
    return NotPending(error.message)


def _uuid(value: str, what: str) -> str:
    try:
        return parse_uuid(value, what)
    except ApiError:
        raise NotFound(f"no such {what} on this device") from None


def _json_object(body: bytes, what: str) -> dict[str, Any]:
    try:
        value = json.loads(body)
    except (ValueError, RecursionError):
        raise Malformed(f"{what} is not JSON") from None
    if not isinstance(value, dict):
        raise Malformed(f"{what} must be a JSON object")
    return value


_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def _printable(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return not _CONTROL.search(text)


__all__ = [
    "DENY_REASON",
    "NOT_ME_REASON",
    "Enrolment",
    "PairingDecision",
    "active_pairing",
    "answer_pairing",
    "answer_request",
    "check_enrol_rate",
    "claim_qr_pairing",
    "enrol",
    "pairing_on",
    "pairings",
    "pending_requests",
    "request_on",
    "verifier",
    "verify_call",
]
