"""Requesters (consumer key and secret pairs): creating, rotating, re-encrypting.

Secrets are stored encrypted (see :class:`~toopher_server.models.Requester`); the
functions here are the only writers. A new secret is returned to the caller once, to be
shown once; nothing here logs one.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta

from django.utils import timezone
from django.views.decorators.debug import sensitive_variables

from . import db
from .keys import secret_box
from .models import Requester
from .secretbox import DecryptError
from .tokens import token

DEFAULT_NAME = "Sandbox requester"
#: The longest overlap ``rotate_secret`` accepts (a rotation that never ends is none).
MAX_OVERLAP = timedelta(days=90)
_DURATION = re.compile(r"^\s*(\d{1,9})\s*([smhd]?)\s*$")
_UNITS = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400}


def new_key() -> str:
    """A fresh consumer key (20 characters, never beginning with ``-``)."""
    return token(15)


def new_secret() -> str:
    """A fresh consumer secret (40 characters, 240 random bits, never beginning with ``-``)."""
    return token(30)


@sensitive_variables()
def create_requester(name: str = DEFAULT_NAME) -> Requester:
    """A new requester with a random key and secret (``requester.current_secret()``)."""
    requester = Requester(name=name or DEFAULT_NAME, key=new_key())
    requester.set_secret(new_secret())
    requester.save()
    return requester


@sensitive_variables()
def ensure_requester(key: str, secret: str, name: str) -> Requester:
    """Create or update the requester with exactly this key, secret and name (idempotent).

    For the sandbox and the example project, whose requester's credentials are given.
    A changed secret replaces the old one at once (no overlap).
    """
    if not key or not secret:
        raise ValueError("key and secret must not be empty")
    with db.atomic():
        requester = Requester.objects.select_for_update().filter(key=key).first()
        if requester is None:
            requester = Requester(key=key, name=name or DEFAULT_NAME)
            requester.set_secret(secret)
            requester.save()
            return requester
        changed = []
        if _sealed_secret_differs(requester, secret) or requester.previous_secret_sealed:
            requester.set_secret(secret)
            changed += ["secret_sealed", "previous_secret_sealed", "previous_secret_expires"]
        if requester.name != (name or DEFAULT_NAME):
            requester.name = name or DEFAULT_NAME
            changed.append("name")
        if changed:
            requester.save(update_fields=[*changed, "modified"])
    return requester


@sensitive_variables()
def _sealed_secret_differs(requester: Requester, secret: str) -> bool:
    """Whether the stored secret is not ``secret`` (or no longer decrypts: the sandbox's
    or example project's ``SECRET_KEY``, and so its derived key, changed)."""
    try:
        return requester.current_secret() != secret
    except DecryptError:
        return True


def parse_duration(text: str) -> timedelta:
    """``"3600"``, ``"3600s"``, ``"90m"``, ``"1h"``, ``"7d"`` as a ``timedelta``.

    Raises ``ValueError`` for anything else.
    """
    match = _DURATION.match(text or "")
    if not match:
        raise ValueError(f"not a duration: {text!r} (examples: 3600s, 90m, 1h, 1d)")
    return timedelta(seconds=int(match.group(1)) * _UNITS[match.group(2)])


@sensitive_variables()
def rotate_secret(
    key: str, overlap: timedelta, now: datetime | None = None
) -> tuple[Requester, str]:
    """Give the requester ``key`` a new secret; the old one stays valid for ``overlap``.

    Returns the requester and the new secret (to show once). ``overlap`` 0 ends the old
    secret at once. Raises ``Requester.DoesNotExist`` for an unknown key and
    ``ValueError`` for an overlap below 0 or above :data:`MAX_OVERLAP`.
    """
    if overlap < timedelta(0) or overlap > MAX_OVERLAP:
        raise ValueError(f"the overlap must be between 0 and {MAX_OVERLAP.days} days")
    secret = new_secret()
    with db.atomic():
        requester = Requester.objects.select_for_update().get(key=key)
        until = (now or timezone.now()) + overlap if overlap else None
        requester.set_secret(secret, keep_previous_until=until)
        requester.save(
            update_fields=[
                "secret_sealed", "previous_secret_sealed", "previous_secret_expires", "modified"
            ]
        )
    return requester, secret


@sensitive_variables()
def reencrypt_all() -> int:
    """Re-encrypt every requester's secrets under the key ring's first key.

    After a new key was put first in ``TOOPHER_SECRET_KEYS`` (the old one still after
    it). Returns how many rows changed; when it returns 0 on a second run, the old key
    may go. Each row is rewritten in its own short transaction.
    """
    box = secret_box()
    changed = 0
    for pk in Requester.objects.values_list("pk", flat=True).order_by("pk"):
        with db.atomic():
            requester = Requester.objects.select_for_update().filter(pk=pk).first()
            if requester is None:
                continue
            fields = []
            for field, kind in (
                ("secret_sealed", Requester.SECRET_KIND),
                ("previous_secret_sealed", Requester.PREVIOUS_SECRET_KIND),
            ):
                token = getattr(requester, field)
                if token and box.needs_reencrypt(token):
                    aad = requester.secret_aad(kind)
                    setattr(requester, field, box.reencrypt(token, aad))
                    fields.append(field)
            if fields:
                requester.save(update_fields=fields)
                changed += 1
    return changed
