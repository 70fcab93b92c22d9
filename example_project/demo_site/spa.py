"""The single-page example: a plain-JavaScript page that logs in and steps up through
django_toopher's JSON API (``/_toopher/browser/v1/...``), and the site's own JSON view it
calls for the step-up.

The page is a static template plus ``demo_site/spa.js`` (no inline script or style, so
the example's strict Content-Security-Policy holds). Everything it does goes through
the API: see docs/headless.md.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable
from typing import Any

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache

from django_toopher.headless.decorators import api_toopher_required
from django_toopher.headless.responses import error, form_error, ok
from django_toopher.headless.transport import token_session

from .forms import ChangeEmailForm

View = Callable[..., HttpResponse]


def page(request: HttpRequest) -> HttpResponse:
    """The page itself: markup only; spa.js asks the API for the session's state."""
    return render(request, "demo_site/spa.html")


def post_only(view: View) -> View:
    """Refuse other methods as the API does (JSON ``method_not_allowed``) before anything
    else, so that a stray GET does not begin an approval."""

    @functools.wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if request.method != "POST":
            return error("method_not_allowed")
        return view(request, *args, **kwargs)

    return wrapper


@never_cache
@token_session
@post_only
@api_toopher_required(action="Change email")
def change_email(request: HttpRequest) -> JsonResponse:
    """``POST {"email": "new@example.com"}``: needs a fresh phone approval of "Change
    email"; until then it answers ``403 approval_required`` with the pending approval."""
    try:
        data = json.loads(request.body or b"{}")
    except (UnicodeDecodeError, ValueError):
        data = None
    if not isinstance(data, dict):
        return error("invalid_request")
    email = data.get("email")
    form = ChangeEmailForm({"email": email if isinstance(email, str) else ""}, user=request.user)
    if not form.is_valid():
        return form_error(form)
    form.save()
    return ok({"email": form.cleaned_data["email"],
               "message": f"Your email address is now {form.cleaned_data['email']}."})
