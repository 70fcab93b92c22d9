"""Pairing and unpairing on the security page, for a logged-in user.

The pairing itself is the one pairing flow (:mod:`.pairing`); this module keeps its
:class:`~.pairing.PairingAttempt` under ``session[PAIRING]`` (bound to the user) and
answers the questions the security page asks.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from django.db.models import QuerySet
from django.http import HttpRequest

from ...adapter import get_adapter
from ...models import AuditEvent, Terminal
from ...session_keys import PAIRING
from .. import failures
from ..modes import get_mode
from . import pairing
from .base import message
from .pairing import PairingAttempt, PairingResult, PairingState

logger = logging.getLogger("django_toopher")


#: The action name of the approval needed to remove a pairing.
UNPAIR_ACTION = "Remove pairing"

#: How many of the user's own audit events the security page (and its JSON) shows.
RECENT_ACTIVITY = 10


def recent_activity(user: Any) -> list[AuditEvent]:
    """The user's latest audit events, newest first."""
    rows = AuditEvent.objects.filter(user_id=user.pk or 0).order_by("-created_at", "-id")
    return list(rows[:RECENT_ACTIVITY])


def terminals_of(user: Any) -> QuerySet[Terminal]:
    """The user's named browsers, by name."""
    return Terminal.objects.filter(user_id=user.pk or 0).order_by("name", "pk")


def current_attempt(request: HttpRequest) -> PairingAttempt | None:
    """The user's pairing in progress, or None (also for a malformed value)."""
    return PairingAttempt.deserialize(request.session.get(PAIRING), request.user)


def clear_attempt(request: HttpRequest) -> None:
    if PAIRING in request.session:
        del request.session[PAIRING]


def is_paired(request: HttpRequest) -> bool | None:
    """Is the user paired? None when Toopher cannot tell us (zero-storage mode)."""
    try:
        return bool(get_mode().is_paired(request.user))
    except failures.CLIENT_ERRORS as exc:
        logger.warning("Could not read the pairing state of user pk=%s: %s",
                       request.user.pk, failures.describe(exc))
        return None


@dataclass(frozen=True)
class StartRefusal:
    """Why a pairing did not start: a message and whether it is only information."""

    message: str
    info: bool = False
    unknown_state: bool = False  # Toopher could not say whether the user is paired
    code: str = "conflict"  # the JSON API's error code


def begin(request: HttpRequest, phrase: str | None) -> StartRefusal | None:
    """Start pairing the user's phone; None when it started."""
    if current_attempt(request) is not None:
        return StartRefusal(message("pairing_in_progress"), info=True)
    paired = is_paired(request)
    if paired is None:
        return StartRefusal(message("unreachable_nothing_changed"), unknown_state=True,
                            code="toopher_unavailable")
    if paired:
        return StartRefusal(message("already_paired"), info=True)
    attempt, problem = pairing.start(request.user, phrase)
    if attempt is None:
        return StartRefusal(problem, code=problem.code)
    request.session[PAIRING] = attempt.serialize()
    return None


def check(request: HttpRequest) -> PairingResult:
    """Look at the pairing in progress; a final result ends it."""
    attempt = current_attempt(request)
    if attempt is None:
        return PairingResult(PairingState.NONE)
    found = pairing.poll(request, request.user, attempt)
    if found.state is PairingState.PAIRED:
        clear_attempt(request)
        return PairingResult(PairingState.PAIRED, message("paired_enrollment"))
    if found.final:
        clear_attempt(request)
    return found


def unpair(request: HttpRequest, *, end_other_sessions: bool) -> list[tuple[str, str]]:
    """Remove the user's pairing; the messages to show as ``(level, text)`` pairs."""
    try:
        pairing.unpair(request.user, request=request)
    except failures.CLIENT_ERRORS as exc:
        logger.warning("Unpairing failed for user pk=%s: %s", request.user.pk,
                       failures.describe(exc))
        return [("error", message("unpair_failed"))]
    said = [("success", message("unpaired"))]
    if end_other_sessions:
        ended = get_adapter().end_user_sessions(
            request.user, keep_session_key=request.session.session_key
        )
        if ended is None:
            said.append(("warning", message("sessions_not_ended")))
        else:
            said.append(("info", message("sessions_ended", count=ended)))
    return said
