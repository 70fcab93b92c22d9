"""``ToopherMiddleware``: send a browser with a pending login to the pending page.

It does nothing at all (no session read, no query, no API call) unless the
request carries the small ``toopher_pending`` hint cookie set when a login
became pending. The security does not rest on it: a pending session has no auth
keys, so ``request.user`` is anonymous with or without this middleware. Place it
after ``SessionMiddleware`` and ``AuthenticationMiddleware``.
"""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import NoReverseMatch, reverse

from . import flow
from .conf import toopher_settings


def _exempt_prefixes() -> tuple[str, ...]:
    prefixes = [p for p in toopher_settings.EXEMPT_PATHS if isinstance(p, str) and p]
    try:
        prefixes.append(reverse("django_toopher:pending"))
    except NoReverseMatch:
        pass
    for name in ("STATIC_URL", "MEDIA_URL"):
        value = getattr(settings, name, None)
        if value and isinstance(value, str) and value.startswith("/") and value != "/":
            prefixes.append(value)
    return tuple(prefixes)


def _exempt_paths() -> set[str]:
    """The login and logout pages: a user may always start over."""
    paths = set()
    for resolve in (flow.login_url, lambda: reverse("logout")):
        try:
            paths.add(resolve())
        except NoReverseMatch:
            pass
    return paths


class ToopherMiddleware:
    """Redirect pending logins to the pending page; set the flow's cookies."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if flow.HINT_COOKIE in request.COOKIES:
            redirect = self._pending_redirect(request)
            if redirect is not None:
                return flow.apply_cookies(request, redirect)
        response = self.get_response(request)
        return flow.apply_cookies(request, response)

    def _pending_redirect(self, request: HttpRequest) -> HttpResponse | None:
        state = flow.get_state(request)
        if state is None or state["kind"] != flow.LOGIN:
            request._toopher_hint = "clear"  # type: ignore[attr-defined]
            return None
        path = request.path
        if path.startswith(_exempt_prefixes()) or path in _exempt_paths():
            return None
        return HttpResponseRedirect(flow.pending_url())
