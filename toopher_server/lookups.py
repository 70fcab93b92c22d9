"""The rows every API call reads, looked up in one place.

* :func:`requester`: the requester of a consumer key (every signed call);
* :func:`authentication_request`: one request with its user, terminal, action and
  pairing (A2, the status poll, is the call clients make most);
* :func:`pairing`: one pairing with its user and requester (P4, the pairing's status);
* :func:`action`, :func:`unkeyed_terminal`, :func:`automation_rule`: what an
  authentication request (A1) is made of.

Each is one prepared query (:mod:`.rowfetch`: building the ORM's query cost more than
running it). A requester is also kept in this process for a few seconds
(:class:`RequesterCache`, setting ``TOOPHER_SERVER_REQUESTER_CACHE_SECONDS``, default
:data:`DEFAULT_REQUESTER_CACHE_SECONDS`; 0 turns it off): every signed call reads it,
and it rarely changes. A rotated secret or a deleted requester therefore takes effect
on every instance within that time (at once in the process that saved or deleted it).

A process that is its database's only user may :func:`install` other
:class:`Lookups` (the sandbox's standalone server does: ``toopher_sandbox.speedups``);
no rule of the service depends on which is in use.
"""

from __future__ import annotations

import copy
import threading
import time
from typing import Any

from django.db import connections
from django.db.models.signals import post_delete, post_save

from . import db
from .conf import setting_int
from .models import (
    Action,
    AuthenticationRequest,
    AutomationRule,
    Pairing,
    Requester,
    Terminal,
)
from .rowfetch import RowFetch, attach_related

__all__ = [
    "DEFAULT_REQUESTER_CACHE_SECONDS",
    "PAIRING_RELATED",
    "REQUEST_RELATED",
    "Lookups",
    "action",
    "RequesterCache",
    "attach_related",
    "authentication_request",
    "automation_rule",
    "install",
    "pairing",
    "requester",
    "unkeyed_terminal",
]

#: The related rows read with an authentication request (fields of AuthenticationRequest).
REQUEST_RELATED = ("user", "terminal", "action", "pairing")
#: The related rows read with a pairing (fields of Pairing).
PAIRING_RELATED = ("user", "requester")
#: Seconds a requester read by key is kept in the process (the setting's default).
DEFAULT_REQUESTER_CACHE_SECONDS = 5

#: The clock of the requesters kept (tests move it).
_clock = time.monotonic

_REQUESTS = RowFetch(AuthenticationRequest, REQUEST_RELATED)
_PAIRINGS = RowFetch(Pairing, PAIRING_RELATED)
_REQUESTERS = RowFetch(Requester, by="key")
_ACTIONS = RowFetch(Action, by=("requester", "name"))
_RULES = RowFetch(AutomationRule, by=("pairing", "terminal", "action"))
_TERMINALS = RowFetch(Terminal, by=("user", "name", "requester_specified_id"),
                      order_by="created")


def requester_cache_seconds() -> int:
    """How long a requester is kept (``TOOPHER_SERVER_REQUESTER_CACHE_SECONDS``)."""
    return max(0, setting_int("REQUESTER_CACHE_SECONDS", DEFAULT_REQUESTER_CACHE_SECONDS))


class RequesterCache:
    """Requesters by key, each kept for :func:`requester_cache_seconds` after it was read.

    Each caller gets its own copy of the row (a thread may change its instance without
    touching another's); the copies share the secrets decrypted while the row is kept
    (``Requester.opened_secrets``: the key that opens them is in the process anyway).
    An unknown key is not kept (nor can unknown keys grow it: at most
    :attr:`MAX_ENTRIES`, all dropped when full). A row read inside a transaction is not
    kept: it may hold what a rollback undoes.
    """

    MAX_ENTRIES = 1000

    def __init__(self) -> None:
        self._rows: dict[tuple[str, str], tuple[float, Requester]] = {}
        self._lock = threading.Lock()

    def get(self, key: str, load: Any) -> Requester | None:
        """The requester of ``key``: kept, or ``load(key)`` (then kept)."""
        seconds = requester_cache_seconds()
        using = db.alias()
        if seconds <= 0 or connections[using].in_atomic_block:
            return load(key)
        now = _clock()
        kept = self._rows.get((using, key))
        if kept is not None and kept[0] > now:
            return copy.copy(kept[1])
        found = load(key)
        if found is not None:
            kept = copy.copy(found)
            kept.opened_secrets = {}  # decrypted once while kept, shared by its copies
            with self._lock:
                if len(self._rows) >= self.MAX_ENTRIES:
                    self._rows.clear()
                self._rows[(using, key)] = (now + seconds, kept)
            return copy.copy(kept)
        return found

    def forget(self, key: str | None = None) -> None:
        """Drop the requester of ``key`` (None: all of them)."""
        with self._lock:
            if key is None:
                self._rows.clear()
            else:
                for entry in [entry for entry in self._rows if entry[1] == key]:
                    del self._rows[entry]


