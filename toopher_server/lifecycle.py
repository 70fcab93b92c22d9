"""How long an authentication request lives, and how its end is told apart.

A pending request expires at the service ``TOOPHER_SERVER_REQUEST_EXPIRY`` seconds
after it was made (default 300; the standalone server's ``--request-expiry``). Expiry
is applied when the request is next looked at (A2, the phone, the control API): it then
becomes ``pending=false, granted=false, reason="Request expired"``. A request the
requester cancelled (A4) is ``cancelled=true, reason="Cancelled"``. Neither shows on
the phone any more, and answering one there changes nothing and says why.

A pairing phrase (made by a device or the simulator) expires
``TOOPHER_SERVER_PAIRING_PHRASE_MAX_AGE`` seconds after it was made (default 600):
pairing with it is then refused as with an unknown phrase, and
:func:`delete_expired_phrases` (run whenever a phrase is made) deletes it.

A QR pairing (``pairings/create/qr``) can be scanned for
``TOOPHER_SERVER_QR_PAIRING_MAX_AGE`` seconds after it was made (default 600): a code
photographed or left on a screen does not pair a stranger's phone days later. A device
that scanned it in time can still allow or deny it afterwards.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from . import audit, db
from .conf import setting_int
from .models import AuthenticationRequest, PairingPhrase

DEFAULT_REQUEST_EXPIRY = 300
DEFAULT_PAIRING_PHRASE_MAX_AGE = 600
DEFAULT_QR_PAIRING_MAX_AGE = 600
EXPIRED_REASON = "Request expired"
CANCELLED_REASON = "Cancelled"


def request_expiry() -> int:
    """Seconds a pending authentication request lives (``TOOPHER_SERVER_REQUEST_EXPIRY``)."""
    return setting_int("REQUEST_EXPIRY", DEFAULT_REQUEST_EXPIRY)


def cutoff(now: datetime | None = None) -> datetime:
    """Requests made before this moment have expired."""
    return (now or timezone.now()) - timedelta(seconds=request_expiry())


def expires_at(auth: AuthenticationRequest) -> datetime:
    return auth.created + timedelta(seconds=request_expiry())


def is_stale(auth: AuthenticationRequest, now: datetime | None = None) -> bool:
    """True for a request still marked pending although its time is up."""
    return auth.pending and auth.created < cutoff(now)


def expire(requests: QuerySet[AuthenticationRequest]) -> int:
    """End the pending requests among ``requests`` whose time is up; how many ended.

    Each one ended is audited (``authentication.expired``) in the same transaction. A
    request that another call ended meanwhile is neither ended again nor recorded twice.
    Finding none (the usual case) costs one read and writes nothing.
    """
    stale = requests.filter(pending=True, created__lt=cutoff())
    ids = list(stale.values_list("id", flat=True))
    if not ids:
        return 0
    with db.atomic():
        ended = [
            request_id
            for request_id in ids
            if stale.filter(pk=request_id).update(
                pending=False, granted=False, expired=True, reason=EXPIRED_REASON
            )
        ]
        # Recorded after every row is updated: the audit chain's lock comes last.
        rows = AuthenticationRequest.objects.select_related("user", "action", "pairing")
        for auth in rows.filter(pk__in=ended).order_by("created"):
            audit.request_event(audit.AUTH_EXPIRED, auth, "expired")
    return len(ended)


def expire_if_stale(auth: AuthenticationRequest) -> AuthenticationRequest:
    """The request, expired first (in the database and in hand) if its time is up."""
    if is_stale(auth) and expire(AuthenticationRequest.objects.filter(pk=auth.pk)):
        auth.pending, auth.granted, auth.expired = False, False, True
        auth.reason = EXPIRED_REASON
    return auth


def phrase_max_age() -> int:
    """Seconds a pairing phrase can pair (``TOOPHER_SERVER_PAIRING_PHRASE_MAX_AGE``)."""
    return setting_int("PAIRING_PHRASE_MAX_AGE", DEFAULT_PAIRING_PHRASE_MAX_AGE)


def qr_scannable_since(now: datetime | None = None) -> datetime:
    """QR pairings made before this can no longer be scanned
    (``TOOPHER_SERVER_QR_PAIRING_MAX_AGE``)."""
    max_age = setting_int("QR_PAIRING_MAX_AGE", DEFAULT_QR_PAIRING_MAX_AGE)
    return (now or timezone.now()) - timedelta(seconds=max_age)


def phrase_expires_at(phrase: PairingPhrase) -> datetime:
    """When ``phrase`` stops pairing."""
    return phrase.created + timedelta(seconds=phrase_max_age())


def live_phrases() -> QuerySet[PairingPhrase]:
    """The phrases that can still pair: unused and younger than the maximum age."""
    since = timezone.now() - timedelta(seconds=phrase_max_age())
    return PairingPhrase.objects.filter(used=False, created__gte=since)


def delete_expired_phrases() -> int:
    """Delete the phrases older than the maximum age (used or not); how many."""
    since = timezone.now() - timedelta(seconds=phrase_max_age())
    return PairingPhrase.objects.filter(created__lt=since).delete()[0]


def age_text(seconds: float) -> str:
    """A short age for the phone: "just now", "42 s ago", "3 min ago", "2 h ago"."""
    if seconds < 5:
        return _("just now")
    if seconds < 90:
        count = int(seconds)
        text = ngettext("%(count)d s ago", "%(count)d s ago", count)
    elif seconds < 90 * 60:
        count = round(seconds / 60)
        text = ngettext("%(count)d min ago", "%(count)d min ago", count)
    else:
        count = round(seconds / 3600)
        text = ngettext("%(count)d h ago", "%(count)d h ago", count)
    return text % {"count": count}


def why_not_pending(auth: AuthenticationRequest) -> str:
    """What the phone says when a person answers a request that has ended."""
    if auth.cancelled:
        return _("This request was cancelled by the site: nothing was changed.")
    if auth.expired:
        return _("This request has expired: nothing was changed.")
    return _("This request was already answered: nothing was changed.")
