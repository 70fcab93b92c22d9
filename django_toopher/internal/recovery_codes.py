"""One-time recovery codes: made as a set, kept only as keyed hashes, used once.

A code is 20 characters of Crockford's base32 (100 random bits), shown as four groups
of five (``7K3QD-M2XAP-9RWTF-0HC4N``). What is kept is an HMAC-SHA256 of the user's pk
and the code, keyed from ``SECRET_KEY`` (:func:`django.utils.crypto.salted_hmac`, with
a salt of its own), so a copy of the database alone does not give the codes away
(ASVS 5.0 6.5.2; NIST SP 800-63B 5.1.2.2). A code made under a key of
``SECRET_KEY_FALLBACKS`` still works.

Using a code compares it in constant time with each unused digest of that user, then
claims the row with a conditional UPDATE (``used_at IS NULL``): of two racing uses of
one code, exactly one wins.
"""

from __future__ import annotations

import secrets
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.crypto import constant_time_compare, salted_hmac

from ..models import RecoveryCode

#: How many codes a set holds.
COUNT = 10
#: Crockford's base32: no I, L, O or U, so nothing is misread.
ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
GROUPS = 4
GROUP_LENGTH = 5
CODE_LENGTH = GROUPS * GROUP_LENGTH
#: Longest input accepted as a code (separators and spaces included).
INPUT_MAX = 40
_SALT = "django_toopher.recovery_code"
#: What a typed code may contain besides the alphabet: separators, and the letters
#: Crockford's base32 reads as digits.
_SEPARATORS = str.maketrans("", "", " -\t")
_READ_AS = str.maketrans({"O": "0", "I": "1", "L": "1"})


def normalize(code: str) -> str | None:
    """``code`` as stored (upper case, no separators), or None if it cannot be one."""
    if not isinstance(code, str) or len(code) > INPUT_MAX:
        return None
    cleaned = code.translate(_SEPARATORS).upper().translate(_READ_AS)
    if len(cleaned) != CODE_LENGTH or any(ch not in ALPHABET for ch in cleaned):
        return None
    return cleaned


def _new_code() -> str:
    raw = "".join(secrets.choice(ALPHABET) for _ in range(CODE_LENGTH))
    return "-".join(raw[i:i + GROUP_LENGTH] for i in range(0, CODE_LENGTH, GROUP_LENGTH))


def _digests(user: Any, normalized: str) -> list[str]:
    """The digest of ``normalized`` under ``SECRET_KEY`` and each fallback key."""
    value = f"{user.pk}:{normalized}"
    keys = [settings.SECRET_KEY, *getattr(settings, "SECRET_KEY_FALLBACKS", [])]
    return [salted_hmac(_SALT, value, secret=key, algorithm="sha256").hexdigest()
            for key in keys]


def generate(user: Any) -> list[str]:
    """A new set of :data:`COUNT` codes for ``user``; the old set dies with it.

    The codes are returned once, to be shown once; only their digests are kept."""
    codes = [_new_code() for _ in range(COUNT)]
    rows = [RecoveryCode(user=user, digest=_digests(user, normalize(code) or "")[0])
            for code in codes]
    with transaction.atomic():
        RecoveryCode.objects.filter(user=user).delete()
        RecoveryCode.objects.bulk_create(rows)
    return codes


def remaining(user: Any) -> int:
    """How many unused codes ``user`` has."""
    return RecoveryCode.objects.filter(user=user, used_at__isnull=True).count()


def generated_at(user: Any) -> Any:
    """When the user's current set was made (None: no set)."""
    row = RecoveryCode.objects.filter(user=user).order_by("-created_at").first()
    return row.created_at if row is not None else None


def use(user: Any, code: str) -> bool:
    """Use ``code`` of ``user`` once: True for the one caller that wins.

    False for a code that is malformed, wrong, another user's, or already used."""
    normalized = normalize(code)
    if normalized is None:
        return False
    candidates = _digests(user, normalized)
    unused = RecoveryCode.objects.filter(user=user, used_at__isnull=True).values_list(
        "pk", "digest")
    found = None
    for pk, digest in unused:  # every row, every key: the time does not tell which matched
        for candidate in candidates:
            if constant_time_compare(digest, candidate):
                found = pk
    if found is None:
        return False
    return RecoveryCode.objects.filter(pk=found, used_at__isnull=True).update(
        used_at=timezone.now()) == 1

