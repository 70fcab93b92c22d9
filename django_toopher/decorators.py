"""``@toopher_required(action=...)`` and :class:`ToopherRequiredMixin`.

Before the view runs, the user approves *this action* on the phone (automation
off), even in a fully verified session. An approval is kept in the session for
``max_age`` seconds (``TOOPHER["ACTION_MAX_AGE"]`` by default), for this action
name only; ``max_age=0`` makes every approval single-use.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render

from . import backends, flow
from .conf import toopher_settings


def _needs_toopher(user: Any) -> bool:
    """Whether this user can be asked at all (zero-storage: Toopher decides later)."""
    backend = backends.get_backend()
    profile = backend.get_profile(user)
    if profile is not None and not profile.enabled:
        return False
    if backend.mode == backends.STORED:
        return bool(profile and profile.pairing_id)
    return True


def check_action(
    request: HttpRequest,
    action: str,
    max_age: int | None = None,
    *,
    if_configured: bool = False,
) -> HttpResponse | None:
    """None if the view may run now; otherwise the response that asks for approval."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return redirect_to_login(request.get_full_path())
    age = toopher_settings.ACTION_MAX_AGE if max_age is None else int(max_age)
    if flow.action_is_fresh(request, action, max(age, 0) or 60):
        if age <= 0:
            flow.consume_action(request, action)
        return None
    waiting = flow.get_state(request)
    if (
        waiting is not None
        and waiting["kind"] == flow.ACTION
        and waiting.get("action") == action
        and flow.state_is_live(request, waiting)
    ):
        return HttpResponseRedirect(flow.pending_url())  # one push per pending approval
    if not _needs_toopher(user):
        if if_configured:
            return None
        return render(
            request,
            "django_toopher/action_unavailable.html",
            {"action": action},
            status=403,
        )
    flow.begin_action(request, action, request.get_full_path(), if_configured=if_configured)
    return HttpResponseRedirect(flow.pending_url())


def toopher_required(
    view: Callable[..., HttpResponse] | None = None,
    *,
    action: str,
    max_age: int | None = None,
    if_configured: bool = False,
) -> Any:
    """Require a fresh phone approval of ``action`` before the view runs.

    ``if_configured=True`` lets users without Toopher (unpaired, or disabled)
    through, like django-otp's ``otp_required(if_configured=True)``; by default
    they get a 403 page that explains how to pair a phone.
    """
    if not action or not isinstance(action, str):
        raise ValueError("toopher_required needs an action name, e.g. action='Change email'")

    def decorator(func: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
        @functools.wraps(func)
        def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            response = check_action(request, action, max_age, if_configured=if_configured)
            if response is not None:
                return response
            return func(request, *args, **kwargs)

        return wrapper

    if view is not None:
        return decorator(view)
    return decorator


class ToopherRequiredMixin:
    """Class-based-view form of :func:`toopher_required`. Set ``toopher_action``."""

    toopher_action: str = ""
    toopher_max_age: int | None = None
    toopher_if_configured: bool = False

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not self.toopher_action:
            raise ValueError(f"{type(self).__name__}.toopher_action is not set")
        response = check_action(
            request,
            self.toopher_action,
            self.toopher_max_age,
            if_configured=self.toopher_if_configured,
        )
        if response is not None:
            return response
        return super().dispatch(request, *args, **kwargs)  # type: ignore[misc]
