"""The pending page, its JSON status endpoint and its small forms.

Thin views: each parses the request, calls :mod:`django_toopher.internal.flows` and
renders the :class:`~django_toopher.internal.flows.base.Result`. None of them takes an
id from the client: the pending login is read from the session only. All are
``never_cache`` and ``login_not_required`` (the user is not logged in yet); every one
that changes state is ``csrf_protect``-ed whatever the site's middleware list.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.shortcuts import render

from ..adapter import get_adapter
from ..app_settings import app_settings
from ..forms import OTPForm, PairingPhraseForm, TerminalNameForm
from ..internal import cookies, redirects, state
from ..internal.flows import login, naming
from ..internal.flows import otp as otp_flow
from ..internal.flows.base import Result
from ..internal.http import png
from ..internal.state import Kind, Status, Step
from .decorators import pending_view

TEMPLATES = {
    Step.NAME_TERMINAL: "django_toopher/name_terminal.html",
    Step.PAIR: "django_toopher/pair_login.html",
    Step.PAIRING: "django_toopher/pair_login.html",
}
DEFAULT_TEMPLATE = "django_toopher/pending.html"

_LEVELS = {Status.GRANTED: messages.SUCCESS, Status.CANCELLED: messages.INFO,
           Status.NONE: messages.INFO}


def _say(request: HttpRequest, result: Result) -> None:
    if result.message:
        default = messages.ERROR if result.final else messages.INFO
        level = _LEVELS.get(result.status, default) if result.status else default
        messages.add_message(request, level, result.message, fail_silently=True)


def _redirect(request: HttpRequest, result: Result, *, say: bool = True) -> HttpResponse:
    if say:
        _say(request, result)
    response = HttpResponseRedirect(result.redirect or redirects.pending_url())
    return cookies.apply(request, response)


def back_to_pending(request: HttpRequest, result: Result) -> HttpResponse:
    """After a POST: a final or moving result redirects; otherwise say it and go back."""
    if result.final or result.redirect:
        return _redirect(request, result)
    return _redirect(request, Result(step=result.step, message=result.message))


def _render(request: HttpRequest, result: Result, forms: dict[str, Any] | None = None,
            status: int = 200) -> HttpResponse:
    pending = result.pending
    shown = _shown(result)
    context: dict[str, Any] = {
        **shown,
        "result": result,
        "is_action": shown["kind"] == Kind.ACTION.value,
        "action": shown["action"] or "",
        "terminal_name": pending.terminal_name if pending else "",
        "remaining": shown["remaining"] or 0,
        "ttl": pending.step_ttl() if pending else app_settings.PENDING_TTL,
        "otp_form": OTPForm(),
        "name_form": TerminalNameForm(
            initial={"name": get_adapter().suggested_terminal_name(request)}
        ),
        "pair_form": PairingPhraseForm(),
        **(forms or {}),
    }
    template = TEMPLATES.get(result.step, DEFAULT_TEMPLATE) if result.step else DEFAULT_TEMPLATE
    return cookies.apply(request, render(request, template, context, status=status))


def _shown(result: Result) -> dict[str, Any]:
    """:meth:`Result.present`, the page's way: for the page and pending.js, ``status``
    keeps the name it has always had (the step while the login lives, then how it
    ended), as scripts written against it read it; ``step`` is as in the JSON API."""
    return {**result.present(), "status": result.code}


def _show_invalid(request: HttpRequest, forms: dict[str, Any]) -> HttpResponse:
    """Show the current step again with a form's errors; nothing in the flow changes."""
    pending = state.load(request)
    if pending is None:
        return _redirect(request, login.poll(request))
    return _render(request, Result(step=pending.step, pending=pending), forms, status=400)


@pending_view("GET", "HEAD", "POST")
def pending(request: HttpRequest) -> HttpResponse:
    """The pending page. GET sends the one push (if none is out) and shows progress;
    POST ``op=check`` checks now (no JavaScript needed), ``op=retry`` retries after
    an outage."""
    if request.method == "POST":
        op = request.POST.get("op")
        result = login.retry(request) if op == "retry" else login.poll(request)
        if result.final or result.redirect:
            return _redirect(request, result)
        return cookies.apply(request, HttpResponseRedirect(redirects.pending_url()))
    result = login.advance(request)
    if result.final or result.redirect:
        return _redirect(request, result)
    return _render(request, result)


@pending_view("GET", json=True)
def status(request: HttpRequest) -> HttpResponse:
    """JSON for pending.js: :meth:`Result.present` (as ``_shown``) and ``redirect``;
    404 when nothing waits, as in the JSON API. The request id comes from the session
    only."""
    result = login.poll(request)
    if result.final and result.status not in (Status.GRANTED, Status.NONE):
        _say(request, result)
    answer = JsonResponse({**_shown(result), "redirect": result.redirect},
                          status=404 if result.status is Status.NONE else 200)
    return cookies.apply(request, answer)


@pending_view("POST")
def cancel(request: HttpRequest) -> HttpResponse:
    """Cancel the pending login (or action approval)."""
    return _redirect(request, login.cancel(request))


@pending_view("POST")
def otp(request: HttpRequest) -> HttpResponse:
    """Answer the push with the one-time password shown in the app (rate-limited)."""
    form = OTPForm(request.POST)
    if not form.is_valid():
        messages.error(request, str(form.errors["otp"][0]), fail_silently=True)
        return cookies.apply(request, HttpResponseRedirect(redirects.pending_url()))
    return back_to_pending(request, otp_flow.submit_otp(request, form.cleaned_data["otp"]))


@pending_view("POST")
def name_terminal(request: HttpRequest) -> HttpResponse:
    """Name this browser, then send the push."""
    form = TerminalNameForm(request.POST)
    if not form.is_valid():
        return _show_invalid(request, {"name_form": form})
    result = naming.submit_terminal_name(request, form.cleaned_data["name"])
    if result.final or result.redirect:
        return _redirect(request, result, say=result.final)
    return _render(request, result, {"name_form": form})


@pending_view("POST")
def pair(request: HttpRequest) -> HttpResponse:
    """Pair a phone inside a pending login (by phrase, or ``use_qr=1`` for a QR code)."""
    form = PairingPhraseForm(request.POST)
    if not form.is_valid():
        return _show_invalid(request, {"pair_form": form})
    result = login.start_pairing(request, form.phrase)
    if result.final or result.redirect:
        return _redirect(request, result)
    if result.step is not Step.PAIR:
        result = Result(step=result.step)
    return _redirect(request, result)


@pending_view("GET")
def qr(request: HttpRequest) -> HttpResponse:
    """The QR code of this session's pending pairing, as a PNG."""
    image = login.qr_image(request)
    if not image:
        raise Http404("No QR pairing is waiting in this session.")
    return png(image)
