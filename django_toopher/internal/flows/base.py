"""What every step of a pending login shares: the :class:`Result` views render, the
entry check (:func:`with_live_pending`) and the one way a pending login ends
(:func:`end`)."""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Concatenate, ParamSpec

from django.conf import settings
from django.contrib.auth import get_user_model, load_backend
from django.http import HttpRequest

from ...adapter import get_adapter
from ...app_settings import app_settings
from ...session_keys import PENDING
from .. import events, redirects, state, upstream
from ..cache import CacheUnavailable
from ..cancel import cancel_push
from ..state import PendingLogin, Status, Step

P = ParamSpec("P")

_STEP_MESSAGES = {step: f"step_{step.value}" for step in Step}
_END_MESSAGES = {
    Status.DENIED: "end_denied",
    Status.EXPIRED: "end_expired",
    Status.CANCELLED: "end_cancelled",
    Status.RATE_LIMITED: "end_rate_limited",
}
#: Ends after which the push may still wait on the phone: cancel it there.
_CANCEL_PUSH = frozenset({Status.CANCELLED, Status.EXPIRED, Status.REFUSED,
                          Status.RATE_LIMITED})
_END_EVENTS = {
    Status.DENIED: events.Kind.DENIED,
    Status.EXPIRED: events.Kind.EXPIRED,
    Status.CANCELLED: events.Kind.CANCELLED,
}


@dataclass
class Result:
    """What a flow decided: a live :attr:`step`, or a final :attr:`status`.

    Exactly one of the two is set. Views turn a Result into a page, a redirect or JSON.
    """

    step: Step | None = None
    status: Status | None = None
    message: str = ""
    redirect: str | None = None
    pending: PendingLogin | None = field(default=None, repr=False)
    otp_required: bool = False
    #: Set when the user's last input was refused while the login goes on (a wrong
    #: code, a refused pairing phrase): the JSON API's error code for it.
    problem: str = ""
    #: What ended (a final Result has no live pending login): "login" or "action",
    #: and the action's name.
    kind: str | None = None
    action: str | None = None

    @property
    def final(self) -> bool:
        return self.status is not None

    @property
    def code(self) -> str:
        """The step or status name (the ``status`` of the JSON answer)."""
        found = self.status if self.status is not None else self.step
        return found.value if found is not None else Status.NONE.value

    def present(self) -> dict[str, Any]:
        """The one presentation of a pending login or action: the JSON API's
        ``pending`` object, the pending page's status JSON and its template context
        are built from it. ``status`` is ``"pending"`` while it lives (``step`` says
        where), then how it ended; ``interval`` is the seconds between two polls;
        ``verification_code`` is the number to pick on the phone while the push waits
        (number matching), else None."""
        pending = self.pending
        return {
            "status": self.code if self.final else "pending",
            "step": self.step.value if self.step else None,
            "final": self.final,
            "message": self.message,
            "kind": pending.kind.value if pending else self.kind,
            "action": pending.action if pending else self.action,
            "remaining": pending.remaining_seconds() if pending else None,
            "interval": app_settings.POLL_INTERVAL,
            "otp_required": self.otp_required,
            "qr": bool(pending and pending.pairing and pending.pairing.get("qr")),
            "repair": bool(pending and pending.repair),
            "verification_code": (
                pending.verification_code if pending and pending.step is Step.PUSHED else None
            ),
        }


def message(key: str, **params: Any) -> str:
    return get_adapter().message(key, **params)


