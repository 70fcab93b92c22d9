"""The pending login (or pending action approval) kept in the session.

A :class:`PendingLogin` is stored as a small versioned dict under
``session[PENDING]``: the user's pk and auth backend, the start time, the validated
``next`` URL, the action, the Toopher request id and the current :class:`Step`. While
a pending *login* exists the session carries no auth keys, so ``request.user`` is
anonymous everywhere; a pending *action* has the same shape while the user stays
logged in. :func:`load` returns None for anything malformed, and
:meth:`PendingLogin.expired` is checked by every flow on load.
"""

from __future__ import annotations

import dataclasses
import secrets
import time
from dataclasses import dataclass
from enum import Enum
from typing import Any

from django.http import HttpRequest

from ..app_settings import app_settings
from ..session_keys import PENDING
from . import cookies

VERSION = 2


class Kind(str, Enum):
    LOGIN = "login"
    ACTION = "action"


class Step(str, Enum):
    """Where a live pending login is."""

    START = "start"  # nothing sent yet; the pending page sends the one push
    NAME_TERMINAL = "name_terminal"  # this browser needs a name first
    PUSHED = "pushed"  # a push is out; the status endpoint polls it
    PAIR = "pair"  # the user must pair a phone first (705/707 or REQUIRE_ENROLLMENT)
    PAIRING = "pairing"  # a pairing is waiting for the phone
    FAILED = "failed"  # Toopher failed and FAIL_MODE is closed: offer a retry


class Status(str, Enum):
    """How a pending login ended (or that there is none)."""

    GRANTED = "granted"
    DENIED = "denied"
    EXPIRED = "expired"
    CANCELLED = "cancelled"
    RATE_LIMITED = "rate_limited"
    REFUSED = "refused"
    NONE = "none"


_PAIRING_STEPS = (Step.PAIR, Step.PAIRING)


@dataclass(frozen=True)
class PendingLogin:
    """One pending login or action approval. Immutable: change it with :meth:`but`."""

    kind: Kind
    user: str  # the user's pk, as ``value_to_string``
    next: str
    action: str
    backend: str = ""  # the Django auth backend of the password step (logins)
    id: str = dataclasses.field(default_factory=lambda: secrets.token_urlsafe(16))
    started: float = dataclasses.field(default_factory=time.time)
    step_at: float = dataclasses.field(default_factory=time.time)
    step: Step = Step.START
    attempt: int = 0  # counts new pushes/pairings: keys the one-push lock
    request_id: str | None = None
    pairing: dict[str, Any] | None = None  # a serialized pairing attempt
    terminal: str | None = None  # the browser's terminal id
    terminal_name: str = ""
    repair: bool = False  # pairing again after 707
    if_configured: bool = False  # actions: let users without Toopher through
    verification_code: str | None = None  # number matching: the code the page shows

    @property
    def is_login(self) -> bool:
        return self.kind is Kind.LOGIN

    def but(self, **changes: Any) -> PendingLogin:
        """A copy with ``changes``; a new ``step`` restarts the step's clock."""
        if "step" in changes and changes["step"] is not self.step:
            changes.setdefault("step_at", time.time())
        return dataclasses.replace(self, **changes)

    def next_attempt(self, step: Step, **changes: Any) -> PendingLogin:
        """A copy at ``step`` that may send a new push or start a new pairing."""
        return self.but(step=step, step_at=time.time(), attempt=self.attempt + 1, **changes)

    def step_ttl(self) -> int:
        """Seconds the current step may last: PAIRING_TTL while pairing, else PENDING_TTL."""
        if self.step in _PAIRING_STEPS:
            return app_settings.PAIRING_TTL
        return app_settings.PENDING_TTL

    def remaining_seconds(self, now: float | None = None) -> int:
        now = time.time() if now is None else now
        return max(0, int(self.step_at + self.step_ttl() - now))

    def expired(self, now: float | None = None) -> bool:
        now = time.time() if now is None else now
        return (
            now - self.step_at > self.step_ttl()
            or now - self.started > app_settings.PENDING_MAX_AGE
        )

    def serialize(self) -> dict[str, Any]:
        data = dataclasses.asdict(self)
        data["kind"] = self.kind.value
        data["step"] = self.step.value
        data["v"] = VERSION
        return data

    @classmethod
    def deserialize(cls, data: Any) -> PendingLogin | None:
        """The pending login of ``data``, or None if it is not a well-formed current one."""
        if not isinstance(data, dict) or data.get("v") != VERSION:
            return None
        fields = {f.name for f in dataclasses.fields(cls)}
        values = {k: v for k, v in data.items() if k in fields}
        try:
            values["kind"] = Kind(values["kind"])
            values["step"] = Step(values["step"])
            loaded = cls(**values)
        except (KeyError, TypeError, ValueError):
            return None
        if not all(isinstance(getattr(loaded, n), str) for n in ("id", "user", "next")):
            return None
        if not all(isinstance(getattr(loaded, n), int | float) for n in ("started", "step_at")):
            return None
        if loaded.verification_code is not None and not isinstance(loaded.verification_code, str):
            return None
        return loaded


def new(kind: Kind, user: Any, *, next_url: str, action: str, **extra: Any) -> PendingLogin:
    """A fresh pending login/action of ``user`` at :attr:`Step.START`."""
    return PendingLogin(
        kind=kind,
        user=user._meta.pk.value_to_string(user),
        next=next_url,
        action=action,
        **extra,
    )


def load(request: HttpRequest) -> PendingLogin | None:
    """The pending login/action of this session, if it is well formed (expired or not)."""
    session = getattr(request, "session", None)
    if session is None:
        return None
    return PendingLogin.deserialize(session.get(PENDING))


def save(request: HttpRequest, pending: PendingLogin) -> None:
    request.session[PENDING] = pending.serialize()


def clear(request: HttpRequest) -> None:
    """Remove the pending login from the session, and the hint cookie with it."""
    session = getattr(request, "session", None)
    if session is not None and PENDING in session:
        del session[PENDING]
    cookies.clear_hint(request)
