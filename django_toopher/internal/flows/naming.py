"""Naming this browser inside a pending login (stored mode, or 706 in zero-storage)."""

from __future__ import annotations

from django.http import HttpRequest

from .. import cookies, failures, redirects, state
from ..state import PendingLogin, Status, Step
from .base import Result, describe, end, pending_user, with_live_pending
from .login import refuse_for_error
from .terminals import name_terminal


@with_live_pending
def submit_terminal_name(request: HttpRequest, pending: PendingLogin, name: str) -> Result:
    """Name this browser (``name`` cleaned by the form), then go back to ``start``."""
    if pending.step is not Step.NAME_TERMINAL:
        return describe(pending)
    user = pending_user(request, pending)
    if user is None:
        return end(request, pending, Status.REFUSED)
    terminal_id = pending.terminal or cookies.terminal_id_for(request)
    cookies.want_terminal_id(request, terminal_id)
    try:
        row = name_terminal(user, terminal_id, name, request=request)
    except failures.CLIENT_ERRORS as exc:
        return refuse_for_error(request, pending, user, exc)
    pending = pending.next_attempt(Step.START, terminal=terminal_id, terminal_name=row.name)
    state.save(request, pending)
    return Result(step=Step.START, redirect=redirects.pending_url(), pending=pending)
