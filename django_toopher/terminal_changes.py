"""Renaming and forgetting a terminal, here and at Toopher.

A terminal that Toopher knows (``toopher_terminal_id`` is set: zero-storage mode) is
changed at Toopher first, through T3 ``user_terminals/{id}``:

* renaming sends the new ``name``, so the phone shows it in the next request;
* forgetting replaces its ``requester_specified_id`` with a random value, so the
  browser's cookie no longer matches it: the next login from that browser gets 706
  and asks for a terminal name again.

If Toopher fails, the client's error propagates and nothing local has changed yet.
"""

from __future__ import annotations

import secrets
from typing import Any

from django.db import transaction
from django.http import HttpRequest

from .audit import record
from .models import AuditEvent, Terminal


def _client() -> Any:
    from .client import get_client

    return get_client()


def rename_terminal(terminal: Terminal, name: str, *, request: HttpRequest | None = None) -> bool:
    """Give ``terminal`` the (already cleaned) ``name``. Returns False if unchanged."""
    old = terminal.name
    if name == old:
        return False
    if terminal.toopher_terminal_id:
        _client().update_user_terminal(terminal.toopher_terminal_id, name=name)
    Terminal.objects.filter(pk=terminal.pk, user_id=terminal.user_id).update(name=name)
    terminal.name = name
    record(
        AuditEvent.Kind.TERMINAL_RENAMED,
        user=terminal.user,
        request=request,
        terminal_name=name,
        detail=f"renamed from {old!r}",
    )
    return True


def forget_terminal(
    terminal: Terminal, *, request: HttpRequest | None = None, actor: Any = None
) -> None:
    """Forget ``terminal`` (audited; as an admin action when ``actor`` is given)."""
    if terminal.toopher_terminal_id:
        _client().update_user_terminal(
            terminal.toopher_terminal_id, name_extra=f"forgotten-{secrets.token_hex(16)}"
        )
    with transaction.atomic():
        Terminal.objects.filter(pk=terminal.pk, user_id=terminal.user_id).delete()
        record(
            AuditEvent.Kind.ADMIN_FORGOT_TERMINALS if actor is not None
            else AuditEvent.Kind.TERMINAL_FORGOTTEN,
            user=terminal.user,
            request=request,
            actor=actor,
            terminal_name=terminal.name,
            detail="by an administrator" if actor is not None else "",
        )