requesters = RequesterCache()


def _forget_changed(sender: type[Requester], instance: Requester, **kwargs: Any) -> None:
    """A requester saved or deleted in this process is read again at its next call."""
    requesters.forget()  # its key may have changed too: rare enough to drop them all


post_save.connect(_forget_changed, sender=Requester, dispatch_uid="toopher_server.lookups.save")
post_delete.connect(_forget_changed, sender=Requester,
                    dispatch_uid="toopher_server.lookups.delete")


class Lookups:
    """The service's way, for every deployment: prepared queries, requesters kept briefly."""

    def requester(self, key: str) -> Requester | None:
        """The requester with this consumer key, or None."""
        return requesters.get(key, self.requester_from_database)

    def requester_from_database(self, key: str) -> Requester | None:
        """The requester with this consumer key as the database has it now, or None."""
        found = _REQUESTERS.get(key)
        assert found is None or isinstance(found, Requester)
        return found

    def authentication_request(self, request_id: str) -> AuthenticationRequest | None:
        """The request with this id (a valid UUID string) and its related rows, or None."""
        found = _REQUESTS.get(request_id)
        assert found is None or isinstance(found, AuthenticationRequest)
        return found

    def pairing(self, pairing_id: str) -> Pairing | None:
        """The pairing with this id (a valid UUID string), its user and requester (also
        as its user's requester, when it is: the pairing's JSON shows it), or None."""
        found = _PAIRINGS.get(pairing_id)
        assert found is None or isinstance(found, Pairing)
        if found is not None and found.user.requester_id == found.requester_id:
            attach_related(found.user, "requester", found.requester)
        return found

    def action(self, requester_id: Any, name: str) -> Action | None:
        """The requester's action of this name, or None."""
        found = _ACTIONS.get(requester_id, name)
        assert found is None or isinstance(found, Action)
        return found

    def unkeyed_terminal(self, user_id: Any, name: str) -> Terminal | None:
        """The user's first terminal of this name without a requester-specified id
        (the oldest, as ``Terminal.objects.filter(...).first()``), or None."""
        found = _TERMINALS.get(user_id, name, "")
        assert found is None or isinstance(found, Terminal)
        return found

    def automation_rule(self, pairing_id: Any, terminal_id: Any, action_id: Any
                        ) -> AutomationRule | None:
        """The rule of this pairing, terminal and action (there is at most one), live
        or expired, or None."""
        found = _RULES.get(pairing_id, terminal_id, action_id)
        assert found is None or isinstance(found, AutomationRule)
        return found


_current = Lookups()


def install(lookups: Lookups) -> None:
    """Use ``lookups`` from now on (``Lookups()``: the service's own way again)."""
    global _current
    _current = lookups


def requester(key: str) -> Requester | None:
    """The requester with this consumer key, or None."""
    return _current.requester(key)


def authentication_request(request_id: str) -> AuthenticationRequest | None:
    """The request with this id and its user, terminal, action and pairing, or None."""
    return _current.authentication_request(request_id)


def pairing(pairing_id: str) -> Pairing | None:
    """The pairing with this id and its user and requester, or None."""
    return _current.pairing(pairing_id)


def action(requester_id: Any, name: str) -> Action | None:
    """The requester's action of this name, or None."""
    return _current.action(requester_id, name)


def unkeyed_terminal(user_id: Any, name: str) -> Terminal | None:
    """The user's oldest terminal of this name without a requester-specified id, or None."""
    return _current.unkeyed_terminal(user_id, name)


def automation_rule(pairing_id: Any, terminal_id: Any, action_id: Any) -> AutomationRule | None:
    """The rule of this pairing, terminal and action (live or expired), or None."""
    return _current.automation_rule(pairing_id, terminal_id, action_id)
