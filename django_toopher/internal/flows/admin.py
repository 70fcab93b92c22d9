"""What an administrator (or an operator's management command) can do to one user.

Each operation reports an :class:`AdminOutcome` instead of raising. The call to
Toopher comes first and outside any transaction (the sandbox mounted in the site's own
process writes to the same database); only when it succeeded are the local rows
changed. A failing call changes nothing, is audited as an error and becomes a
message for the admin.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.http import HttpRequest
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

import toopher

from ...adapter import get_adapter
from ...models import Terminal, ToopherProfile
from .. import events, failures
from ..modes import get_mode, get_profile, user_name
from . import pairing, terminals

logger = logging.getLogger("django_toopher.admin")


@dataclass(frozen=True)
class AdminOutcome:
    """The result of one operation on one user: ``ok`` and a message for the admin."""

    ok: bool
    message: str
    changed: bool = True


def _guarded(
    user: Any, label: str, operation: Callable[[], AdminOutcome], *, actor: Any,
    request: HttpRequest | None,
) -> AdminOutcome:
    """Run ``operation()``; turn a Toopher failure into an audited :class:`AdminOutcome`."""
    try:
        return operation()
    except failures.CLIENT_ERRORS as exc:
        detail = failures.describe(exc)
        logger.warning("Admin action %r failed for user pk=%s: %s", label, user.pk, detail)
        events.emit(
            events.Kind.ERROR, user=user, request=request, actor=actor, action=label,
            detail=f"Admin action failed, nothing changed: {detail}",
        )
        return AdminOutcome(
            False,
            _("User %(user)s: Toopher could not be reached or refused (%(detail)s); nothing was "
              "changed for this user.") % {"user": user, "detail": detail},
            changed=False,
        )


def set_enabled(
    user: Any, enabled: bool, *, request: HttpRequest | None = None, actor: Any = None
) -> None:
    """Turn Toopher on or off for ``user``: at Toopher first, then the profile flag."""
    try:
        get_mode().client.set_toopher_enabled_for_user(user_name(user), bool(enabled))
    except toopher.UserUnknownError:
        pass  # not known at Toopher yet: the local flag is what counts.
    profile, _created = ToopherProfile.objects.get_or_create(user=user)
    profile.enabled = bool(enabled)
    profile.save(update_fields=["enabled", "updated_at"])
    kind = events.Kind.ADMIN_ENABLED if enabled else events.Kind.ADMIN_DISABLED
    detail = "" if actor is not None else "no acting account recorded"
    events.emit(kind, user=user, request=request, actor=actor, detail=detail)


def _sessions_message(user: Any, request: HttpRequest | None) -> str:
    keep = getattr(getattr(request, "session", None), "session_key", None)
    ended = get_adapter().end_user_sessions(user, keep_session_key=keep)
    if ended is None:
        return _("Their sessions could not be ended: the session engine cannot list "
                 "sessions.")
    return ngettext("%(count)d session ended.", "%(count)d sessions ended.", ended) % {
        "count": ended
    }


def _switch(
    user: Any, enabled: bool, *, actor: Any, request: HttpRequest | None
) -> AdminOutcome:
    """Turn Toopher on or off for one user, unless it already is."""
    profile = get_profile(user)
    already = (profile is None or profile.enabled) if enabled else (
        profile is not None and not profile.enabled)
    if already:
        text = (_("User %(user)s: Toopher was already enabled.") if enabled
                else _("User %(user)s: Toopher was already disabled."))
        return AdminOutcome(True, text % {"user": user}, changed=False)
    set_enabled(user, enabled, request=request, actor=actor)
    text = (_("User %(user)s: Toopher enabled.") if enabled
            else _("User %(user)s: Toopher disabled."))
    return AdminOutcome(True, text % {"user": user})


def disable(user: Any, *, actor: Any = None, request: HttpRequest | None = None) -> AdminOutcome:
    """Turn Toopher off for ``user`` (here and at Toopher) and end the user's sessions."""
    outcome = _guarded(user, "Disable Toopher",
                       lambda: _switch(user, False, actor=actor, request=request),
                       actor=actor, request=request)
    if not outcome.ok:
        return outcome
    extra = _sessions_message(user, request)
    return AdminOutcome(True, f"{outcome.message} {extra}", outcome.changed)


def enable(user: Any, *, actor: Any = None, request: HttpRequest | None = None) -> AdminOutcome:
    """Turn Toopher back on for ``user`` (here and at Toopher)."""
    return _guarded(user, "Enable Toopher",
                    lambda: _switch(user, True, actor=actor, request=request),
                    actor=actor, request=request)


def reset_pairing(
    user: Any, *, actor: Any = None, request: HttpRequest | None = None
) -> AdminOutcome:
    """Remove ``user``'s pairing (at Toopher and here): the next login pairs anew."""

    def operation() -> AdminOutcome:
        if not get_mode().is_paired(user):
            return AdminOutcome(True, _("User %(user)s: was not paired.") % {"user": user},
                                changed=False)
        pairing.unpair(user, request=request, actor=actor)
        return AdminOutcome(True, _("User %(user)s: pairing reset.") % {"user": user})

    return _guarded(user, "Reset pairing", operation, actor=actor, request=request)


def forget_terminals(
    user: Any, *, actor: Any = None, request: HttpRequest | None = None
) -> AdminOutcome:
    """Forget every named terminal (browser) of ``user``: all at Toopher, then here."""

    def operation() -> AdminOutcome:
        if not Terminal.objects.filter(user=user).exists():
            return AdminOutcome(True, _("User %(user)s: had no terminals.") % {"user": user},
                                changed=False)
        count = terminals.forget_all_terminals(user, request=request, actor=actor)
        text = ngettext("User %(user)s: %(count)d terminal forgotten.",
                        "User %(user)s: %(count)d terminals forgotten.", count)
        return AdminOutcome(True, text % {"user": user, "count": count})

    return _guarded(user, "Forget terminals", operation, actor=actor, request=request)


#: admin action key -> the operation on one user
OPERATIONS: dict[str, Callable[..., AdminOutcome]] = {
    "disable": disable,
    "enable": enable,
    "reset_pairing": reset_pairing,
    "forget_terminals": forget_terminals,
}
