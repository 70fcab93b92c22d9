"""The pending-login state machine: the only place that decides what happens next.

A *pending login* is a small dict in ``request.session[PENDING]``: the user's pk
and auth backend, the start time, the validated ``next`` URL, the action, the
Toopher request id and the current step. While it exists the session carries no
auth keys, so ``request.user`` is anonymous everywhere. A *pending action* (for
``@toopher_required``) has the same shape, while the user stays logged in.

Steps (``state["step"]``):

``start``          nothing sent yet; the pending page sends the one push
``name_terminal``  this browser needs a name first (706, or an unnamed terminal)
``pushed``         a push is out; the status endpoint polls it
``pair``           the user must pair a phone first (705/707 or REQUIRE_ENROLLMENT)
``pairing``        a pairing is waiting for the phone
``failed``         Toopher failed and FAIL_MODE is closed: offer a retry

Every public function returns a :class:`Result`; views only render it.
"""

from __future__ import annotations

import contextlib
import contextvars
import logging
import secrets
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.contrib.auth import (
    BACKEND_SESSION_KEY,
    HASH_SESSION_KEY,
    REDIRECT_FIELD_NAME,
    SESSION_KEY,
    get_user_model,
    load_backend,
    login,
)
from django.contrib.auth.models import AnonymousUser
from django.db import DatabaseError, IntegrityError, transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import resolve_url
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from . import audit, backends, ratelimit, signals, terminal
from .conf import toopher_settings
from .models import AuditEvent, ConsumedRequest
from .session_keys import ACTIONS, AUTH_AT, PENDING

logger = logging.getLogger("django_toopher")

Kind = AuditEvent.Kind

LOGIN = "login"
ACTION = "action"

START = "start"
NAME_TERMINAL = "name_terminal"
PUSHED = "pushed"
PAIR = "pair"
PAIRING = "pairing"
FAILED = "failed"
STEPS = {START, NAME_TERMINAL, PUSHED, PAIR, PAIRING, FAILED}

#: Statuses of a :class:`Result` that end the pending login.
GRANTED = "granted"
DENIED = "denied"
EXPIRED = "expired"
CANCELLED = "cancelled"
RATE_LIMITED = "rate_limited"
REFUSED = "refused"
NONE = "none"
FINAL = {GRANTED, DENIED, EXPIRED, CANCELLED, RATE_LIMITED, REFUSED, NONE}

#: A cookie that only says "this browser may have a pending login". The middleware
#: reads the session only when it is present, so other requests cost nothing. It is
#: a hint, not a control: without it the session is still anonymous.
HINT_COOKIE = "toopher_pending"

_CACHE_PREFIX = "django_toopher:flow:"

# Set by approved_login() and the test helper: the next login() is already verified.
_BYPASS: contextvars.ContextVar[bool] = contextvars.ContextVar(
    "django_toopher_bypass", default=False
)


@dataclass
class Result:
    """What the flow decided; views turn it into a page, a redirect or JSON."""

    status: str
    message: str = ""
    redirect: str | None = None
    state: dict[str, Any] | None = field(default=None, repr=False)
    otp_required: bool = False

    @property
    def final(self) -> bool:
        return self.status in FINAL

    def as_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "status": self.status,
            "final": self.final,
            "message": self.message,
            "redirect": self.redirect,
            "interval": poll_interval(),
        }
        if self.state is not None:
            data["remaining"] = remaining_seconds(self.state)
            data["otp_required"] = self.otp_required
        return data


# --------------------------------------------------------------------------- helpers


def poll_interval() -> int:
    return max(1, int(toopher_settings.POLL_INTERVAL))


def ttl() -> int:
    return max(1, int(toopher_settings.PENDING_TTL))


def max_age() -> int:
    """Absolute limit for a whole pending login (naming, pairing and the push)."""
    return max(600, 3 * ttl())


def remaining_seconds(state: dict[str, Any]) -> int:
    return max(0, int(state.get("step_at", 0) + ttl() - time.time()))


def _cache() -> Any:
    return ratelimit.get_cache()


