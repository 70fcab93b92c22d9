"""One call per security event: the audit row, the log line and the signal.

Flows never write an :class:`~django_toopher.models.AuditEvent` or send a signal
themselves; they call :func:`emit` (or :func:`verified`), so the audit trail and the
signals can never disagree.
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from .. import audit, signals
from ..models import AuditEvent

Kind = AuditEvent.Kind


def _has_pk(user: Any) -> bool:
    return user is not None and getattr(user, "pk", None) is not None


def emit(
    kind: str, *, user: Any = None, request: HttpRequest | None = None, actor: Any = None,
    reason: str = "", automated: bool = False, remaining: int = 0, **fields: str,
) -> None:
    """Record ``kind`` (an :class:`AuditEvent.Kind`) and send the signal it implies.

    ``fields`` are the audit row's ``action``, ``terminal_name`` and ``detail``;
    ``reason`` (denials) and ``automated`` (grants) go to the signal and, when no
    ``detail`` is given, into the row's detail; ``remaining`` (the unused recovery
    codes) goes to the signal of a used recovery code.
    """
    kind = Kind(kind)
    if not fields.get("detail"):
        if kind is Kind.GRANTED and automated:
            fields["detail"] = "automated"
        elif kind in (Kind.DENIED, Kind.EXPIRED):
            fields["detail"] = reason[:200]
    audit.record(kind, user=user, request=request, actor=actor, **fields)
    action = fields.get("action", "")
    if _has_pk(user):
        _send(kind, user=user, request=request, action=action, reason=reason,
              automated=automated, actor=actor, remaining=remaining)


#: The signal each kind of event sends, and the extra arguments it carries.
_SIGNALS: dict[str, tuple[Any, tuple[str, ...]]] = {
    Kind.REQUESTED: (signals.toopher_requested, ("action",)),
    Kind.GRANTED: (signals.toopher_granted, ("action", "automated")),
    Kind.DENIED: (signals.toopher_denied, ("action", "reason")),
    Kind.EXPIRED: (signals.toopher_denied, ("action", "reason")),
    Kind.PAIRED: (signals.toopher_paired, ()),
    Kind.UNPAIRED: (signals.toopher_unpaired, ("actor",)),
    Kind.ADMIN_RESET: (signals.toopher_unpaired, ("actor",)),
    Kind.ADMIN_DISABLED: (signals.toopher_disabled, ("actor",)),
    Kind.RECOVERY_CODE_USED: (signals.toopher_recovery_code_used, ("remaining",)),
}


def _send(kind: Kind, *, user: Any, request: HttpRequest | None, **extra: Any) -> None:
    found = _SIGNALS.get(kind)
    if found is None:
        return
    signal, names = found
    if "reason" in names:
        extra["reason"] = extra["reason"] or kind.value
    signal.send(sender=type(user), user=user, request=request,
                **{name: extra[name] for name in names})


def verified(request: HttpRequest, user: Any, method: str) -> None:
    """A login is complete (see :data:`django_toopher.signals.toopher_verified`)."""
    if _has_pk(user):
        signals.toopher_verified.send(
            sender=type(user), user=user, request=request, method=method
        )
