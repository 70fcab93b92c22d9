"""A lost phone through the JSON API: a recovery code or an emailed reset link during
a pending login, and a new set of recovery codes for a logged-in user. The same flows
as the HTML pages (:mod:`~django_toopher.internal.flows.recovery`,
:mod:`~django_toopher.internal.flows.reset`)."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.views.decorators.debug import sensitive_variables

from ...forms import RecoveryCodeForm, ResetTokenForm
from ...internal import recovery_codes
from ...internal.flows import recovery, reset
from ..responses import ok
from ..transport import api_view
from .account import user_view
from .actions import step_up
from .base import answer, read_form


@api_view("POST")
@sensitive_variables("form")
def pending_code(request: HttpRequest) -> HttpResponse:
    """``{"code": "7K3QD-M2XAP-9RWTF-0HC4N"}``: log in with a recovery code instead of
    the phone (wrong codes count against ``OTP_RATE_LIMIT``)."""
    form = read_form(request, RecoveryCodeForm, "code")
    if isinstance(form, HttpResponse):
        return form
    return answer(request, recovery.submit_code(request, form.cleaned_data["code"]))


@api_view("POST")
def pending_reset_email(request: HttpRequest) -> HttpResponse:
    """Mail a pairing reset link to the account's address (the same answer either way)."""
    return answer(request, reset.request_reset(request))


@api_view("POST")
@sensitive_variables("form")
def pending_reset(request: HttpRequest) -> HttpResponse:
    """``{"token": "..."}``: the last path segment of the emailed link of this site
    (zero-storage mode): reset the pairing, in the user's own pending login."""
    form = read_form(request, ResetTokenForm, "token")
    if isinstance(form, HttpResponse):
        return form
    return answer(request, reset.use_link(request, form.cleaned_data["token"]))


def _codes_state(request: HttpRequest) -> dict[str, object]:
    made = recovery_codes.generated_at(request.user)
    return {"remaining": recovery_codes.remaining(request.user),
            "generated_at": made.isoformat() if made is not None else None}


@user_view("GET")
def codes(request: HttpRequest) -> HttpResponse:
    """How many recovery codes are left, and when the set was made."""
    return ok(_codes_state(request))


@user_view("POST", recent=True)
@sensitive_variables("made")
def new_codes(request: HttpRequest) -> HttpResponse:
    """A new set of recovery codes (the old set dies), after a fresh approval of
    "Generate recovery codes" (``approval_required`` begins it). Shown this once."""
    refusal = step_up(request, recovery.GENERATE_ACTION)
    if refusal is not None:
        return refusal
    made = recovery.generate_codes(request)
    return ok({"codes": made, **_codes_state(request)})
