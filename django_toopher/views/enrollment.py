"""Enrollment views: the security overview, pairing a phone, unpairing.

Pairing runs in three steps, all bound to the logged-in user's session, through the
one pairing flow (:mod:`django_toopher.internal.flows.pairing`):

1. ``pair`` (POST, recent authentication needed) starts a pairing by phrase or by QR
   code. The pairing id never travels to the browser.
2. ``pair_qr`` serves the QR image and ``pair_status`` the JSON state of *that*
   pairing (read from the session). ``pairing.js`` polls it; without JavaScript, the
   "Check now" button does the same through ``pair``.
3. When the phone allows, the pairing is recorded once however many tabs poll; a
   denial, an expiry (``PAIRING_TTL``) or a pairing of another user ends the attempt.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from ..app_settings import app_settings
from ..decorators import toopher_required
from ..forms import PairingPhraseForm
from ..internal import recovery_codes
from ..internal.flows import enrollment
from ..internal.flows.base import message
from ..internal.flows.enrollment import UNPAIR_ACTION
from ..internal.flows.pairing import PairingResult, PairingState, qr_image
from ..internal.http import png
from ..internal.modes import get_profile
from ..internal.reauth import is_recently_authenticated
from .decorators import change_view
from .unavailable import guarded

_LEVELS = {PairingState.PAIRED: messages.SUCCESS, PairingState.DENIED: messages.ERROR,
           PairingState.EXPIRED: messages.ERROR, PairingState.FAILED: messages.ERROR}


def _say(request: HttpRequest, result: PairingResult) -> None:
    if result.message:
        messages.add_message(request, _LEVELS.get(result.state, messages.WARNING),
                             result.message)


def _after(result: PairingResult) -> str:
    if result.state in (PairingState.PAIRED, PairingState.NONE):
        return "django_toopher:security"
    return "django_toopher:pair"


@never_cache
@login_required
@require_GET
@guarded()
def security(request: HttpRequest) -> HttpResponse:
    """The user's overview: pairing state, named browsers, links to change them."""
    profile = get_profile(request.user)
    paired = enrollment.is_paired(request)
    context = {
        "paired": paired,
        "paired_unknown": paired is None,
        "profile": profile,
        "toopher_enabled": profile.enabled if profile is not None else True,
        "terminals": enrollment.terminals_of(request.user),
        "pairing_in_progress": enrollment.current_attempt(request) is not None,
        "recently_authenticated": is_recently_authenticated(request),
        "mode": app_settings.MODE,
        "recent_activity": enrollment.recent_activity(request.user),
        "recovery_codes_left": recovery_codes.remaining(request.user),
    }
    return render(request, "django_toopher/security.html", context)


def _start(request: HttpRequest, form: PairingPhraseForm) -> HttpResponse | str:
    """Start a pairing from a valid form: a redirect, or the error to show on the page."""
    refusal = enrollment.begin(request, form.phrase)
    if refusal is None:
        return redirect("django_toopher:pair")
    if refusal.info:
        messages.info(request, refusal.message)
        in_progress = enrollment.current_attempt(request) is not None
        return redirect("django_toopher:pair" if in_progress else "django_toopher:security")
    if refusal.unknown_state:
        messages.error(request, refusal.message)
        return redirect("django_toopher:security")
    return refusal.message


def _post_pair(request: HttpRequest, form: PairingPhraseForm) -> HttpResponse | str:
    """The POST operations of the pair page: a redirect, or the error to show."""
    op = request.POST.get("op", "phrase")
    if op == "cancel":
        if enrollment.current_attempt(request) is not None:
            enrollment.clear_attempt(request)
            messages.info(request, message("pairing_cancelled"))
        return redirect("django_toopher:security")
    if op == "check":
        result = enrollment.check(request)
        _say(request, result)
        return redirect(_after(result) if result.final else "django_toopher:pair")
    if op not in ("phrase", "qr"):
        messages.error(request, message("unknown_request"))
        return redirect("django_toopher:pair")
    if not form.is_valid():
        return ""
    return _start(request, form)


