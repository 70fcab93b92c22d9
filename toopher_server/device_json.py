"""JSON shapes of the device API: what the authenticator shows (docs/authenticator-protocol.md §9).

Times are Unix seconds; ``age`` is seconds since the item was made. ``site`` is the
requester's name, ``user`` the user's name, ``action`` and ``terminal`` the names the
decision body must repeat exactly.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from urllib.parse import quote, urlencode

from django.utils import timezone

from . import lifecycle, totp
from .models import AuthenticationRequest, Device, Pairing, PairingPhrase


def _unix(value: datetime) -> int:
    return int(value.timestamp())


def _age(value: datetime, now: datetime) -> int:
    return max(0, int((now - value).total_seconds()))


def device_json(device: Device) -> dict[str, Any]:
    """The enrolled device."""
    return {
        "device_id": device.id,
        "label": device.label,
        "created": _unix(device.created),
    }


def phrase_json(phrase: PairingPhrase) -> dict[str, Any]:
    """A pairing phrase to show, for the user to type into the site."""
    return {
        "pairing_phrase": phrase.phrase,
        "created": _unix(phrase.created),
        "expires": _unix(lifecycle.phrase_expires_at(phrase)),
    }


def pairing_json(pairing: Pairing, now: datetime | None = None) -> dict[str, Any]:
    """A pairing on the device: which site and which account."""
    now = now or timezone.now()
    return {
        "id": str(pairing.id),
        "site": pairing.requester.name,
        "user": pairing.user.name,
        "state": pairing.state,
        "created": _unix(pairing.created),
        "age": _age(pairing.created, now),
    }


def request_json(auth: AuthenticationRequest, now: datetime | None = None) -> dict[str, Any]:
    """An authentication request as the phone shows it (and the decision repeats it)."""
    now = now or timezone.now()
    expires_in = _age(now, lifecycle.expires_at(auth)) if auth.pending else 0
    return {
        "id": str(auth.id),
        "pairing_id": str(auth.pairing_id),
        "site": auth.requester.name,
        "user": auth.user.name,
        "action": auth.action.name,
        "terminal": auth.terminal.name,
        "state": auth.status,
        "created": _unix(auth.created),
        "age": _age(auth.created, now),
        "expires_in": expires_in,
    }


def otp_seed_json(pairing: Pairing) -> dict[str, Any]:
    """The TOTP seed of a pairing (RFC 6238, SHA-1, 6 digits, 30 s) and its otpauth URI."""
    site, user = pairing.requester.name, pairing.user.name
    query = urlencode(
        {
            "secret": pairing.otp_secret,
            "issuer": site,
            "algorithm": "SHA1",
            "digits": totp.DIGITS,
            "period": totp.STEP,
        },
        quote_via=quote,
    )
    return {
        "pairing_id": str(pairing.id),
        "site": site,
        "user": user,
        "secret": pairing.otp_secret,
        "algorithm": "SHA1",
        "digits": totp.DIGITS,
        "period": totp.STEP,
        "uri": f"otpauth://totp/{quote(site, safe='')}:{quote(user, safe='')}?{query}",
    }
