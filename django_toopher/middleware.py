"""``ToopherMiddleware``: send a browser with a pending login to the pending page.

It does nothing at all (no session read, no query, no API call) unless the request
carries the small ``toopher_pending`` hint cookie set when a login became pending.
The security does not rest on it: a pending session has no auth keys, so
``request.user`` is anonymous with or without this middleware. Place it after
``SessionMiddleware`` and ``AuthenticationMiddleware``.

Only navigations are redirected: a background fetch (``Sec-Fetch-Mode`` other than
``navigate``) passes through and sees an anonymous user.

It is sync and async capable (like django-otp's): under ASGI it runs in the event
loop, and reads the session in a thread only for requests that carry the hint.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from asgiref.sync import iscoroutinefunction, markcoroutinefunction, sync_to_async
from django.conf import settings
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import NoReverseMatch, reverse

from .app_settings import app_settings
from .internal import cookies, redirects, state


def _exempt_prefixes() -> tuple[str, ...]:
    prefixes = list(app_settings.EXEMPT_PATHS)
    prefixes.append(redirects.pending_url())
    try:  # the JSON API answers a pending login itself
        prefixes.append(reverse("django_toopher_headless:openapi").rsplit("/", 1)[0] + "/")
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
    for resolve in (redirects.login_url, lambda: reverse("logout")):
        try:
            paths.add(resolve())
        except NoReverseMatch:
            pass
    return paths


def pending_redirect(request: HttpRequest) -> HttpResponse | None:
    """The redirect to the pending page for a pending login, else None (sync)."""
    if request.META.get("HTTP_SEC_FETCH_MODE", "navigate") != "navigate":
        # A background fetch (an icon, an image, a script's fetch()): it sees an
        # anonymous user as it is; sent to the pending page, it would answer the
        # pending login in the user's stead (and could end it).
        return None
    pending = state.load(request)
    if pending is None or not pending.is_login:
        cookies.clear_hint(request)
        return None
    path = request.path
    if path.startswith(_exempt_prefixes()) or path in _exempt_paths():
        return None
    return HttpResponseRedirect(redirects.pending_url())


class ToopherMiddleware:
    """Redirect pending logins to the pending page; write the flows' cookies."""

    sync_capable = True
    async_capable = True

    def __init__(self, get_response: Callable[[HttpRequest], Any]) -> None:
        self.get_response = get_response
        self.is_async = iscoroutinefunction(get_response)
        if self.is_async:
            markcoroutinefunction(self)

    def __call__(self, request: HttpRequest) -> Any:
        if self.is_async:
            return self.__acall__(request)
        if cookies.HINT_COOKIE in request.COOKIES:
            redirect = pending_redirect(request)
            if redirect is not None:
                return cookies.apply(request, redirect)
        return cookies.apply(request, self.get_response(request))

    async def __acall__(self, request: HttpRequest) -> HttpResponse:
        if cookies.HINT_COOKIE in request.COOKIES:
            redirect = await sync_to_async(pending_redirect)(request)
            if redirect is not None:
                return cookies.apply(request, redirect)
        get_response: Callable[[HttpRequest], Awaitable[HttpResponse]] = self.get_response
        response = await get_response(request)
        return cookies.apply(request, response)
