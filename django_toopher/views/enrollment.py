"""Enrollment views: the security overview, pairing a phone, unpairing.

Pairing runs in three steps, all bound to the logged-in user's session:

1. ``pair`` (POST, recent authentication needed) starts a pairing by phrase or by QR
   code and keeps ``{"id", "qr", "started", "user"}`` under :data:`PAIRING` in the
   session. The id never travels to the browser.
2. ``pair_qr`` serves the QR image and ``pair_status`` the JSON state of *that*
   pairing (read from the session, never from the client). ``pairing.js`` polls it;
   without JavaScript, the "Check now" button does the same through ``pair``.
3. When the phone allows, :meth:`complete_pairing` records it once (a cache lock stops
   two racing polls from completing twice); a denial, an expiry
   (:data:`PAIRING_TTL`) or a pairing of another user ends the attempt with a message.
"""

from __future__ import annotations

import hashlib
import logging
import time
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.cache import caches
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods

from .. import session_keys
from ..conf import toopher_settings
from ..enrollment_forms import PairingPhraseForm
from ..models import AuditEvent, Terminal, ToopherProfile
from ..reauth import is_recently_authenticated, reauthentication_required

logger = logging.getLogger("django_toopher")

#: Session key of the pairing in progress.
PAIRING = session_keys.PAIRING
#: Seconds a pairing may wait for the phone (ASVS 5.0 6.5.5: at most 10 minutes).
PAIRING_TTL = 600
#: Pairings a user may start per PAIRING_START_WINDOW seconds (each one calls Toopher).
PAIRING_START_LIMIT = 10
PAIRING_START_WINDOW = 3600
#: How many of the user's own audit events the security page shows.
RECENT_ACTIVITY = 10
#: The action name of the approval needed to remove a pairing.
UNPAIR_ACTION = "Remove pairing"

# Pairing states reported by pair_status.
PENDING = "pending"
PAIRED = "paired"
DENIED = "denied"
EXPIRED = "expired"
FAILED = "failed"
UNAVAILABLE = "unavailable"
NONE = "none"
FINAL_STATES = (PAIRED, DENIED, EXPIRED, FAILED, NONE)


def _backend() -> Any:
    from ..backends import get_backend

    return get_backend()


def _api_errors() -> tuple[type[BaseException], ...]:
    from toopher.errors import ToopherApiError

    return (ToopherApiError,)


def _is_service_failure(exc: BaseException) -> bool:
    return bool(getattr(exc, "is_service_failure", False))


def _cache() -> Any:
    return caches[toopher_settings.CACHE_ALIAS]


def _cache_key(kind: str, pairing_id: str) -> str:
    digest = hashlib.sha256(pairing_id.encode()).hexdigest()[:32]
    return f"django_toopher:pairing:{kind}:{digest}"


def pairing_state(request: HttpRequest) -> dict[str, Any] | None:
    """The current user's pairing in progress, or None (also for a malformed value)."""
    state = request.session.get(PAIRING)
    if (
        not isinstance(state, dict)
        or not isinstance(state.get("id"), str)
        or not state["id"]
        or not isinstance(state.get("started"), (int, float))
        or state.get("user") != str(request.user.pk)
    ):
        return None
    return state


def _clear_state(request: HttpRequest) -> None:
    if PAIRING in request.session:
        del request.session[PAIRING]


def _paired(request: HttpRequest) -> bool | None:
    """Is the user paired? None when Toopher cannot tell us (zero-storage mode)."""
    try:
        return bool(_backend().is_paired(request.user))
    except _api_errors() as exc:
        logger.warning("Could not read the pairing state of user pk=%s: %s",
                       request.user.pk, type(exc).__name__)
        return None


@never_cache
@login_required
@require_GET
def security(request: HttpRequest) -> HttpResponse:
    """The user's overview: pairing state, named browsers, links to change them."""
    profile = ToopherProfile.objects.filter(user=request.user).first()
    paired = _paired(request)
    activity = AuditEvent.objects.filter(user=request.user).order_by("-created_at", "-id")
    context = {
        "paired": paired,
        "paired_unknown": paired is None,
        "profile": profile,
        "toopher_enabled": profile.enabled if profile is not None else True,
        "terminals": Terminal.objects.filter(user=request.user),
        "pairing_in_progress": pairing_state(request) is not None,
        "recently_authenticated": is_recently_authenticated(request),
        "mode": toopher_settings.MODE,
        "recent_activity": list(activity[:RECENT_ACTIVITY]),
    }
    return render(request, "django_toopher/security.html", context)


def _start_error_message(exc: BaseException) -> str:
    if _is_service_failure(exc):
        return _("Toopher cannot be reached right now. Nothing was changed; please try "
                 "again in a moment.")
    from toopher.errors import UserDisabledError

    if isinstance(exc, UserDisabledError):
        return _("Toopher is turned off for your account. Nothing was changed.")
    return _("Toopher did not accept this pairing. Check the phrase in the app (it is "
             "valid for a few minutes only) and try again.")