def safe_next(request: HttpRequest, url: Any) -> str | None:
    """``url`` if it is a safe local redirect target for this request, else None."""
    if not isinstance(url, str) or not url or len(url) > 2000:
        return None
    if any(ord(char) < 32 or ord(char) == 127 for char in url):
        return None
    if url_has_allowed_host_and_scheme(
        url, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return url
    return None


def default_next() -> str:
    return resolve_url(settings.LOGIN_REDIRECT_URL)


def login_url() -> str:
    return resolve_url(settings.LOGIN_URL)


def pending_url() -> str:
    from django.urls import reverse

    return reverse("django_toopher:pending")


def get_state(request: HttpRequest) -> dict[str, Any] | None:
    """The pending login/action of this session, if it is well formed."""
    session = getattr(request, "session", None)
    if session is None:
        return None
    state = session.get(PENDING)
    if (
        not isinstance(state, dict)
        or state.get("v") != 1
        or state.get("kind") not in (LOGIN, ACTION)
        or state.get("step") not in STEPS
        or not isinstance(state.get("id"), str)
    ):
        return None
    return state


def _save(request: HttpRequest, state: dict[str, Any]) -> None:
    request.session[PENDING] = dict(state)


def _clear(request: HttpRequest) -> None:
    request.session.pop(PENDING, None)
    request._toopher_hint = "clear"  # type: ignore[attr-defined]


def _load_user(state: dict[str, Any]) -> Any:
    """The user of a pending login, through its auth backend (None if gone/inactive)."""
    try:
        pk = get_user_model()._meta.pk.to_python(state["user"])
    except Exception:
        return None
    path = state.get("backend")
    if path and path in settings.AUTHENTICATION_BACKENDS:
        user = load_backend(path).get_user(pk)
    else:
        user = None
    return user


def _same_user(request: HttpRequest, state: dict[str, Any]) -> bool:
    user = getattr(request, "user", None)
    return bool(
        user is not None
        and user.is_authenticated
        and user._meta.pk.value_to_string(user) == state.get("user")
    )


def _action_name(state: dict[str, Any]) -> str:
    return state.get("action") or toopher_settings.LOGIN_ACTION_NAME


def _after_end_url(state: dict[str, Any]) -> str:
    if state["kind"] == LOGIN:
        return login_url()
    return default_next()


# --------------------------------------------------------------------------- login hook


@contextlib.contextmanager
def approved_login() -> Iterator[None]:
    """Within this block, ``login()`` is not turned into a pending login.

    For code that has verified the second factor itself (and for tests, through
    :func:`django_toopher.testing.force_login_verified`).
    """
    token = _BYPASS.set(True)
    try:
        yield
    finally:
        _BYPASS.reset(token)


def on_user_logged_in(request: HttpRequest | None, user: Any) -> None:
    """The ``user_logged_in`` receiver: let the login through or make it pending."""
    if request is None or getattr(request, "session", None) is None:
        return
    if getattr(request, "_toopher_approved", False) or _BYPASS.get():
        _complete_login_bookkeeping(request)
        return
    try:
        requirement = backends.get_backend().login_requirement(user)
    except Exception:  # fail closed: the pending page reports the problem
        logger.exception("django_toopher: could not decide whether a login needs approval")
        requirement = "approve"
    if requirement is None:
        _complete_login_bookkeeping(request)
        return
    begin_login(request, user, requirement)


def _complete_login_bookkeeping(request: HttpRequest) -> None:
    session = request.session
    session[AUTH_AT] = time.time()
    if PENDING in session:
        del session[PENDING]
    request._toopher_hint = "clear"  # type: ignore[attr-defined]


def _requested_next(request: HttpRequest) -> str | None:
    try:
        candidate = request.POST.get(REDIRECT_FIELD_NAME) or request.GET.get(REDIRECT_FIELD_NAME)
    except Exception:
        candidate = request.GET.get(REDIRECT_FIELD_NAME)
    return safe_next(request, candidate)


def _new_state(kind: str, user: Any, **extra: Any) -> dict[str, Any]:
    now = time.time()
    state: dict[str, Any] = {
        "v": 1,
        "kind": kind,
        "id": secrets.token_urlsafe(16),
        "user": user._meta.pk.value_to_string(user),
        "started": now,
        "step_at": now,
        "step": START,
        "attempt": 0,
        "request_id": None,
        "pairing_id": None,
        "terminal": None,
        "terminal_name": "",
        "why": "",
    }
    state.update(extra)
    return state


def begin_login(request: HttpRequest, user: Any, requirement: str = "approve") -> None:
    """Turn the just-logged-in session into a pending login (auth keys removed)."""
    session = request.session
    backend_path = session.get(BACKEND_SESSION_KEY) or getattr(user, "backend", "")
    state = _new_state(
        LOGIN,
        user,
        backend=backend_path,
        next=_requested_next(request) or default_next(),
        action=toopher_settings.LOGIN_ACTION_NAME,
        need=requirement,
    )
    for key in (SESSION_KEY, BACKEND_SESSION_KEY, HASH_SESSION_KEY, AUTH_AT, ACTIONS):
        session.pop(key, None)
    _save(request, state)
    request.user = AnonymousUser()
    request._toopher_hint = "set"  # type: ignore[attr-defined]


def begin_action(
    request: HttpRequest, action: str, next_url: str, *, if_configured: bool = False
) -> dict[str, Any]:
    """Start a pending approval of ``action`` for the logged-in user."""
    state = _new_state(
        ACTION,
        request.user,
        backend="",
        next=safe_next(request, next_url) or default_next(),
        action=action,
        need="approve",
        if_configured=bool(if_configured),
    )
    _save(request, state)
    return state


def action_is_fresh(request: HttpRequest, action: str, max_age_seconds: int) -> bool:
    """True if ``action`` was approved in this session within ``max_age_seconds``."""
    approved = request.session.get(ACTIONS)
    if not isinstance(approved, dict):
        return False
    when = approved.get(action)
    if not isinstance(when, int | float):
        return False
    return 0 <= time.time() - when <= max_age_seconds


def consume_action(request: HttpRequest, action: str) -> None:
    approved = request.session.get(ACTIONS)
    if isinstance(approved, dict) and action in approved:
        approved = dict(approved)
        del approved[action]
        request.session[ACTIONS] = approved


# --------------------------------------------------------------------------- checks


def state_is_live(request: HttpRequest, state: dict[str, Any]) -> bool:
    """True if ``state`` belongs to this request's user (actions) and has not expired."""
    if state["kind"] == ACTION and not _same_user(request, state):
        return False
    now = time.time()
    return now - state.get("step_at", 0) <= ttl() and now - state.get("started", 0) <= max_age()


def _check(request: HttpRequest) -> tuple[dict[str, Any] | None, Result | None]:
    """The live state, or the final Result when there is none or it has expired."""
    state = get_state(request)
    if state is None:
        if PENDING in getattr(request, "session", {}):
            _clear(request)
        return None, Result(NONE, _("There is no login waiting for approval."), login_url())
    if state["kind"] == ACTION and not _same_user(request, state):
        _clear(request)
        return None, Result(NONE, _("There is no action waiting for approval."), login_url())
    now = time.time()
    if now - state.get("step_at", 0) > ttl() or now - state.get("started", 0) > max_age():
        return None, _end(request, state, EXPIRED)
    return state, None


# --------------------------------------------------------------------------- the push


def advance(request: HttpRequest) -> Result:
    """Called by the pending page (GET): send the one push if none is out yet."""
    state, final = _check(request)
    if final is not None:
        return final
    assert state is not None
    if state["step"] == START:
        return _start(request, state)
    return _poll_state(request, state)


def _describe(state: dict[str, Any], **extra: Any) -> Result:
    messages = {
        START: _("Sending a request to your phone…"),
        NAME_TERMINAL: _("Name this browser so that your phone can show where you log in."),
        PUSHED: _("Toopher is contacting your phone. Approve the request to continue."),
        PAIR: _("Pair your phone with Toopher to continue."),
        PAIRING: _("Waiting for your phone to accept the pairing…"),
        FAILED: _("Toopher cannot be reached right now. Try again in a moment."),
    }
    message = extra.pop("message", None) or messages[state["step"]]
    return Result(state["step"], message, state=state, **extra)


def _push_lock_key(state: dict[str, Any]) -> str:
    return f"{_CACHE_PREFIX}push:{state['id']}:{state.get('attempt', 0)}"


def _request_key(state: dict[str, Any]) -> str:
    return f"{_CACHE_PREFIX}req:{state['id']}:{state.get('attempt', 0)}"


def _adopt_request(request: HttpRequest, state: dict[str, Any]) -> dict[str, Any] | None:
    """A concurrent request of this session already sent the push: take its id."""
    request_id = _cache().get(_request_key(state))
    if not request_id:
        return None
    state = dict(state, step=PUSHED, request_id=request_id)
    _save(request, state)
    return state


def _start(request: HttpRequest, state: dict[str, Any]) -> Result:
    user = _load_user_for(request, state)
    if user is None:
        return _end(request, state, REFUSED, _("This account cannot log in."))
    backend = backends.get_backend()

    if state["kind"] == LOGIN and backend.mode == backends.STORED:
        if not backend.is_paired(user):
            if toopher_settings.REQUIRE_ENROLLMENT:
                return _to_pairing(request, state, "enroll")
            return _let_in(request, state, user, fail_open=False, why="not paired")

    tid = (
        terminal.read_terminal_id(request)
        or state.get("terminal")
        or terminal.new_terminal_id()
    )
    terminal.remember_terminal_id(request, tid)
    known = backend.find_terminal(user, tid)
    if state.get("terminal") != tid or (known and state.get("terminal_name") != known.name):
        state = dict(state, terminal=tid, terminal_name=known.name if known else "")
    if known is None and backend.mode == backends.STORED:
        state = dict(state, step=NAME_TERMINAL, step_at=time.time())
        _save(request, state)
        return _describe(state)

    cache = _cache()
    if not cache.add(_push_lock_key(state), 1, timeout=max_age()):
        adopted = _adopt_request(request, state)
        return _describe(adopted or state)

    if not ratelimit.allow_push(state["user"]):
        audit.record(Kind.RATE_LIMITED, user=user, request=request, action=_action_name(state))
        return _end(
            request,
            state,
            RATE_LIMITED,
            _("Too many approval requests were sent to your phone. Wait a few minutes."),
            user=user,
            audited=True,
        )

    automation = (
        bool(toopher_settings.LOGIN_AUTOMATION_ALLOWED) if state["kind"] == LOGIN else False
    )
    outcome = backend.start_authentication(
        user,
        terminal_id=tid,
        terminal_name=state.get("terminal_name") or toopher_settings.DEFAULT_TERMINAL_NAME,
        action=_action_name(state),
        automation_allowed=automation,
    )
    if outcome.started:
        cache.set(_request_key(state), outcome.request_id, timeout=max_age())
        state = dict(state, step=PUSHED, request_id=outcome.request_id, step_at=time.time())
        _save(request, state)
        backend.touch_terminal(known)
        audit.record(
            Kind.REQUESTED,
            user=user,
            request=request,
            action=_action_name(state),
            terminal_name=state.get("terminal_name", ""),
        )
        signals.toopher_requested.send(
            sender=type(user), user=user, request=request, action=_action_name(state)
        )
        return _describe(state)

    cache.delete(_push_lock_key(state))  # nothing was sent: a later retry may send
    return _handle_refusal(request, state, user, outcome)


def _load_user_for(request: HttpRequest, state: dict[str, Any]) -> Any:
    if state["kind"] == ACTION:
        return request.user if _same_user(request, state) else None
    return _load_user(state)


def _handle_refusal(
    request: HttpRequest, state: dict[str, Any], user: Any, outcome: backends.Outcome
) -> Result:
    kind = outcome.kind
    is_login = state["kind"] == LOGIN
    if kind == backends.TERMINAL_UNKNOWN:
        state = dict(state, step=NAME_TERMINAL, step_at=time.time())
        _save(request, state)
        return _describe(state)
    if kind == backends.DISABLED:
        if is_login:
            return _let_in(request, state, user, fail_open=False, why="disabled at Toopher (704)")
        return _not_configured(request, state, user)
    if kind == backends.UNKNOWN_USER:
        if is_login:
            if toopher_settings.REQUIRE_ENROLLMENT:
                return _to_pairing(request, state, "enroll")
            return _let_in(request, state, user, fail_open=False, why="not paired (705)")
        return _not_configured(request, state, user)
    if kind == backends.DEACTIVATED:
        if is_login and toopher_settings.ALLOW_REPAIR:
            return _to_pairing(request, state, "repair")
        audit.record(Kind.ERROR, user=user, request=request, detail=outcome.detail)
        return _end(
            request,
            state,
            REFUSED,
            _("Your phone is no longer paired with this site. Ask an administrator for help.")
            if is_login
            else _("Your phone is no longer paired. Pair it again on your security page."),
            user=user,
            audited=True,
        )
    # FAILURE or ERROR
    if (
        kind == backends.FAILURE
        and is_login
        and toopher_settings.FAIL_MODE == "open"
    ):
        logger.warning(
            "django_toopher: Toopher failed (%s); FAIL_MODE is open, letting user %s in",
            outcome.detail,
            state["user"],
        )
        return _let_in(request, state, user, fail_open=True, why=outcome.detail)
    audit.record(
        Kind.ERROR, user=user, request=request, action=_action_name(state), detail=outcome.detail
    )
    state = dict(state, step=FAILED)
    _save(request, state)
    if kind == backends.ERROR:
        return _describe(
            state,
            message=_("Toopher refused the request. Try again, or ask an administrator."),
        )
    return _describe(state)


def retry(request: HttpRequest) -> Result:
    """After a failure (FAIL_MODE closed): go back to ``start`` for a new push."""
    state, final = _check(request)
    if final is not None:
        return final
    assert state is not None
    if state["step"] != FAILED:
        return _describe(state)
    state = dict(state, step=START, attempt=state.get("attempt", 0) + 1)
    _save(request, state)
    return Result(START, "", redirect=pending_url(), state=state)


# --------------------------------------------------------------------------- polling


def _status_key(state: dict[str, Any], what: str) -> str:
    return f"{_CACHE_PREFIX}status:{state['id']}:{what}"


def _lock_key(state: dict[str, Any], what: str) -> str:
    return f"{_CACHE_PREFIX}poll:{state['id']}:{what}"


def _cached_upstream(state: dict[str, Any], what: str, fetch: Any) -> dict[str, Any] | None:
    """The last upstream answer for this pending login; at most one call per interval.

    ``cache.add`` is the lock: whoever adds it asks Toopher, everyone else within
    the interval reads the cached answer (or none yet).
    """
    cache = _cache()
    key = _status_key(state, what)
    cached = cache.get(key)
    if cached is not None:
        return cached
    if not cache.add(_lock_key(state, what), 1, timeout=poll_interval()):
        return None
    try:
        answer = fetch()
    except backends.client_errors() as exc:
        answer = {"error": backends.classify_error(exc), "detail": backends.describe_error(exc)}
    timeout = poll_interval() if answer.get("pending", True) or "error" in answer else max_age()
    cache.set(key, answer, timeout=timeout)
    return answer


def poll(request: HttpRequest) -> Result:
    """The status endpoint (and the no-JS "check now" button)."""
    state, final = _check(request)
    if final is not None:
        return final
    assert state is not None
    return _poll_state(request, state)


def _poll_state(request: HttpRequest, state: dict[str, Any]) -> Result:
    step = state["step"]
    if step == START:
        adopted = _adopt_request(request, state)
        if adopted is None:
            return _describe(state)
        state = adopted
        step = PUSHED
    if step == PUSHED:
        return _poll_push(request, state)
    if step == PAIRING:
        return _poll_pairing(request, state)
    return _describe(state)


def _poll_push(request: HttpRequest, state: dict[str, Any]) -> Result:
    request_id = state.get("request_id")
    if not request_id:
        return _describe(state)
    backend = backends.get_backend()

    def fetch() -> dict[str, Any]:
        auth = backend.authentication_status(request_id)
        return {
            "id": getattr(auth, "id", None),
            "pending": bool(auth.pending),
            "granted": bool(auth.granted),
            "automated": bool(getattr(auth, "automated", False)),
            "reason": str(getattr(auth, "reason", "") or "")[:200],
            "otp": bool(getattr(auth, "reason_code", 0) == 708),
            "user_name": getattr(auth, "user_name", None),
        }

    answer = _cached_upstream(state, "auth", fetch)
    if answer is None:
        return _describe(state)
    if "error" in answer:
        return _describe(
            state, message=_("Still waiting; Toopher did not answer the last check.")
        )
    if answer.get("id") and answer["id"] != request_id:
        return _describe(state)
    if answer["pending"]:
        return _describe(state, otp_required=answer.get("otp", False))
    return _conclude(request, state, answer)


def _conclude(request: HttpRequest, state: dict[str, Any], answer: dict[str, Any]) -> Result:
    """A final answer from the phone (poll or OTP): grant once, or end the attempt."""
    user = _load_user_for(request, state)
    if user is None:
        return _end(request, state, REFUSED, _("This account cannot log in."))
    backend = backends.get_backend()
    owner = answer.get("user_name")
    granted = bool(answer.get("granted"))
    reason = answer.get("reason", "")
    if granted and owner is not None and str(owner) != backend.user_name(user):
        granted, reason = False, "request of another user"
    if granted and state["kind"] == ACTION and answer.get("automated"):
        granted, reason = False, "automated answer to an action"
    if not granted:
        return _end(request, state, DENIED, user=user, reason=reason)
    return _grant(request, state, user, automated=bool(answer.get("automated")))


def claim(request_id: str) -> bool:
    """Mark ``request_id`` used. True for the one caller that wins, on any database.

    Raises :class:`django.db.DatabaseError` (not ``IntegrityError``) when the database
    could not decide (a locked SQLite table, say); the caller tries again later.
    """
    try:
        with transaction.atomic():
            ConsumedRequest.objects.create(request_id=request_id)
    except IntegrityError:
        return False
    return True


def _grant(request: HttpRequest, state: dict[str, Any], user: Any, *, automated: bool) -> Result:
    request_id = state.get("request_id")
    try:
        won = bool(request_id) and claim(request_id)
    except DatabaseError:
        logger.warning("django_toopher: could not record a grant; the next poll retries")
        return _describe(state)
    if not won:
        # Someone already used this approval (a racing poll, or a replay).
        return Result(
            EXPIRED,
            _("This approval has already been used."),
            redirect=safe_next(request, state.get("next")) or _after_end_url(state),
        )
    next_url = safe_next(request, state.get("next")) or default_next()
    action = _action_name(state)
    if state["kind"] == LOGIN:
        _complete_login(request, state, user)
    else:
        approved = request.session.get(ACTIONS)
        approved = dict(approved) if isinstance(approved, dict) else {}
        approved[action] = time.time()
        request.session[ACTIONS] = approved
        request.session.pop(PENDING, None)
    audit.record(
        Kind.GRANTED,
        user=user,
        request=request,
        action=action,
        terminal_name=state.get("terminal_name", ""),
        detail="automated" if automated else "",
    )
    signals.toopher_granted.send(
        sender=type(user), user=user, request=request, action=action, automated=automated
    )
    return Result(GRANTED, _("Approved. Taking you there…"), redirect=next_url)


def _complete_login(request: HttpRequest, state: dict[str, Any], user: Any) -> None:
    """``login()`` again, marked as approved: the session key is cycled and CSRF rotated."""
    request.session.pop(PENDING, None)
    request._toopher_approved = True  # type: ignore[attr-defined]
    try:
        login(request, user, backend=state.get("backend") or None)
    finally:
        request._toopher_approved = False  # type: ignore[attr-defined]


def _let_in(
    request: HttpRequest, state: dict[str, Any], user: Any, *, fail_open: bool, why: str
) -> Result:
    """Log in without an approval: 704, 705 without REQUIRE_ENROLLMENT, or fail-open."""
    next_url = safe_next(request, state.get("next")) or default_next()
    if state["kind"] == ACTION:  # never: actions always fail closed
        return _end(request, state, REFUSED, user=user)
    _complete_login(request, state, user)
    if fail_open:
        audit.record(Kind.FAIL_OPEN, user=user, request=request, detail=why)
    else:
        logger.info("django_toopher: user %s logged in without approval: %s", state["user"], why)
    return Result(GRANTED, _("Logged in."), redirect=next_url)


def _not_configured(request: HttpRequest, state: dict[str, Any], user: Any) -> Result:
    """An action approval for a user without Toopher (704/705)."""
    if state.get("if_configured"):
        approved = request.session.get(ACTIONS)
        approved = dict(approved) if isinstance(approved, dict) else {}
        approved[_action_name(state)] = time.time()
        request.session[ACTIONS] = approved
        request.session.pop(PENDING, None)
        return Result(GRANTED, "", redirect=safe_next(request, state.get("next")) or default_next())
    return _end(
        request,
        state,
        REFUSED,
        _("This action needs approval on a paired phone. Pair a phone first."),
        user=user,
    )


# --------------------------------------------------------------------------- the end


_END_MESSAGES = {
    DENIED: gettext_noop("The request was denied on your phone."),
    EXPIRED: gettext_noop("The request expired before it was approved."),
    CANCELLED: gettext_noop("The request was cancelled."),
    RATE_LIMITED: gettext_noop("Too many attempts. Wait a few minutes before you try again."),
    REFUSED: gettext_noop("The request cannot be completed."),
}


def _end(
    request: HttpRequest,
    state: dict[str, Any],
    status: str,
    message: str = "",
    *,
    user: Any = None,
    reason: str = "",
    audited: bool = False,
) -> Result:
    """End the pending login/action: clear it, audit it, send ``toopher_denied``."""
    _clear(request)
    _cache().delete(_status_key(state, "auth"))
    if user is None:
        user = _load_user(state) if state["kind"] == LOGIN else getattr(request, "user", None)
    action = _action_name(state)
    kinds = {DENIED: Kind.DENIED, EXPIRED: Kind.EXPIRED, CANCELLED: Kind.CANCELLED}
    if not audited and status in kinds:
        audit.record(
            kinds[status],
            user=user,
            request=request,
            action=action,
            terminal_name=state.get("terminal_name", ""),
            detail=str(reason or "")[:200],
        )
    if status in (DENIED, EXPIRED) and user is not None and getattr(user, "pk", None):
        signals.toopher_denied.send(
            sender=type(user), user=user, request=request, action=action, reason=reason or status
        )
    text = message or _(_END_MESSAGES.get(status, _END_MESSAGES[REFUSED]))
    if state["kind"] == LOGIN and status != CANCELLED:
        text = f"{text} {_('Log in again to start over.')}"
    return Result(status, text, redirect=_after_end_url(state))


def cancel(request: HttpRequest) -> Result:
    state, final = _check(request)
    if final is not None:
        return final
    assert state is not None
    return _end(request, state, CANCELLED)


# --------------------------------------------------------------------------- OTP


def submit_otp(request: HttpRequest, otp: str) -> Result:
    """Answer the pending push with the one-time password shown in the app."""
    state, final = _check(request)
    if final is not None:
        return final
    assert state is not None
    if state["step"] != PUSHED or not state.get("request_id"):
        return _describe(state, message=_("There is no request to answer with a code yet."))
    if not ratelimit.allow_otp_try(state["id"]):
        user = _load_user_for(request, state)
        audit.record(Kind.RATE_LIMITED, user=user, request=request, detail="otp")
        return _end(request, state, RATE_LIMITED, user=user, audited=True)
    backend = backends.get_backend()
    try:
        auth = backend.authenticate_with_otp(state["request_id"], otp)
    except backends.client_errors() as exc:
        kind = backends.classify_error(exc)
        if kind == backends.FAILURE:
            return _describe(state, message=_("Toopher cannot be reached right now. Try again."))
        auth = None
    if auth is not None and auth.granted and not auth.pending:
        answer = {
            "granted": True,
            "automated": False,
            "user_name": getattr(auth, "user_name", None),
        }
        return _conclude(request, state, answer)
    user = _load_user_for(request, state)
    audit.record(Kind.OTP_FAILED, user=user, request=request, action=_action_name(state))
    left = ratelimit.otp_tries_left(state["id"])
    if left <= 0:
        return _end(request, state, RATE_LIMITED, user=user)
    return _describe(state, message=_("That code is not right. Try again."), otp_required=True)


# --------------------------------------------------------------------------- terminals


def submit_terminal_name(request: HttpRequest, name: str) -> Result:
    """Name this browser, then go back to ``start`` for the push."""
    state, final = _check(request)
    if final is not None:
        return final
    assert state is not None
    if state["step"] != NAME_TERMINAL:
        return _describe(state)
    user = _load_user_for(request, state)
    if user is None:
        return _end(request, state, REFUSED)
    tid = state.get("terminal") or terminal.terminal_id_for(request)
    terminal.remember_terminal_id(request, tid)
    backend = backends.get_backend()
    try:
        row = backend.name_terminal(user, tid, name, request=request)
    except ValueError:
        return _describe(state, message=_("Enter a name of 1 to 100 characters."))
    except backends.client_errors() as exc:
        outcome = backends.Outcome(
            backends.classify_error(exc), detail=backends.describe_error(exc)
        )
        return _handle_refusal(request, state, user, outcome)
    state = dict(
        state,
        step=START,
        terminal=tid,
        terminal_name=row.name,
        attempt=state.get("attempt", 0) + 1,
    )
    _save(request, state)
    return Result(START, "", redirect=pending_url(), state=state)


# --------------------------------------------------------------------------- pairing


def _to_pairing(request: HttpRequest, state: dict[str, Any], why: str) -> Result:
    state = dict(state, step=PAIR, why=why, pairing_id=None, step_at=time.time())
    _save(request, state)
    if why == "repair":
        return _describe(
            state, message=_("Your phone is no longer paired. Pair it again to continue.")
        )
    return _describe(state)


def start_pairing(request: HttpRequest, phrase: str | None) -> Result:
    """Pair by phrase (or by QR code when ``phrase`` is None) inside the pending login."""
    state, final = _check(request)
    if final is not None:
        return final
    assert state is not None
    if state["step"] not in (PAIR, PAIRING):
        return _describe(state)
    user = _load_user_for(request, state)
    if user is None:
        return _end(request, state, REFUSED)
    if not ratelimit.allow_push(state["user"]):
        audit.record(Kind.RATE_LIMITED, user=user, request=request, detail="pairing")
        return _end(request, state, RATE_LIMITED, user=user, audited=True)
    backend = backends.get_backend()
    try:
        pairing = backend.start_pairing(user, phrase)
    except backends.client_errors() as exc:
        if backends.classify_error(exc) == backends.FAILURE:
            return _describe(
                state, message=_("Toopher cannot be reached right now. Try again in a moment.")
            )
        return _describe(
            state, message=_("That pairing phrase was not accepted. Check it and try again.")
        )
    pairing_id = getattr(pairing, "id", None)
    if not isinstance(pairing_id, str) or not pairing_id:
        return _describe(state, message=_("Toopher did not start the pairing. Try again."))
    state = dict(
        state,
        step=PAIRING,
        pairing_id=pairing_id,
        qr=phrase is None,
        step_at=time.time(),
        attempt=state.get("attempt", 0) + 1,
    )
    _save(request, state)
    return _describe(state)


def qr_image(request: HttpRequest) -> bytes | None:
    """The QR code of this session's pairing (the id comes from the session only)."""
    state = get_state(request)
    if state is None or state["step"] != PAIRING or not state.get("qr"):
        return None
    try:
        return backends.get_backend().qr_code_image(state["pairing_id"])
    except backends.client_errors():
        return None


def _poll_pairing(request: HttpRequest, state: dict[str, Any]) -> Result:
    pairing_id = state.get("pairing_id")
    if not pairing_id:
        return _describe(state)
    backend = backends.get_backend()

    def fetch() -> dict[str, Any]:
        pairing = backend.pairing_status(pairing_id)
        return {
            "id": getattr(pairing, "id", None),
            "pending": bool(pairing.pending),
            "enabled": bool(pairing.enabled),
            "deactivated": bool(getattr(pairing, "deactivated", False)),
            "user_name": getattr(pairing, "user_name", None),
        }

    answer = _cached_upstream(state, f"pairing:{pairing_id}", fetch)
    if answer is None or "error" in answer or answer["pending"]:
        return _describe(state)
    user = _load_user_for(request, state)
    if user is None:
        return _end(request, state, REFUSED)
    if not answer["enabled"] or answer["deactivated"]:
        return _end(request, state, DENIED, _("The pairing was refused on the phone."), user=user)

    class _Pairing:  # the status we already read, for complete_pairing()
        id = pairing_id
        enabled = True
        pending = False
        user_name = answer.get("user_name")

    try:
        backend.complete_pairing(user, pairing_id, request=request, pairing=_Pairing())
    except backends.PairingMismatchError:
        return _end(request, state, REFUSED, _("That pairing does not belong to this account."))
    state = dict(
        state,
        step=START,
        pairing_id=None,
        qr=False,
        why="",
        step_at=time.time(),
        attempt=state.get("attempt", 0) + 1,
    )
    _save(request, state)
    return Result(
        START,
        _("Your phone is paired. Now approve the login."),
        redirect=pending_url(),
        state=state,
    )


# --------------------------------------------------------------------------- cookies


def apply_cookies(request: HttpRequest, response: HttpResponse) -> HttpResponse:
    """Set or clear the cookies this request decided on (terminal id, pending hint)."""
    terminal.apply_cookie(request, response)
    hint = getattr(request, "_toopher_hint", None)
    if hint == "set":
        response.set_cookie(
            HINT_COOKIE,
            "1",
            max_age=max_age(),
            path="/",
            secure=request.is_secure(),
            httponly=True,
            samesite="Lax",
        )
    elif hint == "clear" and HINT_COOKIE in request.COOKIES:
        response.delete_cookie(HINT_COOKIE, path="/", samesite="Lax")
    request._toopher_hint = None  # type: ignore[attr-defined]
    return response
