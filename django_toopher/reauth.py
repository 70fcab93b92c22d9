"""Recent authentication: the gate before pairing, unpairing and terminal changes.

A login (plain, or approved on the phone) stores its time in
``session[session_keys.AUTH_AT]``. Views decorated with
:func:`reauthentication_required` run only while that time is younger than
``TOOPHER["REAUTH_AGE"]`` seconds; otherwise the user is sent to the password
re-entry page (:func:`reauth_view`, URL name ``django_toopher:reauth``) and then
back to the validated ``next``. ASVS 5.0 7.5.1, NIST SP 800-63B 6.1.2.1.

Wrong passwords are rate-limited per user (:data:`FAILURE_LIMIT` per
:data:`FAILURE_WINDOW` seconds) and reported through Django's ``user_login_failed``
signal, as any other failed password check is.
"""

from __future__ import annotations

import functools
import logging
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode

from django import forms
from django.contrib.auth import authenticate, get_user_model
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.middleware.csrf import rotate_token
from django.shortcuts import render, resolve_url
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_protect
from django.views.decorators.debug import sensitive_post_parameters

from . import ratelimit, session_keys
from .conf import toopher_settings

logger = logging.getLogger("django_toopher")

#: Wrong passwords allowed per user and window on the re-entry page.
FAILURE_LIMIT = 5
#: Seconds of that window.
FAILURE_WINDOW = 900
#: Name of the query parameter that carries the page to return to.
REDIRECT_FIELD_NAME = "next"


def authenticated_at(request: HttpRequest) -> float | None:
    """Unix time of the session's last complete authentication, or None."""
    value = request.session.get(session_keys.AUTH_AT)
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return float(value)


def is_recently_authenticated(request: HttpRequest, max_age: int | None = None) -> bool:
    """True when the user authenticated less than ``max_age`` (default REAUTH_AGE) s ago."""
    if not request.user.is_authenticated:
        return False
    at = authenticated_at(request)
    if at is None:
        return False
    age = time.time() - at
    limit = toopher_settings.REAUTH_AGE if max_age is None else max_age
    # A time in the future (clock skew, tampering) is not trusted as recent.
    return -5 <= age < limit


def mark_authenticated(request: HttpRequest) -> None:
    """Record that the user proved who they are just now."""
    request.session[session_keys.AUTH_AT] = time.time()


def safe_next(request: HttpRequest, value: str | None, default: str) -> str:
    """``value`` when it is a URL on this site, else ``default``."""
    if value and url_has_allowed_host_and_scheme(
        value, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return value
    return default


def reauth_url(request: HttpRequest, next_url: str | None = None) -> str:
    """The password re-entry URL that returns to ``next_url`` (default: this page)."""
    target = next_url or request.get_full_path()
    return f"{reverse('django_toopher:reauth')}?{urlencode({REDIRECT_FIELD_NAME: target})}"


def reauthentication_required(
    view: Callable[..., HttpResponse] | None = None, *, max_age: int | None = None
) -> Any:
    """Decorator: run ``view`` only for a logged-in user with a recent authentication.

    Anonymous users go to the login page; others with an old authentication go to the
    re-entry page and come back afterwards (a POST comes back as a GET of the same URL,
    so nothing is changed without a new confirmation).
    """

    def decorator(func: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
        @functools.wraps(func)
        def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            if not is_recently_authenticated(request, max_age):
                return HttpResponseRedirect(reauth_url(request))
            return func(request, *args, **kwargs)

        return login_required(wrapper)

    return decorator(view) if view is not None else decorator


class ReauthenticationForm(forms.Form):
    """The current user's password, checked through the site's auth backends."""

    password = forms.CharField(
        label=gettext_lazy("Password"),
        strip=False,
        max_length=4096,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password", "autofocus": True}),
    )

    def __init__(self, request: HttpRequest, *args: Any, **kwargs: Any) -> None:
        self.request = request
        super().__init__(*args, **kwargs)

    def clean_password(self) -> str:
        password = self.cleaned_data["password"]
        user = self.request.user
        username_field = get_user_model().USERNAME_FIELD
        checked = authenticate(
            self.request, **{username_field: user.get_username(), "password": password}
        )
        if checked is None or checked.pk != user.pk:
            raise forms.ValidationError(_("That password is not correct."), code="invalid")
        return password


def _failure_key(request: HttpRequest) -> str:
    return f"reauth:{request.user.pk}"


@sensitive_post_parameters("password")
@never_cache
@csrf_protect
@login_required
def reauth_view(request: HttpRequest) -> HttpResponse:
    """Ask for the password again, then return to the validated ``next``."""
    default = resolve_url("django_toopher:security")
    next_url = safe_next(
        request,
        request.POST.get(REDIRECT_FIELD_NAME) or request.GET.get(REDIRECT_FIELD_NAME),
        default,
    )
    if not request.user.has_usable_password():
        # Accounts without a password (e.g. social logins) prove themselves by logging
        # in again, which sets the authentication time like any completed login.
        return render(
            request,
            "django_toopher/reauth.html",
            {"form": None, "next": next_url, "locked": False, "no_password": True,
             "redirect_field_name": REDIRECT_FIELD_NAME},
            status=403 if request.method == "POST" else 200,
        )
    key = _failure_key(request)
    locked = ratelimit.count(key) >= FAILURE_LIMIT
    form = ReauthenticationForm(request, data=request.POST if request.method == "POST" else None)
    status = 200
    if request.method == "POST":
        if locked:
            status = 429
        elif form.is_valid():
            ratelimit.reset(key)
            request.session.cycle_key()
            rotate_token(request)
            mark_authenticated(request)
            return HttpResponseRedirect(next_url)
        else:
            if "password" in form.errors and form.has_error("password", "invalid"):
                ratelimit.hit(key, FAILURE_LIMIT, FAILURE_WINDOW)
                logger.warning("Wrong password on re-authentication, user pk=%s",
                               request.user.pk)
            locked = ratelimit.count(key) >= FAILURE_LIMIT
            status = 429 if locked else 400
    return render(
        request,
        "django_toopher/reauth.html",
        {"form": form, "next": next_url, "locked": locked,
         "redirect_field_name": REDIRECT_FIELD_NAME},
        status=status,
    )