def _start(request: HttpRequest, phrase: str | None) -> str | None:
    """Start a pairing; store it in the session. Returns an error message or None."""
    from .. import ratelimit

    if not ratelimit.hit(f"pair-start:{request.user.pk}", PAIRING_START_LIMIT,
                         PAIRING_START_WINDOW):
        return _("Too many pairing attempts. Please wait a while and try again.")
    try:
        pairing = _backend().start_pairing(request.user, pairing_phrase=phrase)
    except _api_errors() as exc:
        logger.warning("Starting a pairing failed for user pk=%s: %s",
                       request.user.pk, type(exc).__name__)
        return _start_error_message(exc)
    pairing_id = getattr(pairing, "id", None)
    if not isinstance(pairing_id, str) or not pairing_id:
        return _("Toopher sent an answer we could not understand. Nothing was changed; "
                 "please try again.")
    request.session[PAIRING] = {
        "id": pairing_id,
        "qr": phrase is None,
        "started": time.time(),
        "user": str(request.user.pk),  # str: JSON-safe for UUID primary keys too
    }
    return None


def poll_pairing(request: HttpRequest, state: dict[str, Any]) -> tuple[str, str]:
    """Look at the pairing in progress; complete or end it. Returns (status, message).

    Calls Toopher at most once per ``POLL_INTERVAL`` per pairing, however many tabs
    poll; a poll that changes nothing writes nothing to the session.
    """
    pairing_id = state["id"]
    if time.time() - state["started"] > PAIRING_TTL:
        _clear_state(request)
        return EXPIRED, _("The pairing took too long and was cancelled. Please start again.")
    cache = _cache()
    interval = max(1, int(toopher_settings.POLL_INTERVAL))
    last_key = _cache_key("last", pairing_id)
    if not cache.add(_cache_key("lock", pairing_id), 1, timeout=interval):
        last = cache.get(last_key)
        return (last or PENDING), ""
    backend = _backend()
    try:
        pairing = backend.pairing_status(pairing_id)
    except _api_errors() as exc:
        if _is_service_failure(exc):
            cache.set(last_key, UNAVAILABLE, timeout=interval)
            return UNAVAILABLE, _("Toopher cannot be reached right now; still trying.")
        _clear_state(request)
        logger.warning("Pairing status failed for user pk=%s: %s", request.user.pk,
                       type(exc).__name__)
        return FAILED, _("This pairing is no longer valid. Please start again.")
    if getattr(pairing, "pending", False):
        cache.set(last_key, PENDING, timeout=interval)
        return PENDING, ""
    if not getattr(pairing, "enabled", False):
        _clear_state(request)
        return DENIED, _("The pairing was denied on the phone. Nothing was changed.")
    if not cache.add(_cache_key("done", pairing_id), 1, timeout=PAIRING_TTL):
        # Another request is completing (or has completed) this very pairing.
        return PENDING, ""
    from ..backends import PairingMismatchError

    try:
        backend.complete_pairing(request.user, pairing_id, request=request, pairing=pairing)
    except PairingMismatchError:
        _clear_state(request)
        logger.warning("Pairing of another user refused for user pk=%s", request.user.pk)
        return FAILED, _("This pairing does not belong to your account. Nothing was changed.")
    except _api_errors() as exc:
        cache.delete(_cache_key("done", pairing_id))
        return UNAVAILABLE, _start_error_message(exc)
    _clear_state(request)
    cache.set(last_key, PAIRED, timeout=interval)
    return PAIRED, _("Your phone is paired. Logins now wait for your approval on it.")


def _message_for(request: HttpRequest, status: str, message: str) -> None:
    if not message:
        return
    if status == PAIRED:
        messages.success(request, message)
    elif status in (DENIED, EXPIRED, FAILED):
        messages.error(request, message)
    else:
        messages.warning(request, message)


@never_cache
@require_http_methods(["GET", "POST"])
@reauthentication_required
def pair(request: HttpRequest) -> HttpResponse:
    """Pair a phone: the phrase form, "use a QR code instead", then the wait."""
    state = pairing_state(request)
    form = PairingPhraseForm()
    page_error = ""
    status_code = 200
    if request.method == "POST":
        op = request.POST.get("op", "phrase")
        if op == "cancel":
            if state is not None:
                _clear_state(request)
                messages.info(request, _("Pairing cancelled."))
            return redirect("django_toopher:security")
        if op == "check":
            if state is None:
                return redirect("django_toopher:security")
            status, message = poll_pairing(request, state)
            _message_for(request, status, message)
            if status in FINAL_STATES:
                return redirect("django_toopher:security" if status == PAIRED
                                else "django_toopher:pair")
            return redirect("django_toopher:pair")
        if op not in ("phrase", "qr"):
            messages.error(request, _("Unknown request. Nothing was changed."))
            return redirect("django_toopher:pair")
        if state is not None:
            messages.info(request, _("A pairing is already waiting for your phone."))
            return redirect("django_toopher:pair")
        paired = _paired(request)
        if paired is None:
            messages.error(request, _("Toopher cannot be reached right now. Nothing was "
                                      "changed; please try again in a moment."))
            return redirect("django_toopher:security")
        if paired:
            messages.info(request, _("Your account is already paired. Remove that pairing "
                                     "first to pair another phone."))
            return redirect("django_toopher:security")
        if op == "qr":
            error = _start(request, None)
        else:
            form = PairingPhraseForm(request.POST)
            error = None if form.is_valid() else ""
            if error is None:
                error = _start(request, form.cleaned_data["pairing_phrase"])
        if error is None:
            return redirect("django_toopher:pair")
        page_error = error or ""
        status_code = 400
    elif state is None and _paired(request):
        messages.info(request, _("Your account is already paired."))
        return redirect("django_toopher:security")
    return render(
        request,
        "django_toopher/enroll/pair.html",
        {
            "form": form,
            "error": page_error,
            "pairing": state,
            "qr": bool(state and state.get("qr")),
            "status_url": reverse("django_toopher:pair_status"),
            "poll_interval": max(1, int(toopher_settings.POLL_INTERVAL)),
        },
        status=status_code,
    )


