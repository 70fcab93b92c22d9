"""The one-time-password fallback of a pending push.

Each code is checked with a request of its own (A1 ``initiate`` with ``otp``, which
Toopher decides at once; toopher-api.md A1/A3), so a wrong code leaves the push on the
phone untouched: the user may try again, up to ``OTP_RATE_LIMIT`` codes per pending
login, without a new push. A right code grants through that request (used once, like
any grant).
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from ...app_settings import app_settings
from .. import events, failures, ratelimit
from ..cancel import cancel_push
from ..modes import get_mode
from ..state import PendingLogin, Status, Step
from .base import Result, describe, end, message, pending_user, with_live_pending
from .login import conclude


def _check_code(user: Any, pending: PendingLogin, otp: str) -> Any:
    """The decided authentication request for ``otp``, or None when Toopher refused."""
    try:
        return get_mode().authenticate(
            user,
            terminal_id=pending.terminal or "",
            terminal_name=pending.terminal_name or app_settings.DEFAULT_TERMINAL_NAME,
            action=pending.action,
            automation_allowed=False,
            otp=otp,
        )
    except failures.CLIENT_ERRORS as exc:
        if failures.is_outage(exc):
            raise
        return None


@with_live_pending
def submit_otp(request: HttpRequest, pending: PendingLogin, otp: str) -> Result:
    """Answer the pending push with the one-time password shown in the app."""
    if pending.step is not Step.PUSHED or not pending.request_id:
        return describe(pending, message("otp_no_request"), problem="conflict")
    user = may_try(request, pending, "otp")
    if isinstance(user, Result):
        return user
    try:
        decided = _check_code(user, pending, otp)
    except failures.CLIENT_ERRORS:
        return describe(pending, message("unreachable_retry"), otp_required=True,
                        problem="toopher_unavailable")
    request_id = getattr(decided, "id", None)
    if decided is not None and decided.granted and not decided.pending and request_id:
        answer = {"granted": True, "automated": False,
                  "user_name": getattr(decided, "user_name", None)}
        result = conclude(request, pending.but(request_id=request_id), answer)
        if result.status is Status.GRANTED:
            cancel_push(pending.request_id)  # the push on the phone is not needed now
        return result
    events.emit(events.Kind.OTP_FAILED, user=user, request=request, action=pending.action)
    return wrong(request, pending, user, "otp", otp_required=True)


def may_try(request: HttpRequest, pending: PendingLogin, detail: str) -> Any:
    """The pending user, when one more code (a one-time password or a recovery code:
    one limit for both, ``OTP_RATE_LIMIT`` per pending login) may be tried; else the
    Result that ends the pending login."""
    user = pending_user(request, pending)
    if user is None:
        return end(request, pending, Status.REFUSED, message("account_cannot_log_in"))
    if not ratelimit.allow_otp_try(pending.id):
        return _exhausted(request, pending, user, detail)
    return user


def wrong(request: HttpRequest, pending: PendingLogin, user: Any, detail: str, *,
          otp_required: bool = False) -> Result:
    """A wrong code of kind ``detail`` ("otp", "recovery"): how many tries remain, or
    the end of the pending login when none does."""
    left = ratelimit.otp_tries_left(pending.id)
    if left <= 0:
        return _exhausted(request, pending, user, detail)
    return describe(pending, message(f"{detail}_wrong", count=left),
                    otp_required=otp_required, problem=f"invalid_{detail}")


def _exhausted(request: HttpRequest, pending: PendingLogin, user: Any, detail: str) -> Result:
    events.emit(events.Kind.RATE_LIMITED, user=user, request=request, detail=detail)
    text = message("otp_exhausted")
    if pending.is_login:
        text = f"{text} {message('end_start_over')}"
    return end(request, pending, Status.RATE_LIMITED, text, user=user)
