"""The login hook: every ``login()`` either completes or becomes a pending login.

Every login path (the site's login view, the admin login, a password-reset
auto-login, a social login, ``Client.force_login``) ends in
``django.contrib.auth.login()``, which sends ``user_logged_in``. The receiver in
:mod:`django_toopher.receivers` calls :func:`on_user_logged_in`, which lets the login
through (no approval needed, or already approved) or removes the auth keys from the
session and keeps a :class:`~..state.PendingLogin` instead.

``login()`` therefore runs twice for a login that needs approval; the first run is
not a verified login. :data:`~django_toopher.signals.toopher_verified` is sent, and
``last_login`` is updated, only when a login is complete.
"""

from __future__ import annotations

import contextlib
import contextvars
import logging
import time
from collections.abc import Iterator
from typing import Any

from django.contrib.auth import (
    BACKEND_SESSION_KEY,
    HASH_SESSION_KEY,
    SESSION_KEY,
    login,
)
from django.contrib.auth.models import AnonymousUser, update_last_login
from django.contrib.auth.signals import user_logged_in
from django.http import HttpRequest

from ...app_settings import app_settings
from ...session_keys import ACTIONS, AUTH_AT, PENDING
from .. import cookies, events, redirects, state
from ..cancel import cancel_push
from ..modes import Requirement, get_mode
from ..state import Kind, PendingLogin

logger = logging.getLogger("django_toopher")

#: Set by :func:`approved_login` (and the test helpers): the next login() is verified.
_TRUSTED: contextvars.ContextVar[bool] = contextvars.ContextVar(
    "django_toopher_trusted", default=False
)
#: Set while the login flow calls login() for an approved (or exempt) login.
_COMPLETING: contextvars.ContextVar[str] = contextvars.ContextVar(
    "django_toopher_completing", default=""
)
#: Whether Django's own update_last_login receiver was taken over (see take_over_last_login).
_LAST_LOGIN = {"ours": False}


def take_over_last_login() -> None:
    """Record ``last_login`` for complete logins only: Django's ``update_last_login``
    receiver would also record the password step of a login that is still pending."""
    if user_logged_in.disconnect(update_last_login, dispatch_uid="update_last_login"):
        _LAST_LOGIN["ours"] = True


@contextlib.contextmanager
def approved_login() -> Iterator[None]:
    """Within this block, ``login()`` is not turned into a pending login.

    For code that has verified the second factor itself (and for tests, through
    :func:`django_toopher.testing.force_login_verified`).
    """
    token = _TRUSTED.set(True)
    try:
        yield
    finally:
        _TRUSTED.reset(token)


def complete_login(request: HttpRequest, pending: PendingLogin, user: Any, method: str) -> None:
    """``login()`` again, marked as complete: the session key is cycled and CSRF rotated."""
    if PENDING in request.session:
        del request.session[PENDING]
    token = _COMPLETING.set(method)
    try:
        login(request, user, backend=pending.backend or None)
    finally:
        _COMPLETING.reset(token)


def on_user_logged_in(request: HttpRequest | None, user: Any) -> None:
    """The ``user_logged_in`` receiver: let the login through or make it pending."""
    if request is None or getattr(request, "session", None) is None:
        return
    method = _COMPLETING.get() or ("trusted" if _TRUSTED.get() else "")
    if not method:
        try:
            requirement = get_mode().login_requirement(user)
        except Exception:  # fail closed: the pending page reports the problem
            logger.exception("django_toopher: could not decide whether a login needs approval")
            requirement = Requirement.APPROVE
        if requirement is not None:
            begin_login(request, user)
            return
        method = "not_required"
    _verified(request, user, method)


def _verified(request: HttpRequest, user: Any, method: str) -> None:
    session = request.session
    session[AUTH_AT] = time.time()
    if PENDING in session:
        del session[PENDING]
    cookies.clear_hint(request)
    if _LAST_LOGIN["ours"]:
        update_last_login(type(user), user)
    events.verified(request, user, method)


def begin_login(request: HttpRequest, user: Any) -> None:
    """Turn the just-logged-in session into a pending login (auth keys removed)."""
    session = request.session
    replaced = state.load(request)
    if replaced is not None:  # a new login replaces the one that waited
        cancel_push(replaced.request_id)
    backend_path = session.get(BACKEND_SESSION_KEY) or getattr(user, "backend", "")
    pending = state.new(
        Kind.LOGIN,
        user,
        next_url=redirects.requested_next(request) or redirects.default_next(),
        action=app_settings.LOGIN_ACTION_NAME,
        backend=backend_path,
    )
    for key in (SESSION_KEY, BACKEND_SESSION_KEY, HASH_SESSION_KEY, AUTH_AT, ACTIONS):
        session.pop(key, None)
    state.save(request, pending)
    request.user = AnonymousUser()
    cookies.set_hint(request)
