"""The security page through the JSON API: the account's state, password re-entry,
pairing, unpairing, and the named terminals. Every endpoint needs a logged-in user (a
pending token or session is anonymous: ``not_authenticated``); changes need a recent
authentication, like the HTML pages."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.debug import sensitive_variables

from ...forms import PairingPhraseForm, ReauthenticationForm, TerminalNameForm
from ...internal import failures, reauth
from ...internal.flows import enrollment, terminals
from ...internal.flows.base import message
from ...internal.flows.enrollment import UNPAIR_ACTION
from ...internal.flows.pairing import FINAL_STATES, PairingState, qr_image
from ...internal.http import png
from ...internal.reauth import Outcome, is_recently_authenticated
from ...models import Terminal
from ..responses import error, form_error, ok
from ..serializers import account_data, terminal_data
from ..transport import api_view
from .actions import step_up
from .base import as_text, body, read_form

View = Callable[..., HttpResponse]


def user_view(*methods: str, recent: bool = False) -> Callable[[View], View]:
    """:func:`api_view` for a logged-in user (and a recent authentication)."""

    def decorate(view: View) -> View:
        def guarded(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            if not request.user.is_authenticated:
                return error("not_authenticated")
            if recent and not is_recently_authenticated(request):
                return error("reauthentication_required")
            return view(request, *args, **kwargs)

        guarded.__name__ = guarded.__qualname__ = view.__name__
        guarded.__doc__ = view.__doc__
        return api_view(*methods)(guarded)

    return decorate


@user_view("GET")
def account(request: HttpRequest) -> HttpResponse:
    """Pairing state, terminals, recent activity."""
    return ok(account_data(request))


@sensitive_variables("data", "form")
@user_view("POST")
def reauthenticate(request: HttpRequest) -> HttpResponse:
    """``{"password": "..."}``: prove it is still you (rate-limited)."""
    data = body(request)
    if isinstance(data, HttpResponse):
        return data
    # Not read_form: reauthenticate validates, and counts a wrong password.
    form = ReauthenticationForm(request, data=as_text(data, "password"))
    outcome = reauth.reauthenticate(request, form)
    if outcome is Outcome.DONE:
        return ok(account_data(request))
    if outcome is Outcome.NO_PASSWORD:
        return error("no_usable_password")
    return error("rate_limited") if outcome is Outcome.LOCKED else form_error(form)


def _pairing_answer(request: HttpRequest, state: PairingState, message: str) -> JsonResponse:
    return ok({"pairing": {"status": state.value, "final": state in FINAL_STATES,
                           "message": message}, "account": account_data(request)})


@user_view("POST", recent=True)
def pair(request: HttpRequest) -> HttpResponse:
    """``{"pairing_phrase": "..."}`` or ``{"use_qr": true}``: start pairing a phone."""
    form = read_form(request, PairingPhraseForm, "pairing_phrase", "use_qr")
    if isinstance(form, HttpResponse):
        return form
    refusal = enrollment.begin(request, form.phrase)
    if refusal is not None:
        return error(refusal.code, refusal.message)
    return _pairing_answer(request, PairingState.PENDING, "")


@user_view("GET")
def pair_status(request: HttpRequest) -> HttpResponse:
    """Poll the pairing in progress (at most one call to Toopher per interval)."""
    found = enrollment.check(request)
    return _pairing_answer(request, found.state, found.message)


@user_view("GET")
def pair_qr(request: HttpRequest) -> HttpResponse:
    attempt = enrollment.current_attempt(request)
    image = qr_image(attempt) if attempt is not None else None
    return png(image) if image is not None else error("not_found")


@user_view("POST")
def pair_cancel(request: HttpRequest) -> HttpResponse:
    enrollment.clear_attempt(request)
    return ok(account_data(request))


@user_view("POST", recent=True)
def unpair(request: HttpRequest) -> HttpResponse:
    """``{"end_other_sessions": bool}``: remove the pairing, after a fresh approval of
    "Remove pairing" on the phone (``approval_required`` begins it)."""
    data = body(request)
    if isinstance(data, HttpResponse):
        return data
    paired = enrollment.is_paired(request)
    if paired is None:
        return error("toopher_unavailable")
    if not paired:
        return error("conflict", message("not_paired"))
    refusal = step_up(request, UNPAIR_ACTION)
    if refusal is not None:
        return refusal
    said = enrollment.unpair(request, end_other_sessions=data.get("end_other_sessions") is True)
    if said[0][0] == "error":
        return error("toopher_unavailable", said[0][1])
    return ok({"messages": [text for _level, text in said], "account": account_data(request)})


@user_view("GET")
def terminal_list(request: HttpRequest) -> HttpResponse:
    return ok({"terminals": account_data(request)["terminals"]})


def _own(request: HttpRequest, pk: int) -> Terminal | None:
    return Terminal.objects.filter(pk=pk, user_id=request.user.pk or 0).first()


@user_view("POST", recent=True)
def terminal_rename(request: HttpRequest, pk: int) -> HttpResponse:
    """``{"name": "..."}``: rename one of the user's terminals."""
    terminal = _own(request, pk)
    if terminal is None:
        return error("not_found")
    form = read_form(request, TerminalNameForm, "name")
    if isinstance(form, HttpResponse):
        return form
    try:
        terminals.rename_terminal(terminal, form.cleaned_data["name"], request=request)
    except failures.CLIENT_ERRORS:
        return error("toopher_unavailable")
    return ok({"terminal": terminal_data(request, terminal, None)})


@user_view("POST", recent=True)
def terminal_forget(request: HttpRequest, pk: int) -> HttpResponse:
    """Forget one of the user's terminals (its next login needs the phone)."""
    terminal = _own(request, pk)
    if terminal is None:
        return error("not_found")
    try:
        terminals.forget_terminal(terminal, request=request)
    except failures.CLIENT_ERRORS:
        return error("toopher_unavailable")
    return ok({"terminals": account_data(request)["terminals"]})
