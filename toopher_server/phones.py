"""What a person does with the Toopher app: the phone side of the service.

Used by the sandbox's phone page and control API and by the device API of enrolled
authenticators (``device_views``), so all of them behave the same way.
"""

from __future__ import annotations

from django.db.models import Q, QuerySet
from django.utils import timezone

from . import audit, db, lifecycle, remembered, totp
from .errors import ApiError
from .models import (
    Action,
    AuthenticationRequest,
    AutomationRule,
    Pairing,
    PairingPhrase,
    Phone,
    Terminal,
)
from .phrases import generate_phrase, normalize_phrase

MAX_PHRASE_ATTEMPTS = 50


def not_pending(what: str) -> ApiError:
    return ApiError(409, 409, f"This {what} is no longer pending.")


def create_phone(name: str = "My phone", phone_number: str = "") -> Phone:
    """A new simulated phone."""
    return Phone.objects.create(name=name or "My phone", phone_number=phone_number)


def new_phrase(phone: Phone) -> PairingPhrase:
    """Generate a pairing phrase on the phone, distinct from every live phrase (expired
    ones are deleted first: ``lifecycle.delete_expired_phrases``)."""
    lifecycle.delete_expired_phrases()
    for _ in range(MAX_PHRASE_ATTEMPTS):
        phrase = generate_phrase()
        if not lifecycle.live_phrases().filter(phrase=phrase).exists():
            return PairingPhrase.objects.create(phrase=phrase, phone=phone)
    # The space is crowded with unused phrases: retire the oldest ones and reuse.
    stale = PairingPhrase.objects.filter(used=False).order_by("created")[:1000]
    PairingPhrase.objects.filter(pk__in=list(stale.values_list("pk", flat=True))).update(used=True)
    return PairingPhrase.objects.create(phrase=generate_phrase(), phone=phone)


def add_phrase(phone: Phone, phrase: str) -> PairingPhrase:
    """Put a chosen two-word phrase on the phone (for scripted demos and tests)."""
    normalized = normalize_phrase(phrase)
    words = normalized.split(" ")
    if len(words) != 2 or not all(w.isalpha() and w.isascii() and len(w) <= 40 for w in words):
        raise ApiError(400, 400, "A pairing phrase is two words of letters.")
    lifecycle.delete_expired_phrases()
    if lifecycle.live_phrases().filter(phrase=normalized).exists():
        raise ApiError(409, 409, "This pairing phrase is already waiting on a phone.")
    return PairingPhrase.objects.create(phrase=normalized, phone=phone)


def current_phrase(phone: Phone) -> PairingPhrase | None:
    """The newest phrase of the phone that can still pair."""
    return lifecycle.live_phrases().filter(phone=phone).first()


def pending_pairings(phone: Phone) -> QuerySet[Pairing]:
    """The pairings waiting for an answer on the phone, newest first."""
    return (
        Pairing.objects.filter(phone=phone, state=Pairing.PENDING, deactivated=False)
        .select_related("user", "requester")
        .order_by("-created")
    )


def pending_authentications(phone: Phone) -> QuerySet[AuthenticationRequest]:
    """The live authentication requests on the phone, newest first.

    Expired ones are ended first (see ``lifecycle``); cancelled ones are not pending.
    """
    lifecycle.expire(AuthenticationRequest.objects.filter(pairing__phone=phone))
    return (
        AuthenticationRequest.objects.filter(
            pairing__phone=phone, pending=True, cancelled=False, created__gte=lifecycle.cutoff()
        )
        .select_related("user", "requester", "terminal", "action", "pairing")
        .order_by("-created")
    )


def active_pairings(phone: Phone) -> QuerySet[Pairing]:
    """The pairings the app lists: allowed and not removed."""
    return (
        Pairing.objects.filter(phone=phone, state=Pairing.ENABLED, deactivated=False)
        .select_related("user", "requester")
        .order_by("created")
    )


def respond_pairing(pairing_id: str, allow: bool, phone: Phone | None = None) -> Pairing:
    """Allow or deny a pending pairing (once).

    With ``phone`` (an enrolled device answering), only a pairing on that phone: any
    other is not found (404) and left as it is.
    """
    on_phone = {} if phone is None else {"phone": phone}
    with db.atomic():
        changed = Pairing.objects.filter(
            id=pairing_id, state=Pairing.PENDING, deactivated=False, **on_phone
        ).update(state=Pairing.ENABLED if allow else Pairing.DENIED)
        pairing = Pairing.objects.filter(id=pairing_id, **on_phone).first()
        if pairing is not None and changed:
            audit.pairing_event(audit.PAIRING_ALLOWED if allow else audit.PAIRING_DENIED, pairing)
    if pairing is None:
        raise ApiError(404, 404, "No such pairing on this phone.")
    if not changed:
        raise not_pending("pairing")
    return pairing


