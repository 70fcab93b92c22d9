"""Number matching: the verification code of a push, as the site keeps and shows it.

A Toopher service with number matching on gives each authentication request a short
code (API v1's extension field ``verification_code``, ``toopher``'s
``AuthenticationRequest.verification_code``). The user picks it among the numbers the
phone offers, so the site shows it while the login waits ("Check that your phone shows
47"). It is kept with the pending login (``PendingLogin.verification_code``) and shared
with the tabs that adopt the same push (:func:`pack`, :func:`unpack`).
"""

from __future__ import annotations

import re
from typing import Any

__all__ = ["code_of", "pack", "unpack"]

_CODE = re.compile(r"[0-9]{1,8}")


def code_of(sent: Any) -> str | None:
    """The verification code of an authentication request, or ``None`` (none, or not
    the digits the protocol allows)."""
    code = getattr(sent, "verification_code", None)
    if isinstance(code, str) and _CODE.fullmatch(code):
        return code
    return None


def pack(request_id: str, code: str | None) -> list[str | None]:
    """The cached record of a push that another tab adopts."""
    return [request_id, code]


def unpack(value: Any) -> tuple[str | None, str | None]:
    """``(request id, code)`` of a cached push record (a bare id, from a version before
    number matching, has no code)."""
    if isinstance(value, str):
        return value or None, None
    if isinstance(value, list | tuple) and len(value) == 2 and isinstance(value[0], str):
        code = value[1] if isinstance(value[1], str) and _CODE.fullmatch(value[1]) else None
        return value[0] or None, code
    return None, None
