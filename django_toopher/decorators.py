"""Decorators for a site's views.

* ``@toopher_required(action=...)`` (and :class:`ToopherRequiredMixin`): before the
  view runs, the user approves *this action* on the phone (automation off), even in a
  fully verified session.
* ``@reauthentication_required``: the view runs only for a user whose last complete
  authentication is recent; others re-enter their password first.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from django.contrib.auth.decorators import login_required
from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render

from .internal import redirects
from .internal.flows import actions
from .internal.flows.actions import Verdict
from .internal.reauth import is_recently_authenticated, reauth_url

View = Callable[..., HttpResponse]


def check_action(
    request: HttpRequest, action: str, max_age: int | None = None, *, if_configured: bool = False
) -> HttpResponse | None:
    """None if the view may run now; otherwise the response that asks for approval."""
    decision = actions.check(request, action, max_age, if_configured=if_configured)
    if decision.verdict is Verdict.RUN:
        return None
    if decision.verdict is Verdict.LOGIN:
        return redirect_to_login(request.get_full_path())
    if decision.verdict is Verdict.UNAVAILABLE:
        return render(request, "django_toopher/action_unavailable.html", {"action": action},
                      status=403)
    return HttpResponseRedirect(redirects.pending_url())


def toopher_required(
    view: View | None = None,
    *,
    action: str,
    max_age: int | None = None,
    if_configured: bool = False,
) -> Any:
    """Require a fresh phone approval of ``action`` before the view runs.

    An approval is kept in the session for ``max_age`` seconds
    (``TOOPHER["ACTION_MAX_AGE"]`` by default), for this action name only;
    ``max_age=0`` makes every approval single-use. ``if_configured=True`` lets users
    without Toopher (unpaired, or disabled) through, like django-otp's
    ``otp_required(if_configured=True)``; by default they get a 403 page that explains
    how to pair a phone.
    """
    if not action or not isinstance(action, str):
        raise ValueError("toopher_required needs an action name, e.g. action='Change email'")

    def decorator(func: View) -> View:
        @functools.wraps(func)
        def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            response = check_action(request, action, max_age, if_configured=if_configured)
            if response is not None:
                return response
            return func(request, *args, **kwargs)

        return wrapper

    return decorator(view) if view is not None else decorator


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


def reauthentication_required(view: View | None = None, *, max_age: int | None = None) -> Any:
    """Run ``view`` only for a logged-in user with a recent authentication.

    Anonymous users go to the login page; others with an old authentication go to the
    re-entry page and come back afterwards (a POST comes back as a GET of the same URL,
    so nothing is changed without a new confirmation).
    """

    def decorator(func: View) -> View:
        @functools.wraps(func)
        def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            if not is_recently_authenticated(request, max_age):
                return HttpResponseRedirect(reauth_url(request))
            return func(request, *args, **kwargs)

        return login_required(wrapper)

    return decorator(view) if view is not None else decorator
