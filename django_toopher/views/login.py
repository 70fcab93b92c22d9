"""The pending page, its JSON status endpoint and its small forms.

Thin views: each parses the request, calls :mod:`django_toopher.flow` and renders
the :class:`~django_toopher.flow.Result`. None of them takes an id from the
client: the pending login is read from the session only. All are ``never_cache``
and ``login_not_required`` (the user is not logged in yet); every POST is
CSRF-protected.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_protect
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from .. import flow
from ..forms import OTPForm, PairingPhraseForm, TerminalNameForm

try:  # Django 5.1+
    from django.contrib.auth.decorators import login_not_required
except ImportError:  # Django 4.2: there is no LoginRequiredMiddleware to opt out of

    def login_not_required(view: Callable[..., Any]) -> Callable[..., Any]:
        view.login_required = False  # type: ignore[attr-defined]
        return view


TEMPLATES = {
    flow.START: "django_toopher/pending.html",
    flow.PUSHED: "django_toopher/pending.html",
    flow.FAILED: "django_toopher/pending.html",
    flow.NAME_TERMINAL: "django_toopher/name_terminal.html",
    flow.PAIR: "django_toopher/pair_login.html",
    flow.PAIRING: "django_toopher/pair_login.html",
}

_LEVELS = {
    flow.GRANTED: messages.SUCCESS,
    flow.CANCELLED: messages.INFO,
    flow.NONE: messages.INFO,
}


def _message(request: HttpRequest, result: flow.Result) -> None:
    if result.message:
        level = _LEVELS.get(result.status, messages.ERROR if result.final else messages.INFO)
        messages.add_message(request, level, result.message, fail_silently=True)


def _finish(request: HttpRequest, response: HttpResponse) -> HttpResponse:
    return flow.apply_cookies(request, response)


def _redirect(request: HttpRequest, result: flow.Result, *, say: bool = True) -> HttpResponse:
    if say:
        _message(request, result)
    return _finish(request, HttpResponseRedirect(result.redirect or flow.pending_url()))


def _render(
    request: HttpRequest, result: flow.Result, extra: dict[str, Any] | None = None
) -> HttpResponse:
    state = result.state or {}
    context: dict[str, Any] = {
        "result": result,
        "status": result.status,
        "message": result.message,
        "kind": state.get("kind"),
        "is_action": state.get("kind") == flow.ACTION,
        "action": state.get("action", ""),
        "terminal_name": state.get("terminal_name", ""),
        "remaining": flow.remaining_seconds(state) if state else 0,
        "ttl": flow.ttl(),
        "interval": flow.poll_interval(),
        "otp_form": OTPForm(),
        "name_form": TerminalNameForm(),
        "pair_form": PairingPhraseForm(),
        "qr": bool(state.get("qr")),
        "repair": state.get("why") == "repair",
        "otp_required": result.otp_required,
    }
    if extra:
        context.update(extra)
    template = TEMPLATES.get(result.status, "django_toopher/pending.html")
    return _finish(request, render(request, template, context))


def _show_invalid(request: HttpRequest, forms: dict[str, Any]) -> HttpResponse:
    """Show the current step again with a form's errors; nothing in the flow changes."""
    state = flow.get_state(request)
    if state is None:
        return _redirect(request, flow.poll(request))
    return _render(request, flow.Result(state["step"], "", state=state), forms)


def _show(request: HttpRequest, result: flow.Result) -> HttpResponse:
    if result.final or result.redirect:
        return _redirect(request, result)
    return _render(request, result)


@login_not_required
@never_cache
@csrf_protect
@require_http_methods(["GET", "HEAD", "POST"])
def pending(request: HttpRequest) -> HttpResponse:
    """The pending page. GET sends the one push (if none is out) and shows progress;
    POST ``op=check`` checks now (no JavaScript needed), ``op=retry`` retries after
    an outage."""
    if request.method == "POST":
        op = request.POST.get("op")
        result = flow.retry(request) if op == "retry" else flow.poll(request)
        if result.final or result.redirect:
            return _redirect(request, result)
        return _finish(request, HttpResponseRedirect(flow.pending_url()))
    return _show(request, flow.advance(request))


@login_not_required
@never_cache
@require_GET
def status(request: HttpRequest) -> JsonResponse:
    """JSON for pending.js: ``status``, ``final``, ``message``, ``redirect``,
    ``remaining``, ``interval``. The request id comes from the session only."""
    result = flow.poll(request)
    if result.final and result.status not in (flow.GRANTED, flow.NONE) and result.message:
        _message(request, result)
    if result.status == flow.NONE and request.session.is_empty():
        # A poll that raced a grant in another tab (or on another instance) carries the
        # session key that grant just cycled away. Its empty session would make
        # SessionMiddleware delete the session cookie, and if this answer arrived last
        # the browser would lose the login it was just given. A poll leaves it alone.
        request.COOKIES.pop(settings.SESSION_COOKIE_NAME, None)
    response = JsonResponse(result.as_json(), status=404 if result.status == flow.NONE else 200)
    return _finish(request, response)


@login_not_required
@never_cache
@csrf_protect
@require_POST
def cancel(request: HttpRequest) -> HttpResponse:
    """Cancel the pending login (or action approval)."""
    return _redirect(request, flow.cancel(request))


@login_not_required
@never_cache
@csrf_protect
@require_POST
def otp(request: HttpRequest) -> HttpResponse:
    """Answer the push with the one-time password shown in the app (rate-limited)."""
    form = OTPForm(request.POST)
    if not form.is_valid():
        messages.error(request, form.errors["otp"][0], fail_silently=True)
        return _finish(request, HttpResponseRedirect(flow.pending_url()))
    result = flow.submit_otp(request, form.cleaned_data["otp"])
    if result.final or result.redirect:
        return _redirect(request, result)
    _message(request, result)
    return _finish(request, HttpResponseRedirect(flow.pending_url()))


@login_not_required
@never_cache
@csrf_protect
@require_POST
def name_terminal(request: HttpRequest) -> HttpResponse:
    """Name this browser, then send the push."""
    form = TerminalNameForm(request.POST)
    if not form.is_valid():
        return _show_invalid(request, {"name_form": form})
    result = flow.submit_terminal_name(request, form.cleaned_data["name"])
    if result.final or result.redirect:
        return _redirect(request, result, say=result.final)
    return _render(request, result, {"name_form": form})


@login_not_required
@never_cache
@csrf_protect
@require_POST
def pair(request: HttpRequest) -> HttpResponse:
    """Pair a phone inside a pending login (by phrase, or ``use_qr=1`` for a QR code)."""
    form = PairingPhraseForm(request.POST)
    if not form.is_valid():
        return _show_invalid(request, {"pair_form": form})
    phrase = None if form.cleaned_data.get("use_qr") else form.cleaned_data["pairing_phrase"]
    result = flow.start_pairing(request, phrase)
    if result.final or result.redirect:
        return _redirect(request, result)
    if result.message and result.status == flow.PAIR:
        _message(request, result)
    return _finish(request, HttpResponseRedirect(flow.pending_url()))


@login_not_required
@never_cache
@require_GET
def qr(request: HttpRequest) -> HttpResponse:
    """The QR code of this session's pending pairing, as a PNG."""
    image = flow.qr_image(request)
    if not image:
        raise Http404("No QR pairing is waiting in this session.")
    response = HttpResponse(image, content_type="image/png")
    response["X-Content-Type-Options"] = "nosniff"
    return response


__all__ = ["cancel", "name_terminal", "otp", "pair", "pending", "qr", "status"]
