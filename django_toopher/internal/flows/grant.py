"""How a pending login or action succeeds: the single-use grant, the plain login
where no approval is needed, and the approval of an action."""

from __future__ import annotations

import logging
import time
from typing import Any

from django.db import DatabaseError
from django.http import HttpRequest

from ...session_keys import ACTIONS
from .. import events, redirects, state
from ..claims import claim
from ..state import PendingLogin, Status
from .base import Result, after_end_url, describe, end, final, message
from .hook import complete_login

logger = logging.getLogger("django_toopher")


def remember_action(request: HttpRequest, action: str) -> None:
    """Record that ``action`` was approved in this session just now."""
    approved = request.session.get(ACTIONS)
    approved = dict(approved) if isinstance(approved, dict) else {}
    approved[action] = time.time()
    request.session[ACTIONS] = approved


def _next(request: HttpRequest, pending: PendingLogin) -> str:
    return redirects.safe_next_or(request, pending.next, redirects.default_next())


def grant(request: HttpRequest, pending: PendingLogin, user: Any, *, automated: bool) -> Result:
    """The phone approved: use the approval once, then log in or approve the action."""
    try:
        won = bool(pending.request_id) and claim(pending.request_id or "")
    except DatabaseError:
        logger.warning("django_toopher: could not record a grant; the next poll retries")
        return describe(pending)
    if not won:  # someone already used this approval (a racing poll, or a replay)
        return Result(
            status=Status.EXPIRED,
            message=message("already_used"),
            redirect=redirects.safe_next(request, pending.next) or after_end_url(pending),
        )
    next_url = _next(request, pending)
    if pending.is_login:
        complete_login(request, pending, user, "approved")
    else:
        remember_action(request, pending.action)
        state.clear(request)
    events.emit(
        events.Kind.GRANTED,
        user=user,
        request=request,
        action=pending.action,
        terminal_name=pending.terminal_name,
        automated=automated,
    )
    return final(pending, Status.GRANTED, message("granted"), next_url)


def let_in(
    request: HttpRequest, pending: PendingLogin, user: Any, *, fail_open: bool, why: str
) -> Result:
    """Log in without an approval: 704, 705 without REQUIRE_ENROLLMENT, or fail-open."""
    if not pending.is_login:  # never: actions always fail closed
        return end(request, pending, Status.REFUSED, user=user)
    next_url = _next(request, pending)
    complete_login(request, pending, user, "fail_open" if fail_open else "not_required")
    if fail_open:
        events.emit(events.Kind.FAIL_OPEN, user=user, request=request, detail=why)
    else:
        logger.info("django_toopher: user %s logged in without approval: %s", pending.user, why)
    return final(pending, Status.GRANTED, message("logged_in"), next_url)


def not_configured(request: HttpRequest, pending: PendingLogin, user: Any) -> Result:
    """An action approval for a user without Toopher (704/705)."""
    if pending.if_configured:
        remember_action(request, pending.action)
        state.clear(request)
        return final(pending, Status.GRANTED, "", _next(request, pending))
    return end(request, pending, Status.REFUSED, message("action_needs_pairing"), user=user)