def respond_authentication(
    request_id: str,
    grant: bool,
    reason: str = "",
    automate: bool = False,
    phone: Phone | None = None,
) -> AuthenticationRequest:
    """Grant or deny a pending authentication request (once).

    With ``automate`` the phone also remembers the answer for this pairing, terminal
    and action, and answers the next ones by itself. With ``phone`` (an enrolled device
    answering), only a request of a pairing on that phone: any other is not found (404)
    and left as it is.
    """
    on_phone = {} if phone is None else {"pairing__phone": phone}
    with db.atomic():
        lifecycle.expire(AuthenticationRequest.objects.filter(id=request_id, **on_phone))
        changed = AuthenticationRequest.objects.filter(
            id=request_id, pending=True, cancelled=False, **on_phone
        ).update(pending=False, granted=grant, reason=reason)
        auth = (
            AuthenticationRequest.objects.select_related("pairing", "terminal", "action")
            .filter(id=request_id, **on_phone)
            .first()
        )
        if auth is None:
            raise ApiError(404, 404, "No such authentication request on this phone.")
        if changed and automate:
            set_automation(auth.pairing, auth.terminal, auth.action, grant)
        if changed:
            audit.request_event(audit.DECISION_ALLOWED if grant else audit.DECISION_DENIED, auth,
                                remember=automate, reason=reason)
    if not changed:
        raise ApiError(409, 409, lifecycle.why_not_pending(auth))
    return auth


def deactivate_pairing(
    pairing_id: str, event: str = audit.PAIRING_DEACTIVATED, by: str = "phone"
) -> Pairing:
    """Remove a pairing from the app: it can no longer authenticate (707).

    ``event`` and ``by`` say in the audit trail what happened and who did it (the phone,
    the iframe, a reset link).
    """
    with db.atomic():
        changed = Pairing.objects.filter(id=pairing_id, deactivated=False).update(deactivated=True)
        AuthenticationRequest.objects.filter(pairing_id=pairing_id, pending=True).update(
            pending=False, granted=False, reason="Pairing has been deactivated"
        )
        if changed:
            audit.pairings_event(event, [pairing_id], by=by)
    return Pairing.objects.get(id=pairing_id)


def otp_of(pairing: Pairing) -> str:
    """The pairing's current one-time password."""
    return totp.totp(pairing.otp_secret)


def set_automation(pairing: Pairing, terminal: Terminal, action: Action, grant: bool) -> None:
    """Answer this pairing's requests from ``terminal`` for ``action`` by themselves, for
    the time ``remembered.remember_days`` says from now."""
    now = timezone.now()
    AutomationRule.objects.update_or_create(
        pairing=pairing,
        terminal=terminal,
        action=action,
        defaults={"grant": grant, "created": now, "expires": remembered.expiry(now)},
    )


def claim_pairing(pairing: Pairing, phone: Phone, *, exclusive: bool = False) -> bool:
    """The phone scans a QR code or receives an SMS: the pending pairing shows on it.

    With ``exclusive`` (an enrolled device scanning), only a pairing that no phone holds
    yet, or this phone already (claiming again changes nothing): one conditional UPDATE,
    so of two devices scanning at once only one gets it. A QR pairing made before
    :func:`lifecycle.qr_scannable_since` is claimed by no phone that does not hold it.
    """
    unclaimed = Q(phone__isnull=True) | Q(phone=phone) if exclusive else Q()
    changed = Pairing.objects.filter(
        unclaimed, claimable_in_time(phone), id=pairing.id, state=Pairing.PENDING,
        deactivated=False,
    ).update(phone=phone)
    return bool(changed)


def claimable_in_time(phone: Phone) -> Q:
    """The pairings ``phone`` may still claim by their age: any but a QR pairing made
    before :func:`lifecycle.qr_scannable_since`, unless this phone holds it already (a
    scan again changes nothing). The one statement of the rule: :func:`claim_pairing`
    filters by it, ``devices`` reads it to say why a scan is refused."""
    return ~Q(kind=Pairing.QR) | Q(created__gte=lifecycle.qr_scannable_since()) | Q(phone=phone)
