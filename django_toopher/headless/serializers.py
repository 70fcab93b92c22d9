"""What the JSON API says about a login, a pending approval and an account."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from ..app_settings import app_settings
from ..internal import state
from ..internal.cookies import read_terminal_id
from ..internal.flows.base import Result
from ..internal.flows.enrollment import (
    current_attempt,
    is_paired,
    recent_activity,
    terminals_of,
)
from ..internal.modes import get_profile
from ..internal.reauth import is_recently_authenticated
from ..models import Terminal


def user_data(user: Any) -> dict[str, Any] | None:
    if user is None or not user.is_authenticated:
        return None
    return {"id": user._meta.pk.value_to_string(user), "username": user.get_username()}


def session_data(request: HttpRequest) -> dict[str, Any]:
    """``{"user", "pending"}``: who is logged in, and what waits for approval."""
    waiting = state.load(request)
    pending = None
    if waiting is not None and not waiting.expired():
        pending = Result(step=waiting.step, pending=waiting).present()
    return {"user": user_data(getattr(request, "user", None)), "pending": pending}


def terminal_data(request: HttpRequest, terminal: Terminal, current: str | None) -> dict:
    return {
        "id": terminal.pk,
        "name": terminal.name,
        "current": bool(current) and terminal.requester_terminal_id == current,
        "created_at": terminal.created_at.isoformat(),
        "last_used_at": terminal.last_used_at.isoformat() if terminal.last_used_at else None,
    }


def account_data(request: HttpRequest) -> dict[str, Any]:
    """The security page's data, for the logged-in user."""
    user = request.user
    profile = get_profile(user)
    attempt = current_attempt(request)
    current = read_terminal_id(request)
    return {
        "user": user_data(user),
        "paired": is_paired(request),
        "enabled": profile.enabled if profile is not None else True,
        "mode": app_settings.MODE,
        "recently_authenticated": is_recently_authenticated(request),
        "pairing": None if attempt is None else {
            "qr": attempt.qr, "remaining": attempt.remaining_seconds()},
        "terminals": [terminal_data(request, t, current)
                      for t in terminals_of(user)],
        "recent_activity": [
            {"kind": e.kind, "action": e.action, "terminal": e.terminal_name,
             "at": e.created_at.isoformat()}
            for e in recent_activity(user)
        ],
    }
