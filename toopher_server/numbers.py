"""Number matching: the short code a request shows on the site and the three the phone offers.

When a requester has ``number_matching`` on, every authentication request that waits
for the phone gets a verification code of two digits (10 to 99), made with
:mod:`secrets`, and two distinct decoys. The three are stored in a random order, so
every fetch offers them in the same order. The site shows the code (API v1's extension
field ``verification_code``); the phone offers the three (the device API's ``codes``);
the user picks the one the site shows, inside the signed decision. A wrong pick denies
the request.
"""

from __future__ import annotations

import secrets

from .models import AuthenticationRequest

__all__ = [
    "CHOICES",
    "WRONG_CODE_REASON",
    "assign",
    "is_right",
    "make_codes",
    "offered",
    "pick",
]

#: How many numbers the phone offers.
CHOICES = 3
#: The codes are two-digit numbers: 10 to 99.
LOWEST, HIGHEST = 10, 99
#: The reason a request denied by a wrong pick carries (the site reads it in A2).
WRONG_CODE_REASON = "Denied on the phone: a wrong number was picked"

_SEPARATOR = " "


def make_codes() -> tuple[str, list[str]]:
    """A verification code and the :data:`CHOICES` distinct codes to offer, in random
    order, one of which is the code."""
    pool = list(range(LOWEST, HIGHEST + 1))
    picked: list[int] = []
    while len(picked) < CHOICES:
        picked.append(pool.pop(secrets.randbelow(len(pool))))
    code = str(picked[0])
    shuffled: list[str] = []
    remaining = [str(n) for n in picked]
    while remaining:
        shuffled.append(remaining.pop(secrets.randbelow(len(remaining))))
    return code, shuffled


def assign(auth: AuthenticationRequest) -> None:
    """Give an unsaved pending request its code and the numbers to offer (not saved:
    the caller saves)."""
    code, choices = make_codes()
    auth.verification_code = code
    auth.offered_codes = _SEPARATOR.join(choices)


def offered(auth: AuthenticationRequest) -> list[str] | None:
    """The numbers the phone offers for this request, in their stored order; ``None``
    when the request has no number matching."""
    if not auth.verification_code:
        return None
    return auth.offered_codes.split(_SEPARATOR)


def is_right(auth: AuthenticationRequest, code: str) -> bool:
    """Whether ``code`` is the request's verification code (constant time)."""
    return bool(auth.verification_code) and secrets.compare_digest(
        code.encode("ascii", "replace"), auth.verification_code.encode("ascii")
    )


def pick(auth: AuthenticationRequest, code: str) -> tuple[bool, str]:
    """The answer a picked number gives: ``(True, "")`` for the right one, ``(False,
    WRONG_CODE_REASON)`` for any other (a wrong pick is a denial)."""
    if is_right(auth, code):
        return True, ""
    return False, WRONG_CODE_REASON
