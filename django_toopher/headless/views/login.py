"""The login through the JSON API: the session's state, the password step (for sites
that have no JSON login of their own), and every step of the pending login."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib.auth import login as django_login
from django.contrib.auth import logout as django_logout
from django.contrib.auth.forms import AuthenticationForm
from django.http import HttpRequest, HttpResponse
from django.middleware.csrf import get_token
from django.views.decorators.debug import sensitive_post_parameters, sensitive_variables

from ...audit import client_ip
from ...forms import OTPForm, PairingPhraseForm, TerminalNameForm
from ...internal import ratelimit
from ...internal.flows import login, naming, otp
from ...internal.flows.base import Result
from ...internal.http import png
from ..responses import error, form_error, ok
from ..serializers import session_data
from ..transport import BROWSER, api_view, client_kind
from .base import answer, as_text, body, read_form


@api_view("GET")
def session(request: HttpRequest) -> HttpResponse:
    """Who is logged in, and the pending login or action, if any. A browser client gets
    its CSRF cookie here (send it back as ``X-CSRFToken``)."""
    if client_kind(request) == BROWSER:
        get_token(request)
    return ok(session_data(request))


@sensitive_variables("data")
@sensitive_post_parameters()
@api_view("POST")
def password_login(request: HttpRequest) -> HttpResponse:
    """The password step: ``{"username", "password"}``. A user who needs approval gets a
    pending login (as with any ``login()``); the answer says which."""
    data = body(request)
    if isinstance(data, HttpResponse):
        return data
    if not ratelimit.allow_login(client_ip(request)):
        return error("rate_limited")
    form = AuthenticationForm(request, data=as_text(data, "username", "password"))
    if not form.is_valid():
        if form.has_error("__all__", "invalid_login"):
            return error("invalid_credentials")
        return form_error(form)
    django_login(request, form.get_user())
    return ok(session_data(request))


@api_view("POST")
def logout(request: HttpRequest) -> HttpResponse:
    """End the session (a pending login too)."""
    django_logout(request)
    return ok(session_data(request))


def _flow_view(method: str, flow: Callable[[HttpRequest], Result], doc: str) -> Any:
    """A view that answers what ``flow(request)`` decided."""

    def view(request: HttpRequest) -> HttpResponse:
        return answer(request, flow(request))

    view.__name__ = view.__qualname__ = flow.__name__
    view.__doc__ = doc
    return api_view(method)(view)


start = _flow_view("POST", login.advance,
                   "Send the one push of the pending login (or action), if none is out yet.")
status = _flow_view("GET", login.poll,
                    "Poll the pending login: at most one call to Toopher per interval.")
cancel = _flow_view("POST", login.cancel, "Cancel the pending login (or action).")
retry = _flow_view("POST", login.retry,
                   "After Toopher failed (FAIL_MODE closed): try the push again.")


def _form_view(form_class: Any, fields: tuple[str, ...],
               run: Callable[[HttpRequest, Any], Result], doc: str) -> Any:
    """A view that validates the body with ``form_class`` and answers ``run(request,
    form)``; the form (an OTP, say) is kept out of error reports."""

    @sensitive_variables("form")
    def view(request: HttpRequest) -> HttpResponse:
        form = read_form(request, form_class, *fields)
        if isinstance(form, HttpResponse):
            return form
        return answer(request, run(request, form))

    view.__doc__ = doc
    return api_view("POST")(view)


submit_otp = _form_view(
    OTPForm, ("otp",), lambda request, form: otp.submit_otp(request, form.cleaned_data["otp"]),
    '``{"otp": "123456"}``: the one-time password shown in the app.')
name_terminal = _form_view(
    TerminalNameForm, ("name",),
    lambda request, form: naming.submit_terminal_name(request, form.cleaned_data["name"]),
    '``{"name": "Work laptop"}``: name this browser or device.')
pair = _form_view(
    PairingPhraseForm, ("pairing_phrase", "use_qr"),
    lambda request, form: login.start_pairing(request, form.phrase),
    '``{"pairing_phrase": "awkward turtle"}`` or ``{"use_qr": true}``: pair a phone '
    "inside the pending login.")


@api_view("GET")
def pairing_qr(request: HttpRequest) -> HttpResponse:
    """The PNG of the pending login's QR pairing."""
    image = login.qr_image(request)
    return png(image) if image else error("not_found")