def wait_text(seconds: int) -> str:
    """"4 minutes", "40 seconds": how long until the user may try again."""
    if seconds >= 90:
        return message("wait_minutes", count=(seconds + 59) // 60)
    return message("wait_seconds", count=max(1, seconds))


def describe(pending: PendingLogin, text: str = "", **extra: Any) -> Result:
    """The live step of ``pending``, with its usual message unless ``text`` is given."""
    return Result(
        step=pending.step,
        message=text or message(_STEP_MESSAGES[pending.step]),
        pending=pending,
        **extra,
    )


def to_step(request: HttpRequest, pending: PendingLogin, step: Step, text: str = "") -> Result:
    """Save ``pending`` at ``step`` and describe it."""
    pending = pending.but(step=step)
    state.save(request, pending)
    return describe(pending, text)


# -- who is logging in ----------------------------------------------------------------


def same_user(request: HttpRequest, pending: PendingLogin) -> bool:
    user = getattr(request, "user", None)
    return bool(
        user is not None
        and user.is_authenticated
        and user._meta.pk.value_to_string(user) == pending.user
    )


def _login_user(pending: PendingLogin) -> Any:
    """The user of a pending login, through its auth backend (None if gone/inactive)."""
    try:
        pk = get_user_model()._meta.pk.to_python(pending.user)
    except Exception:  # noqa: BLE001 - a pk that does not parse is no user
        return None
    if not pending.backend or pending.backend not in settings.AUTHENTICATION_BACKENDS:
        return None
    return load_backend(pending.backend).get_user(pk)


def pending_user(request: HttpRequest, pending: PendingLogin) -> Any:
    """The user the pending login/action is for, or None if that user cannot go on."""
    if pending.is_login:
        return _login_user(pending)
    return request.user if same_user(request, pending) else None


# -- entering a step ---------------------------------------------------------------------


def load_live(request: HttpRequest) -> PendingLogin | Result:
    """The live pending login of this request, or the final Result when there is none,
    it is another user's action, or it has expired (which ends it)."""
    pending = state.load(request)
    if pending is None:
        if PENDING in getattr(request, "session", {}):
            state.clear(request)
        return Result(status=Status.NONE, message=message("no_login"),
                      redirect=redirects.login_url())
    if not pending.is_login and not same_user(request, pending):
        state.clear(request)
        return Result(status=Status.NONE, message=message("no_action"),
                      redirect=redirects.login_url())
    if pending.expired():
        return end(request, pending, Status.EXPIRED)
    return pending


def with_live_pending(
    func: Callable[Concatenate[HttpRequest, PendingLogin, P], Result],
) -> Callable[Concatenate[HttpRequest, P], Result]:
    """Run ``func(request, pending, ...)`` only for a live pending login."""

    @functools.wraps(func)
    def wrapper(request: HttpRequest, *args: P.args, **kwargs: P.kwargs) -> Result:
        found = load_live(request)
        if isinstance(found, Result):
            return found
        try:
            return func(request, found, *args, **kwargs)
        except CacheUnavailable:
            # Fail closed: without the cache there is no push lock and no rate limit,
            # so nothing is sent; the state is as it was, and the user may try again.
            return describe(found, message("busy"), problem="service_unavailable")

    return wrapper


# -- the end ----------------------------------------------------------------------------------


def after_end_url(pending: PendingLogin) -> str:
    return redirects.login_url() if pending.is_login else redirects.default_next()


def end(
    request: HttpRequest,
    pending: PendingLogin,
    status: Status,
    text: str = "",
    *,
    user: Any = None,
    reason: str = "",
) -> Result:
    """End the pending login/action: clear it, record it, tell the user what now."""
    state.clear(request)
    upstream.forget(f"auth:{pending.id}")
    if status in _CANCEL_PUSH:
        cancel_push(pending.request_id)
    if user is None:
        user = _login_user(pending) if pending.is_login else getattr(request, "user", None)
    kind = _END_EVENTS.get(status)
    if kind is not None:
        events.emit(
            kind,
            user=user,
            request=request,
            action=pending.action,
            terminal_name=pending.terminal_name,
            reason=str(reason or ""),
        )
    text = text or message(_END_MESSAGES.get(status, "end_refused"))
    if pending.is_login and status not in (Status.CANCELLED, Status.RATE_LIMITED):
        text = f"{text} {message('end_start_over')}"
    return final(pending, status, text, after_end_url(pending))


def final(pending: PendingLogin, status: Status, text: str, redirect: str) -> Result:
    """The final Result of ``pending``: how it ended, and what it was."""
    return Result(status=status, message=text, redirect=redirect, kind=pending.kind.value,
                  action=pending.action)
