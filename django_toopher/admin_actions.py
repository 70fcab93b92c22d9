"""What an administrator (or an operator's management command) can do to a user.

Each operation acts on ONE user, inside one database transaction, and reports an
:class:`Outcome` instead of raising: a failing Toopher call rolls back that user's
local changes, is audited as an error, and becomes a message for the admin. The
admin actions (:mod:`django_toopher.admin`) and the ``toopher_disable`` /
``toopher_enable`` commands are thin loops over these functions.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from importlib import import_module
from typing import Any

from django.conf import settings
from django.contrib.auth import SESSION_KEY
from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _

from . import session_keys
from .models import AuditEvent, Terminal

logger = logging.getLogger("django_toopher.admin")

#: The names of the admin actions added to the User changelist (see admin.py).
USER_ACTION_NAMES = (
    "toopher_disable",
    "toopher_enable",
    "toopher_reset_pairing",
    "toopher_forget_terminals",
)


@dataclass(frozen=True)
class Outcome:
    """The result of one operation on one user: ``ok`` and a message for the admin."""

    ok: bool
    message: str
    changed: bool = True


def _api_errors() -> tuple[type[BaseException], ...]:
    """The exceptions that mean "Toopher failed" (imported lazily: the client is optional
    at import time of the admin module)."""
    from requests import RequestException

    from toopher.errors import ToopherApiError

    return (ToopherApiError, RequestException)


def _describe_error(exc: BaseException) -> str:
    """A short, secret-free description of an API failure for messages and the audit."""
    status = getattr(exc, "status_code", None)
    code = getattr(exc, "error_code", None)
    bits = [type(exc).__name__]
    if status:
        bits.append(f"HTTP {status}")
    if code:
        bits.append(f"error {code}")
    return ", ".join(bits)


def _guarded(
    user: Any,
    label: str,
    operation: Any,
    *,
    actor: Any,
    request: HttpRequest | None,
) -> Outcome:
    """Run ``operation()`` for one user in a transaction; turn API failures into an
    audited, rolled-back :class:`Outcome`."""
    try:
        with transaction.atomic():
            return operation()
    except _api_errors() as exc:
        detail = _describe_error(exc)
        logger.warning("Admin action %r failed for user pk=%s: %s", label, user.pk, detail)
        _record(
            AuditEvent.Kind.ERROR,
            user=user,
            request=request,
            actor=actor,
            action=label,
            detail=f"Admin action failed, nothing changed: {detail}"[:255],
        )
        return Outcome(
            False,
            _("%(user)s: Toopher could not be reached or refused (%(detail)s); nothing was "
              "changed for this user.") % {"user": user, "detail": detail},
            changed=False,
        )


def _record(kind: str, **kwargs: Any) -> None:
    from .audit import record

    record(kind, **kwargs)


def _profile(user: Any) -> Any:
    from .models import ToopherProfile

    return ToopherProfile.objects.filter(user=user).first()


def end_user_sessions(user: Any, *, keep_session_key: str | None = None) -> int | None:
    """Delete every stored session of ``user`` (logged in or waiting for approval).

    Returns the number of sessions ended, or None when the session engine cannot list
    sessions (cache-only or signed-cookie sessions). The session ``keep_session_key``
    (the administrator's own, when acting on themselves) is kept. ASVS 5.0 7.4.2.
    """
    engine = import_module(settings.SESSION_ENGINE)
    store_class = engine.SessionStore
    if not hasattr(store_class, "get_model_class"):
        return None
    model = store_class.get_model_class()
    wanted = str(user.pk)
    decoder = store_class()
    ended = 0
    rows = model.objects.filter(expire_date__gt=timezone.now()).only("session_key", "session_data")
    for row in rows.iterator():
        if row.session_key == keep_session_key:
            continue
        data = decoder.decode(row.session_data)
        if str(data.get(SESSION_KEY)) == wanted or _pending_user(data) == wanted:
            store_class(session_key=row.session_key).delete()
            ended += 1
    return ended


def _pending_user(data: dict[str, Any]) -> str | None:
    """The user pk of a pending login kept in session ``data``, if any."""
    pending = data.get(session_keys.PENDING)
    if not isinstance(pending, dict):
        return None
    for key in ("user", "user_pk", "user_id"):
        if pending.get(key) is not None:
            return str(pending[key])
    return None


def disable(user: Any, *, actor: Any = None, request: HttpRequest | None = None) -> Outcome:
    """Turn Toopher off for ``user`` (here and at Toopher) and end the user's sessions."""
    from .backends import get_backend

    def operation() -> Outcome:
        profile = _profile(user)
        if profile is not None and not profile.enabled:
            return Outcome(True, _("%(user)s: Toopher was already disabled.") % {"user": user},
                           changed=False)
        get_backend().set_enabled(user, False, request=request, actor=actor)
        return Outcome(True, _("%(user)s: Toopher disabled.") % {"user": user})

    outcome = _guarded(user, "Disable Toopher", operation, actor=actor, request=request)
    if outcome.ok:
        keep = request.session.session_key if request is not None and hasattr(
            request, "session") else None
        ended = end_user_sessions(user, keep_session_key=keep)
        if ended is None:
            extra = _("Their sessions could not be ended: the session engine cannot list "
                      "sessions.")
        else:
            extra = _("%(count)d session(s) ended.") % {"count": ended}
        outcome = Outcome(outcome.ok, f"{outcome.message} {extra}", outcome.changed)
    return outcome


def enable(user: Any, *, actor: Any = None, request: HttpRequest | None = None) -> Outcome:
    """Turn Toopher back on for ``user`` (here and at Toopher)."""
    from .backends import get_backend

    def operation() -> Outcome:
        profile = _profile(user)
        if profile is not None and profile.enabled:
            return Outcome(True, _("%(user)s: Toopher was already enabled.") % {"user": user},
                           changed=False)
        get_backend().set_enabled(user, True, request=request, actor=actor)
        return Outcome(True, _("%(user)s: Toopher enabled.") % {"user": user})

    return _guarded(user, "Enable Toopher", operation, actor=actor, request=request)


def reset_pairing(
    user: Any, *, actor: Any = None, request: HttpRequest | None = None
) -> Outcome:
    """Remove ``user``'s pairing (locally and at Toopher): the next login pairs anew."""
    from .backends import get_backend

    def operation() -> Outcome:
        backend = get_backend()
        if not backend.is_paired(user):
            return Outcome(True, _("%(user)s: was not paired.") % {"user": user},
                           changed=False)
        backend.unpair(user, request=request, actor=actor)
        return Outcome(True, _("%(user)s: pairing reset.") % {"user": user})

    return _guarded(user, "Reset pairing", operation, actor=actor, request=request)


def forget_terminals(
    user: Any, *, actor: Any = None, request: HttpRequest | None = None
) -> Outcome:
    """Forget every named terminal (browser) of ``user``."""

    from .terminal_changes import forget_terminal

    def operation() -> Outcome:
        terminals = list(Terminal.objects.filter(user=user).select_related("user"))
        if not terminals:
            return Outcome(True, _("%(user)s: had no terminals.") % {"user": user},
                           changed=False)
        for terminal in terminals:
            forget_terminal(terminal, request=request, actor=actor)
        count = len(terminals)
        return Outcome(
            True, _("%(user)s: %(count)d terminal(s) forgotten.") % {"user": user, "count": count}
        )

    return _guarded(user, "Forget terminals", operation, actor=actor, request=request)


#: admin action key -> the operation on one user
OPERATIONS: dict[str, Any] = {
    "disable": disable,
    "enable": enable,
    "reset_pairing": reset_pairing,
    "forget_terminals": forget_terminals,
}
