"""Step-up: a fresh approval of one named action, even in a verified session.

``@toopher_required(action=...)`` calls :func:`check`. An approval is kept in the
session for ``max_age`` seconds for that action name only; ``max_age=0`` makes every
approval single-use. The pending approval itself runs through the login state machine
(:mod:`.login`) with ``Kind.ACTION``: automation off, the user stays logged in.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from enum import Enum
from typing import Any

from django.http import HttpRequest

from ...adapter import get_adapter
from ...app_settings import app_settings
from ...session_keys import ACTIONS
from .. import redirects, state
from ..cancel import cancel_push
from ..modes import get_mode, get_profile
from ..state import Kind
from .base import same_user

#: How long a single-use approval (``max_age=0``) may wait to be used.
SINGLE_USE_WINDOW = 60


class Verdict(str, Enum):
    """What :func:`check` decided (a ``str`` enum: ``Verdict.RUN == "run"``)."""

    RUN = "run"  # the view may run now
    LOGIN = "login"  # nobody is logged in
    WAIT = "wait"  # the approval is pending: on the pending page, or ``pending/start``
    UNAVAILABLE = "unavailable"  # the user cannot approve anything (not paired, disabled)


@dataclass(frozen=True)
class Decision:
    """What :func:`check` decided, as a :class:`Verdict`."""

    verdict: Verdict


def can_approve(user: Any) -> bool:
    """Whether this user can be asked at all (zero-storage: Toopher decides later)."""
    profile = get_profile(user)
    if not get_adapter().is_toopher_enabled(user, profile):
        return False
    mode = get_mode()
    return mode.is_paired(user) if mode.knows_pairing_locally else True


def is_fresh(request: HttpRequest, action: str, max_age_seconds: int) -> bool:
    """True if ``action`` was approved in this session within ``max_age_seconds``."""
    approved = request.session.get(ACTIONS)
    when = approved.get(action) if isinstance(approved, dict) else None
    if isinstance(when, bool) or not isinstance(when, int | float):
        return False
    return 0 <= time.time() - when <= max_age_seconds


def _age(max_age: int | None) -> int:
    return app_settings.ACTION_MAX_AGE if max_age is None else int(max_age)


def is_approved(request: HttpRequest, action: str, max_age: int | None = None) -> bool:
    """Whether ``action`` has an approval young enough for ``max_age`` (default
    ``ACTION_MAX_AGE``; 0: single use, valid for :data:`SINGLE_USE_WINDOW`)."""
    return is_fresh(request, action, max(_age(max_age), 0) or SINGLE_USE_WINDOW)


def consume(request: HttpRequest, action: str) -> None:
    approved = request.session.get(ACTIONS)
    if isinstance(approved, dict) and action in approved:
        approved = dict(approved)
        del approved[action]
        request.session[ACTIONS] = approved


def begin(request: HttpRequest, action: str, next_url: str, *, if_configured: bool) -> None:
    """Start a pending approval of ``action`` for the logged-in user."""
    replaced = state.load(request)
    if replaced is not None:
        cancel_push(replaced.request_id)
    pending = state.new(
        Kind.ACTION,
        request.user,
        next_url=redirects.safe_next_or(request, next_url, redirects.default_next()),
        action=action,
        if_configured=bool(if_configured),
    )
    state.save(request, pending)


def _waiting_for(request: HttpRequest, action: str) -> bool:
    waiting = state.load(request)
    return bool(
        waiting is not None
        and not waiting.is_login
        and waiting.action == action
        and same_user(request, waiting)
        and not waiting.expired()
    )


def check(
    request: HttpRequest, action: str, max_age: int | None = None, *, if_configured: bool
) -> Decision:
    """May the view of ``action`` run now? Starts the approval when it may not."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return Decision(Verdict.LOGIN)
    age = _age(max_age)
    if is_approved(request, action, max_age):
        if age <= 0:
            consume(request, action)
        return Decision(Verdict.RUN)
    if _waiting_for(request, action):
        return Decision(Verdict.WAIT)  # one push per pending approval
    if not can_approve(user):
        return Decision(Verdict.RUN if if_configured else Verdict.UNAVAILABLE)
    begin(request, action, request.get_full_path(), if_configured=if_configured)
    return Decision(Verdict.WAIT)
