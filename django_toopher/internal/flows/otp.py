"""The one-time-password fallback of a pending push (toopher-api.md A3)."""

from __future__ import annotations

from django.http import HttpRequest

from .. import events, failures, ratelimit
from ..modes import get_mode
from ..state import PendingLogin, Status, Step
from .base import Result, describe, end, message, pending_user, with_live_pending
from .login import conclude


@with_live_pending
def submit_otp(request: HttpRequest, pending: PendingLogin, otp: str) -> Result:
    """Answer the pending push with the one-time password shown in the app."""
    if pending.step is not Step.PUSHED or not pending.request_id:
        return describe(pending, message("otp_no_request"))
    user = pending_user(request, pending)
    if not ratelimit.allow_otp_try(pending.id):
        events.emit(events.Kind.RATE_LIMITED, user=user, request=request, detail="otp")
        return end(request, pending, Status.RATE_LIMITED, user=user)
    try:
        auth = get_mode().client.authenticate_with_otp(pending.request_id, otp)
    except failures.CLIENT_ERRORS as exc:
        if failures.is_outage(exc):
            return describe(pending, message("unreachable_retry"))
        auth = None
    if auth is not None and auth.granted and not auth.pending:
        answer = {"granted": True, "automated": False,
                  "user_name": getattr(auth, "user_name", None)}
        return conclude(request, pending, answer)
    events.emit(events.Kind.OTP_FAILED, user=user, request=request, action=pending.action)
    if ratelimit.otp_tries_left(pending.id) <= 0:
        return end(request, pending, Status.RATE_LIMITED, user=user)
    return describe(pending, message("otp_wrong"), otp_required=True)
