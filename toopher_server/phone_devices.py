"""Several devices per phone: invitations, joining, listing and removing devices.

A phone (the pairings, phrases and requests a person answers) may have several enrolled
devices, each answering for all of it. A device of the phone makes a one-time
**invitation code** (:func:`invite`): :data:`CODE_LENGTH` characters of
:data:`ALPHABET` (no 0/O, 1/I/L or U), valid :data:`INVITATION_SECONDS` seconds, kept
only as a keyed hash (HMAC-SHA256 under ``SECRET_KEY``), used once. A newly enrolled
device, whose own phone has no pairings yet, **joins** with it (:func:`join`) and then
answers for the inviter's pairings. A wrong, expired or used code gets one and the same
refusal; guessing is bounded by the ``join`` limits of :mod:`.ratelimit` per device and
per address (and making codes by its ``invite`` limit per phone).

Any device of a phone may **remove** another or itself (:func:`remove`); so may an
administrator. Removing the last device of a phone deactivates its pairings (nothing
could answer them any more: the sites see error 707 and offer pairing again). Every
change is audited; a refused call changes nothing.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from datetime import timedelta
from typing import Any
from uuid import UUID

from django.db.models import QuerySet
from django.utils import timezone
from django.utils.crypto import salted_hmac

from . import audit, db, ratelimit
from .device_errors import DeviceApiError, NotFound, RateLimited
from .devices import checked_label
from .devicesig import Malformed
from .models import Device, DeviceInvitation, Pairing, PairingPhrase, Phone
from .service import _deactivate as deactivate_pairings

ALPHABET = "23456789ABCDEFGHJKMNPQRSTVWXYZ"
CODE_LENGTH = 10
INVITATION_SECONDS = 600
_SEPARATORS = re.compile(r"[\s-]")
_HASH_SALT = "toopher_server.phone_devices.invitation"


class InvalidInvitation(DeviceApiError):
    """The invitation code is wrong, expired or used (which of them is not said)."""

    code = "invalid_invitation"
    http_status = 400


class DeviceInUse(DeviceApiError):
    """The device's phone already has pairings: it cannot join another phone."""

    code = "device_in_use"
    http_status = 409


@dataclass(frozen=True)
class Invitation:
    """A code just made: shown once, to be typed on the new device."""

    code: str
    expires_in: int


def code_hash(code: str) -> str:
    """The keyed hash an invitation code is kept as."""
    return salted_hmac(_HASH_SALT, code, algorithm="sha256").hexdigest()


def normalize_code(text: str) -> str | None:
    """The code as typed (any case, spaces or dashes), or None when it cannot be one."""
    code = _SEPARATORS.sub("", text).upper()
    if len(code) != CODE_LENGTH or any(c not in ALPHABET for c in code):
        return None
    return code


def _limited(kind: str, who: dict[str, str], what: str) -> None:
    try:
        ratelimit.check_scopes(kind, who)
    except ratelimit.RateLimited as exc:
        raise RateLimited(f"too many {what}: try again in {exc.retry_after} s") from exc


# --- the device API -----------------------------------------------------------------------


def devices_of(phone_id: UUID | str) -> QuerySet[Device]:
    """The devices of the phone, oldest first."""
    return Device.objects.filter(phone_id=phone_id).order_by("created", "id")


def invite(device: Device) -> Invitation:
    """A new one-time code that adds another device to this device's phone (audited)."""
    _limited(ratelimit.INVITE, {"phone": str(device.phone_id)}, "invitations for this phone")
    code = "".join(secrets.choice(ALPHABET) for _ in range(CODE_LENGTH))
    now = timezone.now()
    expires = now + timedelta(seconds=INVITATION_SECONDS)
    with db.atomic():
        DeviceInvitation.objects.filter(phone_id=device.phone_id, expires__lt=now).delete()
        invitation = DeviceInvitation.objects.create(
            code_hash=code_hash(code), phone_id=device.phone_id, invited_by=device.id,
            expires=expires,
        )
        audit.record(audit.DEVICE_INVITED, "pending", phone=str(device.phone_id),
                     details={"device": device.id, "invitation": invitation.pk})
    return Invitation(code, INVITATION_SECONDS)


def _has_pairings(phone_id: UUID | str) -> bool:
    """Whether the phone has a pairing waiting for an answer or in use."""
    return Pairing.objects.filter(
        phone_id=phone_id, state__in=(Pairing.PENDING, Pairing.ENABLED), deactivated=False
    ).exists()