@never_cache
@require_GET
def pair_qr(request: HttpRequest) -> HttpResponse:
    """The QR code (PNG) of the session's QR pairing in progress; 404 otherwise."""
    if not request.user.is_authenticated:
        raise Http404
    state = pairing_state(request)
    if state is None or not state.get("qr"):
        raise Http404
    try:
        image = _backend().qr_code_image(state["id"])
    except _api_errors() as exc:
        logger.warning("QR image failed for user pk=%s: %s", request.user.pk,
                       type(exc).__name__)
        return HttpResponse(_("The QR code is not available right now."), status=503,
                            content_type="text/plain; charset=utf-8")
    if not isinstance(image, bytes) or not image.startswith(b"\x89PNG\r\n\x1a\n"):
        return HttpResponse(_("The QR code is not available right now."), status=502,
                            content_type="text/plain; charset=utf-8")
    response = HttpResponse(image, content_type="image/png")
    response["Content-Disposition"] = 'inline; filename="toopher-pairing.png"'
    return response


@never_cache
@require_GET
def pair_status(request: HttpRequest) -> JsonResponse:
    """JSON state of the session's pairing, for ``pairing.js``.

    ``{"status": "pending|unavailable|paired|denied|expired|failed|none", "final": bool,
    "message": str, "redirect": url|null, "poll_interval": s}``
    """
    if not request.user.is_authenticated:
        return JsonResponse({"status": NONE, "final": True, "message": "",
                             "redirect": None}, status=403)
    state = pairing_state(request)
    if state is None:
        status, message = NONE, ""
    else:
        status, message = poll_pairing(request, state)
        if status in FINAL_STATES:  # shown on the page the script goes to next
            _message_for(request, status, message)
    final = status in FINAL_STATES
    redirect_to = None
    if final:
        redirect_to = reverse("django_toopher:security" if status in (PAIRED, NONE)
                              else "django_toopher:pair")
    return JsonResponse({
        "status": status,
        "final": final,
        "message": message,
        "redirect": redirect_to,
        "poll_interval": max(1, int(toopher_settings.POLL_INTERVAL)),
    })


def _unpair_approved(request: HttpRequest) -> HttpResponse:
    """Confirmation page (GET) and the removal itself (POST), after a fresh approval."""
    if request.method == "POST":
        try:
            _backend().unpair(request.user, request=request)
        except _api_errors() as exc:
            logger.warning("Unpairing failed for user pk=%s: %s", request.user.pk,
                           type(exc).__name__)
            messages.error(request, _("Toopher cannot be reached right now. Your phone is "
                                      "still paired; please try again in a moment."))
            return redirect("django_toopher:security")
        messages.success(request, _("Your phone is no longer paired. Logins no longer "
                                    "wait for its approval."))
        if request.POST.get("end_other_sessions"):
            from ..admin_actions import end_user_sessions

            ended = end_user_sessions(request.user, keep_session_key=request.session.session_key)
            if ended is None:
                messages.warning(request, _("Your other sessions could not be ended here."))
            else:
                messages.info(request, _("%(count)d other session(s) ended.") % {"count": ended})
        return redirect("django_toopher:security")
    return render(request, "django_toopher/enroll/unpair.html", {})


def _with_approval(view: Any) -> Any:
    """Wrap ``view`` in core's ``@toopher_required(action=UNPAIR_ACTION)``."""
    from ..decorators import toopher_required

    return toopher_required(action=UNPAIR_ACTION)(view)


@never_cache
@require_http_methods(["GET", "POST"])
@reauthentication_required
def unpair(request: HttpRequest) -> HttpResponse:
    """Remove the pairing: recent authentication, a fresh approval on the phone of the
    action "Remove pairing", a confirmation (POST)."""
    paired = _paired(request)
    if paired is None:
        messages.error(request, _("Toopher cannot be reached right now. Nothing was changed; "
                                  "please try again in a moment."))
        return redirect("django_toopher:security")
    if not paired:
        messages.info(request, _("Your account has no paired phone."))
        return redirect("django_toopher:security")
    return _with_approval(_unpair_approved)(request)
