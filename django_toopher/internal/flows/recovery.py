"""A lost phone, without an administrator: one-time recovery codes.

* :func:`generate_codes` makes a new set on the security page (the view asks for a
  fresh approval of :data:`GENERATE_ACTION` on the phone first).
* :func:`submit_code` ends a pending *login* as verified with one unused code. The
  code is used once (:func:`~..recovery_codes.use`), wrong codes count against the
  limit of the one-time passwords of that pending login (``OTP_RATE_LIMIT``, one
  limiter for both), and the user is sent to the security page to pair a new phone.
  The approval of "Remove pairing" counts as given for ``ACTION_MAX_AGE`` seconds, so
  the lost phone's pairing can be removed without it.

The reset by email is :mod:`.reset`.
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.urls import NoReverseMatch, reverse

from .. import events, recovery_codes, redirects, upstream
from ..cancel import cancel_push
from ..state import PendingLogin, Status
from .base import Result, describe, final, message, with_live_pending
from .enrollment import UNPAIR_ACTION
from .grant import remember_action
from .hook import complete_login
from .otp import may_try, wrong

#: The action the phone approves before a new set of codes is made.
GENERATE_ACTION = "Generate recovery codes"


def security_url() -> str:
    """The security page, where a new phone is paired (the site's default page when
    the HTML pages are not installed)."""
    try:
        return reverse("django_toopher:security")
    except NoReverseMatch:
        return redirects.default_next()


def generate_codes(request: HttpRequest) -> list[str]:
    """A new set of codes for the logged-in user (the old set dies); shown once."""
    codes = recovery_codes.generate(request.user)
    events.emit(events.Kind.RECOVERY_CODES_GENERATED, user=request.user, request=request,
                detail=f"{len(codes)} codes")
    return codes


@with_live_pending
def submit_code(request: HttpRequest, pending: PendingLogin, code: str) -> Result:
    """Log in with a recovery code instead of the phone (logins only, not actions)."""
    if not pending.is_login:
        return describe(pending, message("recovery_login_only"), problem="conflict")
    user = may_try(request, pending, "recovery_code")
    if isinstance(user, Result):
        return user
    if not recovery_codes.use(user, code):
        events.emit(events.Kind.RECOVERY_CODE_FAILED, user=user, request=request)
        return wrong(request, pending, user, "recovery_code")
    return _verified(request, pending, user)


def _verified(request: HttpRequest, pending: PendingLogin, user: Any) -> Result:
    """The code was right (and is used now): the login is complete."""
    upstream.forget(f"auth:{pending.id}")
    cancel_push(pending.request_id)  # the push waits on the lost phone
    left = recovery_codes.remaining(user)
    events.emit(events.Kind.RECOVERY_CODE_USED, user=user, request=request,
                detail=f"{left} left", remaining=left)
    complete_login(request, pending, user, "recovery_code")
    remember_action(request, UNPAIR_ACTION)
    return final(pending, Status.GRANTED, message("recovery_used", count=left), security_url())
