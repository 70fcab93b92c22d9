"""Terminals: the user's named browsers. Naming one at login, renaming and forgetting
one on the terminals page or in the admin, here and at Toopher.

A terminal that Toopher knows (``toopher_terminal_id`` is set: zero-storage mode) is
changed at Toopher first, through T3 ``user_terminals/{id}``: renaming sends the new
``name``; forgetting replaces its ``requester_specified_id`` with a random value, so
the browser's cookie no longer matches it and its next login asks for a name again.
When Toopher fails, the client's error propagates and nothing local has changed.
Names are cleaned by :class:`django_toopher.forms.TerminalNameForm` before they get here.
"""

from __future__ import annotations

import logging
import secrets
from typing import Any

from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone

from ...models import ForgottenTerminal, Terminal
from .. import cookies, events, failures
from ..client import get_client
from ..modes import get_mode

logger = logging.getLogger("django_toopher")


def is_forgotten(user: Any, terminal_id: str) -> bool:
    """Whether ``user`` forgot this browser's terminal id (it is never used again)."""
    return ForgottenTerminal.objects.filter(
        user=user, digest=cookies.terminal_digest(terminal_id)
    ).exists()


def usable_terminal_id(user: Any, terminal_id: str | None) -> str:
    """``terminal_id``, or a fresh one when there is none or ``user`` forgot it."""
    if terminal_id and not is_forgotten(user, terminal_id):
        return terminal_id
    return cookies.new_terminal_id()


def find_terminal(user: Any, terminal_id: str | None) -> Terminal | None:
    if not terminal_id:
        return None
    return Terminal.objects.filter(user=user, requester_terminal_id=terminal_id).first()


def touch_terminal(user: Any, terminal_id: str | None) -> None:
    """Note that ``terminal_id`` was just used for a push (one UPDATE, no read)."""
    if terminal_id:
        Terminal.objects.filter(user=user, requester_terminal_id=terminal_id).update(
            last_used_at=timezone.now()
        )


def name_terminal(
    user: Any, terminal_id: str, name: str, *, request: HttpRequest | None = None
) -> Terminal:
    """Give this browser (its cookie id) a name, at Toopher (zero-storage) and here."""
    toopher_id = get_mode().create_terminal(user, terminal_id, name)
    with transaction.atomic():  # local writes only; Toopher was asked above
        terminal, created = Terminal.objects.get_or_create(
            user=user,
            requester_terminal_id=terminal_id,
            defaults={"name": name, "toopher_terminal_id": toopher_id},
        )
        if not created:
            terminal.name = name
            if toopher_id:
                terminal.toopher_terminal_id = toopher_id
            terminal.save(update_fields=["name", "toopher_terminal_id"])
    kind = events.Kind.TERMINAL_NAMED if created else events.Kind.TERMINAL_RENAMED
    events.emit(kind, user=user, request=request, terminal_name=name)
    return terminal


def rename_terminal(terminal: Terminal, name: str, *, request: HttpRequest | None = None) -> bool:
    """Give ``terminal`` the (already cleaned) ``name``. Returns False if unchanged."""
    old = terminal.name
    if name == old:
        return False
    if terminal.toopher_terminal_id:
        get_client().update_user_terminal(terminal.toopher_terminal_id, name=name)
    Terminal.objects.filter(pk=terminal.pk, user_id=terminal.user_id).update(name=name)
    terminal.name = name
    events.emit(
        events.Kind.TERMINAL_RENAMED,
        user=terminal.user,
        request=request,
        terminal_name=name,
        detail=f"renamed from {old!r}",
    )
    return True


def detach_terminal(terminal: Terminal) -> None:
    """Make Toopher forget ``terminal`` (zero-storage); raises the client's errors."""
    if terminal.toopher_terminal_id:
        get_client().update_user_terminal(
            terminal.toopher_terminal_id, name_extra=f"forgotten-{secrets.token_hex(16)}"
        )


def delete_terminal(
    terminal: Terminal, *, request: HttpRequest | None = None, actor: Any = None,
    detail: str = "",
) -> None:
    """Forget ``terminal`` here and record it (as an admin action when ``actor`` is set).

    Its id is remembered as forgotten, so the browser that carries it gets a new id at
    its next login, and no automation rule kept at Toopher for the old id applies."""
    with transaction.atomic():  # local rows only
        Terminal.objects.filter(pk=terminal.pk, user_id=terminal.user_id).delete()
        ForgottenTerminal.objects.get_or_create(
            user_id=terminal.user_id, digest=cookies.terminal_digest(terminal.requester_terminal_id)
        )
    events.emit(
        events.Kind.ADMIN_FORGOT_TERMINALS if actor is not None
        else events.Kind.TERMINAL_FORGOTTEN,
        user=terminal.user,
        request=request,
        actor=actor,
        terminal_name=terminal.name,
        detail=detail or ("by an administrator" if actor is not None else ""),
    )


def forget_all_terminals(user: Any, *, request: HttpRequest | None = None,
                         actor: Any = None, strict: bool = True) -> int:
    """Forget every terminal of ``user``: at Toopher where it knows them, then here.

    ``strict``: a Toopher failure raises before anything local changes. Otherwise (after
    an unpairing, which already voids the pairing's automation at Toopher) a failure to
    detach is logged and the terminals are forgotten here all the same."""
    rows = list(Terminal.objects.filter(user=user).select_related("user"))
    for row in rows:
        try:
            detach_terminal(row)
        except failures.CLIENT_ERRORS as exc:
            if strict:
                raise
            logger.warning("Could not detach a terminal of user pk=%s at Toopher: %s",
                           user.pk, failures.describe(exc))
    for row in rows:
        delete_terminal(row, request=request, actor=actor)
    return len(rows)


def forget_terminal(
    terminal: Terminal, *, request: HttpRequest | None = None, actor: Any = None
) -> None:
    """Forget ``terminal`` at Toopher, then here. Raises the client's errors first."""
    detach_terminal(terminal)
    delete_terminal(terminal, request=request, actor=actor)
