"""The audit trail: one :class:`~django_toopher.models.AuditEvent` per security event.

Nothing secret is ever recorded: no consumer secret, no cookie value, no OTP, no
pairing phrase. Every event is also logged on the ``django_toopher.audit`` logger.
"""

from __future__ import annotations

import ipaddress
import logging
from typing import Any

from django.http import HttpRequest

from .models import AuditEvent

logger = logging.getLogger("django_toopher.audit")

Kind = AuditEvent.Kind


def client_ip(request: HttpRequest | None) -> str | None:
    """``REMOTE_ADDR`` if it is a valid IP address (proxies' headers are not trusted)."""
    if request is None:
        return None
    value = (request.META.get("REMOTE_ADDR") or "").strip()
    try:
        return str(ipaddress.ip_address(value))
    except ValueError:
        return None


def _clip(value: Any, length: int) -> str:
    text = "" if value is None else str(value)
    return text[:length]


def _real_user(user: Any) -> Any:
    if user is None or not getattr(user, "pk", None):
        return None
    return user


def record(
    kind: str,
    *,
    user: Any = None,
    request: HttpRequest | None = None,
    actor: Any = None,
    action: str = "",
    terminal_name: str = "",
    detail: str = "",
) -> AuditEvent:
    """Store and log one audit event. ``kind`` is an :class:`AuditEvent.Kind` value."""
    kind = Kind(kind)
    event = AuditEvent.objects.create(
        kind=kind,
        user=_real_user(user),
        actor=_real_user(actor),
        action=_clip(action, 100),
        terminal_name=_clip(terminal_name, 100),
        ip_address=client_ip(request),
        detail=_clip(detail, 255),
    )
    level = logging.WARNING if kind in _WARN else logging.INFO
    logger.log(
        level,
        "toopher %s user=%s actor=%s action=%r terminal=%r ip=%s %s",
        kind.value,
        getattr(event.user, "pk", None),
        getattr(event.actor, "pk", None),
        event.action,
        event.terminal_name,
        event.ip_address,
        event.detail,
    )
    return event


_WARN = {
    Kind.DENIED,
    Kind.ERROR,
    Kind.FAIL_OPEN,
    Kind.RATE_LIMITED,
    Kind.OTP_FAILED,
    Kind.RECOVERY_CODE_FAILED,
}