def join(device: Device, text: object, client: str) -> Device:
    """Move this fresh device onto the phone whose invitation code ``text`` is (audited).

    Refused, changing nothing: :class:`RateLimited`, :class:`DeviceInUse` (its phone has
    pairings), :class:`InvalidInvitation` (wrong, expired or used: one answer).
    """
    _limited(ratelimit.JOIN, {"device": device.id, ratelimit.ADDRESS: client}, "invitation codes")
    if not isinstance(text, str) or len(text) > 64:
        raise Malformed('the body must be {"code": "<invitation code>"}')
    code = normalize_code(text)
    now = timezone.now()
    old_phone = device.phone_id
    with db.atomic():
        if _has_pairings(old_phone):
            raise DeviceInUse("this device already answers for pairings: it cannot join another")
        if code is None:
            raise InvalidInvitation("this invitation code is not valid")
        used = DeviceInvitation.objects.filter(
            code_hash=code_hash(code), used__isnull=True, expires__gt=now
        )
        invitation = used.first()
        if invitation is None or not used.filter(pk=invitation.pk).update(
            used=now, used_by=device.id
        ):
            raise InvalidInvitation("this invitation code is not valid")
        Device.objects.filter(pk=device.pk).update(phone_id=invitation.phone_id)
        if old_phone != invitation.phone_id and not devices_of(old_phone).exists():
            Phone.objects.filter(pk=old_phone).delete()  # it had no pairings: nothing lost
        audit.record(audit.DEVICE_JOINED, "joined", phone=str(invitation.phone_id),
                     details={"device": device.id, "invited_by": invitation.invited_by,
                              "invitation": invitation.pk})
    return Device.objects.select_related("phone").get(pk=device.pk)


def device_on(device: Device, device_id: str) -> Device:
    """A device of the same phone as ``device``; :class:`NotFound` otherwise."""
    devices = devices_of(device.phone_id)
    found = devices.filter(pk=device_id).first() if len(device_id) <= 64 else None
    if found is None:
        raise NotFound("no such device on this phone")
    return found


# --- removing (a device of the phone, or an administrator) -------------------------------


def remove(target: Device, by: str) -> int:
    """Remove the device (audited, ``by`` who); the number of devices left on its phone.

    After the last device of a phone, its pairings are deactivated (audited each) and
    its unused phrases and invitations deleted: nothing is left to answer on it. (The
    phone row stays, so that the audit records of its pairings keep naming it; the
    audit head is locked last, after every row this changes.)
    """
    with db.atomic():
        # Lock the phone so that two removals at once count the devices left in turn.
        Phone.objects.select_for_update().filter(pk=target.phone_id).first()
        if not Device.objects.filter(pk=target.pk).delete()[0]:
            raise NotFound("no such device on this phone")
        left = devices_of(target.phone_id).count()
        if not left:
            PairingPhrase.objects.filter(phone_id=target.phone_id, used=False).delete()
            DeviceInvitation.objects.filter(phone_id=target.phone_id).delete()
            live = (Pairing.PENDING, Pairing.ENABLED)
            pairings = Pairing.objects.filter(phone_id=target.phone_id, state__in=live)
            deactivate_pairings(pairings, audit.PAIRING_DEACTIVATED, by=by)
        audit.record(audit.DEVICE_REMOVED, "removed", phone=str(target.phone_id),
                     details={"device": target.id, "label": target.label, "by": by,
                              "devices_left": left})
    return left


def rename(target: Device, label: Any, by: str) -> None:
    """Give ``target`` a new name (audited, ``by`` who; the old and the new name): the
    enrolment's rule (:func:`devices.checked_label`), and not empty; else
    :class:`Malformed` and nothing changes."""
    label = checked_label(label)
    if not label:
        raise Malformed("label must not be empty")
    with db.atomic():
        if not Device.objects.filter(pk=target.pk).update(label=label):
            raise NotFound("no such device on this phone")
        audit.record(audit.DEVICE_RENAMED, "renamed", phone=str(target.phone_id),
                     details={"device": target.id, "from": target.label, "to": label,
                              "by": by})


def reset_pairings(pairings: QuerySet[Pairing], by: str) -> int:
    """Deactivate these pairings (an administrator's reset of a user's pairings: the
    user pairs again); each audited as ``pairing.reset`` with ``by``. How many changed."""
    return deactivate_pairings(pairings, audit.PAIRING_RESET, by=by)