@change_view
def pair(request: HttpRequest) -> HttpResponse:
    """Pair a phone: the phrase form, "use a QR code instead", then the wait."""
    form = PairingPhraseForm()
    error = ""
    if request.method == "POST":
        posted = {"use_qr": "1"} if request.POST.get("op") == "qr" else request.POST
        form = PairingPhraseForm(posted)
        outcome = _post_pair(request, form)
        if isinstance(outcome, HttpResponse):
            return outcome
        error = outcome
    attempt = enrollment.current_attempt(request)
    if request.method == "GET" and attempt is None and enrollment.is_paired(request):
        messages.info(request, message("already_paired_short"))
        return redirect("django_toopher:security")
    context = {
        "form": form,
        "error": error,
        "pairing": attempt,
        "qr": bool(attempt and attempt.qr),
        "status_url": reverse("django_toopher:pair_status"),
        "poll_interval": app_settings.POLL_INTERVAL,
    }
    return render(request, "django_toopher/enroll/pair.html", context,
                  status=400 if request.method == "POST" else 200)


@never_cache
@require_GET
@guarded()
def pair_qr(request: HttpRequest) -> HttpResponse:
    """The QR code (PNG) of the session's QR pairing in progress; 404 otherwise."""
    if not request.user.is_authenticated:
        raise Http404
    attempt = enrollment.current_attempt(request)
    if attempt is None or not attempt.qr:
        raise Http404
    image = qr_image(attempt)
    if image is None:
        return HttpResponse(message("qr_unavailable"), status=503,
                            content_type="text/plain; charset=utf-8")
    response = png(image)
    response["Content-Disposition"] = 'inline; filename="toopher-pairing.png"'
    return response


@never_cache
@require_GET
@guarded(json=True)
def pair_status(request: HttpRequest) -> JsonResponse:
    """JSON state of the session's pairing, for ``pairing.js``.

    ``{"status": "pending|unavailable|paired|denied|expired|failed|none", "final": bool,
    "message": str, "redirect": url|null, "interval": s}`` (and ``poll_interval``, its
    old name). Nothing to poll (not logged in) is a 404, as for a pending login.
    """
    if not request.user.is_authenticated:
        return JsonResponse({"status": "none", "final": True, "message": "",
                             "redirect": None}, status=404)
    result = enrollment.check(request)
    if result.final:  # shown on the page the script goes to next
        _say(request, result)
    return JsonResponse({
        "status": result.state.value,
        "final": result.final,
        "message": result.message,
        "redirect": reverse(_after(result)) if result.final else None,
        "interval": app_settings.POLL_INTERVAL,
        "poll_interval": app_settings.POLL_INTERVAL,  # the old name, kept for old scripts
    })


@toopher_required(action=UNPAIR_ACTION)
def _unpair_approved(request: HttpRequest) -> HttpResponse:
    """Confirmation page (GET) and the removal itself (POST), after a fresh approval."""
    if request.method == "POST":
        said = enrollment.unpair(
            request, end_other_sessions=bool(request.POST.get("end_other_sessions"))
        )
        for level, text in said:
            getattr(messages, level)(request, text)
        return redirect("django_toopher:security")
    return render(request, "django_toopher/enroll/unpair.html", {})


@change_view
def unpair(request: HttpRequest) -> HttpResponse:
    """Remove the pairing: recent authentication, a fresh approval on the phone of the
    action "Remove pairing", a confirmation (POST)."""
    paired = enrollment.is_paired(request)
    if paired is None:
        messages.error(request, message("unreachable_nothing_changed"))
        return redirect("django_toopher:security")
    if not paired:
        messages.info(request, message("not_paired"))
        return redirect("django_toopher:security")
    return _unpair_approved(request)
