"""The site's 500 and 400 handlers: a database or cache outage is a 503 with a way to
try again.

django_toopher's own pages already answer 503 when the database or the cache fails
(``django_toopher.views.unavailable``). What runs outside them — the session
middleware loading or saving a session, the site's login view, the account page —
would otherwise end in Django's bare "Server Error (500)" while PostgreSQL or Redis
restarts. Any other error stays a 500. Django logs the error with its traceback either
way (``django.request``).

Django's session middleware turns a database error while it saves a session into
``SessionInterrupted``, a 400 ("the session was deleted before the request
completed"): while PostgreSQL restarts, a login form's POST would get a bare "Bad
Request (400)". ``bad_request`` answers that one with the same 503; any other 400 is
Django's own.
"""

from __future__ import annotations

import sys

from django.db import DatabaseError
from django.http import HttpRequest, HttpResponse, HttpResponseServerError
from django.views import defaults
from django.views.decorators.csrf import requires_csrf_token

from django_toopher.internal.cache import CacheUnavailable
from django_toopher.views.unavailable import unavailable


def is_outage(exc: BaseException | None) -> bool:
    """The database or the cache did not answer (anywhere in the exception's chain)."""
    seen = 0
    while exc is not None and seen < 10:
        if isinstance(exc, DatabaseError | CacheUnavailable):
            return True
        if type(exc).__module__.split(".")[0] == "redis":  # redis-py's ConnectionError...
            return True
        exc = exc.__cause__ or exc.__context__
        seen += 1
    return False


@requires_csrf_token
def server_error(request: HttpRequest) -> HttpResponse:
    if not is_outage(sys.exc_info()[1]):
        return HttpResponseServerError(
            b"<!doctype html><title>Server Error (500)</title><h1>Server Error (500)</h1>",
            content_type="text/html",
        )
    return _unavailable(request)


@requires_csrf_token
def bad_request(request: HttpRequest, exception: BaseException) -> HttpResponse:
    if is_outage(exception):
        return _unavailable(request)
    return defaults.bad_request(request, exception)


def _unavailable(request: HttpRequest) -> HttpResponse:
    wants_json = request.path.endswith("/status/") or "json" in request.headers.get(
        "Accept", ""
    )
    try:
        return unavailable(request, json=wants_json)
    except Exception:  # noqa: BLE001 (the page itself needs nothing that is down; be sure)
        response = HttpResponse(
            b"<!doctype html><title>Try again</title><p>The site is busy for a moment. "
            b'<a href="">Try again</a>.</p>',
            status=503,
        )
        response["Retry-After"] = "5"
        return response
