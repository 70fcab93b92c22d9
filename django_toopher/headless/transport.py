"""The two kinds of client of the JSON API, and what differs between them.

* **browser**: the session cookie, as the HTML pages use it; every unsafe method is
  CSRF-checked (``X-CSRFToken`` header), answered as a JSON ``csrf_failed`` error.
* **app**: a session token in the ``X-Session-Token`` header and the terminal token in
  ``X-Toopher-Terminal``; no cookie is read or written, so no CSRF check applies. The
  token names a server-side session like any other; it is rotated exactly where the
  session key is cycled (on grant), and the answer's ``meta.session_token`` carries the
  token to use from then on. A pending token is an anonymous session: it reaches no
  user endpoint.

:func:`api_view` wraps every view of the API with the right one.
"""

from __future__ import annotations

import functools
import json
import logging
from collections.abc import Callable
from importlib import import_module
from typing import Any

from django.conf import settings
from django.contrib import auth
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.middleware.csrf import CsrfViewMiddleware
from django.utils.functional import SimpleLazyObject
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt

from ..internal import cookies
from ..internal.failures import INFRASTRUCTURE_ERRORS
from ..internal.http import login_not_required
from .body import parse
from .responses import error

logger = logging.getLogger("django_toopher")

BROWSER = "browser"
APP = "app"
SESSION_HEADER = "HTTP_X_SESSION_TOKEN"
TERMINAL_HEADER = "HTTP_X_TOOPHER_TERMINAL"

View = Callable[..., HttpResponse]


class _JsonCsrf(CsrfViewMiddleware):
    """Django's CSRF check, answering its refusal as a JSON error."""

    def _reject(self, request: HttpRequest, reason: str) -> HttpResponse:
        return error("csrf_failed")


def _csrf_refusal(request: HttpRequest) -> HttpResponse | None:
    check = _JsonCsrf(lambda r: HttpResponse())
    return check.process_view(request, lambda r: HttpResponse(), (), {})


def _add_meta(response: HttpResponse, meta: dict[str, Any]) -> HttpResponse:
    if not isinstance(response, JsonResponse) or not meta:
        return response
    body = json.loads(response.content)
    body.setdefault("meta", {}).update(meta)
    response.content = json.dumps(body).encode()
    return response


def _as_app(request: HttpRequest, view: View, *args: Any, **kwargs: Any) -> HttpResponse:
    """Run ``view`` with the session named by the token, never touching cookies."""
    engine = import_module(settings.SESSION_ENGINE)
    token = request.META.get(SESSION_HEADER, "") or None
    browser_session = getattr(request, "session", None)
    session = engine.SessionStore(session_key=token)
    request.session = session
    request.user = SimpleLazyObject(lambda: auth.get_user(request))  # type: ignore[assignment]
    request._toopher_terminal_header = request.META.get(TERMINAL_HEADER, "")  # type: ignore[attr-defined]
    try:
        response = view(request, *args, **kwargs)
        meta = _save(session, token)
        chosen = cookies.changes(request)
        if chosen.terminal_id:
            meta["terminal_token"] = cookies.terminal_token(chosen.terminal_id)
        chosen.terminal_id, chosen.hint = None, None  # an app gets no cookies
    finally:
        if browser_session is not None:
            request.session = browser_session
    # No cookie for an app: not the CSRF cookie that login() rotates, nor any other.
    request.META.pop("CSRF_COOKIE_NEEDS_UPDATE", None)
    response.cookies.clear()
    return _add_meta(response, meta)


def _save(session: Any, token: str | None) -> dict[str, Any]:
    """Save the token's session; the token the app uses from now on."""
    if session.is_empty():
        if token:
            session.delete(token)
        return {"session_token": None}
    if session.modified or session.session_key is None:
        session.save()
    return {"session_token": session.session_key}


def client_kind(request: HttpRequest) -> str:
    return APP if getattr(request, "_toopher_terminal_header", None) is not None else BROWSER


def api_view(*methods: str) -> Callable[[View], View]:
    """The decorators of every JSON API view: ``methods`` only, never cached, reachable
    without a login, a body that is empty or a JSON object (else ``invalid_request``,
    whatever the kind), and the client kind of the URL (``client`` keyword) applied."""

    def decorate(view: View) -> View:
        @functools.wraps(view)
        def wrapper(request: HttpRequest, client: str, *args: Any, **kwargs: Any) -> HttpResponse:
            if client not in (BROWSER, APP):
                return error("not_found")
            if request.method not in methods:
                return error("method_not_allowed")
            # Before the CSRF check, which would read a form body (see body.py).
            refusal = parse(request)
            if isinstance(refusal, JsonResponse):
                return refusal
            try:
                return _dispatch(request, client == APP, view, *args, **kwargs)
            except INFRASTRUCTURE_ERRORS as exc:
                logger.warning("django_toopher: %s during %s; answered 503",
                               type(exc).__name__, request.path)
                return error("service_unavailable")
            except Exception:  # a bug: logged with its traceback, answered as JSON still
                logger.exception("django_toopher: unexpected error during %s", request.path)
                return error("server_error")

        wrapper.api_methods = methods  # type: ignore[attr-defined]  # read by the tests
        return login_not_required(never_cache(csrf_exempt(wrapper)))

    return decorate


def _dispatch(request: HttpRequest, app: bool, view: View, *args: Any, **kwargs: Any
              ) -> HttpResponse:
    if app:
        return _as_app(request, view, *args, **kwargs)
    if request.method not in ("GET", "HEAD", "OPTIONS", "TRACE"):
        refusal = _csrf_refusal(request)
        if refusal is not None:
            return refusal
    return view(request, *args, **kwargs)


def token_session(view: View) -> View:
    """For a site's own JSON views: a request with ``X-Session-Token`` runs as an app
    client (the token's session, no cookies, no CSRF); any other as a browser client
    (the session cookie, CSRF checked and answered as JSON ``csrf_failed``)."""

    @functools.wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        return _dispatch(request, SESSION_HEADER in request.META, view, *args, **kwargs)

    return csrf_exempt(wrapper)
