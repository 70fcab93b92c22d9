"""The password re-entry page (URL name ``django_toopher:reauth``).

Wrong passwords are rate-limited per user (``TOOPHER["REAUTH_RATE_LIMIT"]`` per
``REAUTH_RATE_WINDOW`` seconds, shared with the JSON API) and reported through
Django's ``user_login_failed`` signal, as any other failed password check is.
"""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render, resolve_url
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_protect
from django.views.decorators.debug import sensitive_post_parameters

from ..forms import ReauthenticationForm
from ..internal import redirects
from ..internal.reauth import (
    REDIRECT_FIELD_NAME,
    Outcome,
    has_usable_password,
    is_locked,
    reauthenticate,
)


def _page(request: HttpRequest, context: dict, status: int) -> HttpResponse:
    context["redirect_field_name"] = REDIRECT_FIELD_NAME
    return render(request, "django_toopher/reauth.html", context, status=status)


@sensitive_post_parameters("password")
@never_cache
@csrf_protect
@login_required
def reauth_view(request: HttpRequest) -> HttpResponse:
    """Ask for the password again, then return to the validated ``next``."""
    next_url = redirects.safe_next_or(
        request,
        request.POST.get(REDIRECT_FIELD_NAME) or request.GET.get(REDIRECT_FIELD_NAME),
        resolve_url("django_toopher:security"),
    )
    if not has_usable_password(request.user):
        # Accounts without a password (e.g. social logins) prove themselves by logging
        # in again, which sets the authentication time like any completed login.
        return _page(request, {"form": None, "next": next_url, "locked": False,
                               "no_password": True},
                     403 if request.method == "POST" else 200)
    if request.method != "POST":
        form = ReauthenticationForm(request)
        return _page(request, {"form": form, "next": next_url, "locked": is_locked(request)},
                     200)
    form = ReauthenticationForm(request, data=request.POST)
    outcome = reauthenticate(request, form)
    if outcome is Outcome.DONE:
        return HttpResponseRedirect(next_url)
    locked = outcome is Outcome.LOCKED
    return _page(request, {"form": form, "next": next_url, "locked": locked},
                 429 if locked else 400)
