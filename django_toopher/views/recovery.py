"""A lost phone, without an administrator: the recovery-code and reset-link pages.

At the pending page: "Lost your phone? Use a recovery code" (:func:`pending_code`) and
"Lost your phone and your codes?" (:func:`pending_email`); the emailed link of this
site opens :func:`pending_reset`. On the security page: the state of the codes
(:func:`codes`) and a new set after a fresh approval on the phone (:func:`codes_new`).
Thin views over :mod:`~django_toopher.internal.flows.recovery` and
:mod:`~django_toopher.internal.flows.reset`.
"""

from __future__ import annotations

from urllib.parse import quote

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.template.loader import render_to_string
from django.utils.cache import add_never_cache_headers
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters, sensitive_variables
from django.views.decorators.http import require_GET

from ..decorators import toopher_required
from ..forms import RecoveryCodeForm
from ..internal import cookies, recovery_codes, redirects, state
from ..internal.flows import recovery, reset
from ..internal.flows.base import message
from .decorators import change_view, pending_view
from .login import back_to_pending
from .unavailable import guarded


@sensitive_post_parameters("code")
@pending_view("POST")
def pending_code(request: HttpRequest) -> HttpResponse:
    """End the pending login with a recovery code instead of the phone."""
    form = RecoveryCodeForm(request.POST)
    if not form.is_valid():
        messages.error(request, str(form.errors["code"][0]), fail_silently=True)
        return cookies.apply(request, HttpResponseRedirect(redirects.pending_url()))
    return back_to_pending(request, recovery.submit_code(request, form.cleaned_data["code"]))


@pending_view("POST")
def pending_email(request: HttpRequest) -> HttpResponse:
    """Mail a pairing reset link to the account's address (the same answer either way)."""
    return back_to_pending(request, reset.request_reset(request))


@pending_view("GET", "HEAD", "POST")
@sensitive_variables("token")
def pending_reset(request: HttpRequest, token: str) -> HttpResponse:
    """The emailed link: GET asks to confirm (a mail scanner's visit changes nothing),
    POST resets the pairing, in the session of the user's own pending login."""
    if request.method == "POST":
        return back_to_pending(request, reset.use_link(request, token))
    valid = reset.link_owner_matches(request, token)
    waiting = state.load(request)
    if valid:
        text = ""
    elif waiting is None or waiting.expired():
        text = message("reset_link_login_first")
    else:
        text = message("reset_link_invalid")
    context = {"valid": valid, "message": text, "token": token,
               "login_url": redirects.login_url()}
    return render(request, "django_toopher/recovery/reset.html", context,
                  status=200 if valid else 400)


@never_cache
@login_required
@require_GET
@guarded()
def codes(request: HttpRequest) -> HttpResponse:
    """How many recovery codes are left, and the way to a new set."""
    context = {"remaining": recovery_codes.remaining(request.user),
               "generated_at": recovery_codes.generated_at(request.user),
               "count": recovery_codes.COUNT}
    return render(request, "django_toopher/recovery/codes.html", context)


@toopher_required(action=recovery.GENERATE_ACTION)
def _codes_approved(request: HttpRequest) -> HttpResponse:
    """After a fresh approval: confirm (GET), then make and show the new set (POST)."""
    if request.method != "POST":
        return render(request, "django_toopher/recovery/codes_new.html",
                      {"remaining": recovery_codes.remaining(request.user)})
    return _show_codes(request, recovery.generate_codes(request))


@sensitive_variables("new_codes", "text")
def _show_codes(request: HttpRequest, new_codes: list[str]) -> HttpResponse:
    """The new codes, shown this once: on the page, to print, and as a text file (a
    ``data:`` link, so nothing but their hashes is kept anywhere)."""
    text = render_to_string("django_toopher/recovery/codes.txt",
                            {"codes": new_codes, "site": request.get_host()})
    context = {"codes": new_codes,
               "download": "data:text/plain;charset=utf-8," + quote(text)}
    response = render(request, "django_toopher/recovery/codes_shown.html", context)
    add_never_cache_headers(response)
    return response


@change_view
def codes_new(request: HttpRequest) -> HttpResponse:
    """A new set of recovery codes: recent authentication, a fresh approval of
    "Generate recovery codes" on the phone, a confirmation (POST)."""
    return _codes_approved(request)
