"""What the example's templates need on every page: is a login waiting for the phone?"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from django_toopher.internal import cookies, state
from django_toopher.internal.state import Kind


def pending_login(request: HttpRequest) -> dict[str, Any]:
    """``pending_login``: True while this session's login waits for approval.

    Reads the session only when the pending hint cookie is there, so other requests
    cost nothing (django_toopher's middleware does the same).
    """
    if cookies.HINT_COOKIE not in request.COOKIES:
        return {"pending_login": False}
    pending = state.load(request)
    return {"pending_login": bool(pending and pending.kind is Kind.LOGIN)}
