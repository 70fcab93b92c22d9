"""The pending-login state machine: the only place that decides what happens next.

Steps (:class:`~..state.Step`): ``start`` → (``name_terminal``) → ``pushed`` → a final
:class:`~..state.Status`; ``pair``/``pairing`` when a phone must be paired first;
``failed`` when Toopher failed and ``FAIL_MODE`` is closed. Every public function
takes the request, returns a :class:`~.base.Result`, and reads the pending login from
the session only (never an id from the client).
"""

from __future__ import annotations

import logging
import time
from typing import Any

from django.http import HttpRequest

from ...app_settings import app_settings
from .. import cookies, events, failures, ratelimit, redirects, state, upstream, verification
from ..cache import CacheUnavailable, get_cache
from ..failures import Failure
from ..modes import get_mode, user_name
from ..state import PendingLogin, Status, Step
from . import grant, pairing
from .base import (
    Result,
    describe,
    end,
    message,
    pending_user,
    to_step,
    wait_text,
    with_live_pending,
)
from .terminals import find_terminal, touch_terminal, usable_terminal_id

logger = logging.getLogger("django_toopher")

_CACHE_PREFIX = "django_toopher:push:"
#: Seconds a request may spend around its call to Toopher (the pairing, the cache).
_SEND_MARGIN = 5


def _lock_key(pending: PendingLogin) -> str:
    """One push per attempt: the key is added, holding the time the push was begun."""
    return f"{_CACHE_PREFIX}lock:{pending.id}:{pending.attempt}"


def send_deadline() -> float:
    """Seconds one push may take at most: the client's connect and read timeouts, and
    a margin. A push begun longer ago that left no request id never will."""
    timeout = app_settings.TIMEOUT
    connect, read = timeout if isinstance(timeout, tuple) else (timeout, timeout)
    return connect + read + _SEND_MARGIN


def _request_key(pending: PendingLogin) -> str:
    return f"{_CACHE_PREFIX}request:{pending.id}:{pending.attempt}"


@with_live_pending
def advance(request: HttpRequest, pending: PendingLogin) -> Result:
    """The pending page (GET): send the one push if none is out yet."""
    if pending.step is Step.START:
        return _start(request, pending)
    return _poll(request, pending)


def poll(request: HttpRequest) -> Result:
    """The status endpoints of the page and of the JSON API (and the no-JS "check now"
    button). A poll that finds nothing to poll leaves the session cookie alone
    (:func:`~..cookies.spare_session_cookie`: it may have lost a race with a grant)."""
    result = _poll_live(request)
    if result.status is Status.NONE:
        cookies.spare_session_cookie(request)
    return result


@with_live_pending
def _poll_live(request: HttpRequest, pending: PendingLogin) -> Result:
    return _poll(request, pending)


@with_live_pending
def cancel(request: HttpRequest, pending: PendingLogin) -> Result:
    return end(request, pending, Status.CANCELLED)


@with_live_pending
def retry(request: HttpRequest, pending: PendingLogin) -> Result:
    """After a failure (FAIL_MODE closed): go back to ``start`` for a new push."""
    if pending.step is not Step.FAILED:
        return describe(pending)
    pending = pending.next_attempt(Step.START)
    state.save(request, pending)
    return Result(step=Step.START, redirect=redirects.pending_url(), pending=pending)


# -- the push ---------------------------------------------------------------------------


def _adopt_request(request: HttpRequest, pending: PendingLogin) -> PendingLogin | None:
    """A concurrent request of this session already sent the push: take its id."""
    try:
        request_id, code = verification.unpack(get_cache().get(_request_key(pending)))
    except CacheUnavailable:
        return None
    if not request_id:
        return None
    pending = pending.but(step=Step.PUSHED, request_id=request_id, verification_code=code)
    state.save(request, pending)
    return pending


def _sender_lost(pending: PendingLogin) -> bool:
    """This attempt's push was begun longer ago than one push can take, and left no
    request id: the request sending it ended without a word (its process was killed)."""
    try:
        begun = get_cache().get(_lock_key(pending))
    except CacheUnavailable:
        return False
    return isinstance(begun, float) and time.time() - begun > send_deadline()


def _sent_elsewhere(request: HttpRequest, pending: PendingLogin) -> PendingLogin | Result:
    """``start``, and this attempt's push lock is taken: the push another request sent
    (adopted), else the attempt failed if its sender was lost (fail closed: nothing is
    sent again for it; the user may retry, a new attempt), else that sender is at work."""
    adopted = _adopt_request(request, pending)
    if adopted is not None:
        return adopted
    if _sender_lost(pending):
        logger.warning("django_toopher: the push of a login was begun but never recorded; "
                       "the attempt failed (user %s may retry)", pending.user)
        events.emit(events.Kind.ERROR, user=pending_user(request, pending), request=request,
                    action=pending.action, detail="push begun, never recorded")
        return to_step(request, pending, Step.FAILED, message("busy"))
    return describe(pending)


def _remember_request(pending: PendingLogin, request_id: str, code: str | None) -> None:
    """Let concurrent tabs adopt the push (and its verification code); the push is out
    either way (the session records it below), so a cache failure here changes nothing
    for this login."""
    try:
        get_cache().set(_request_key(pending), verification.pack(request_id, code),
                        timeout=app_settings.PENDING_MAX_AGE)
    except CacheUnavailable:
        logger.warning("django_toopher: the cache failed after a push; tabs cannot adopt it")


def _release_lock(pending: PendingLogin) -> None:
    """No request id came back: a later visit (or retry) may send."""
    try:
        get_cache().delete(_lock_key(pending))
    except CacheUnavailable:
        pass  # the lock expires by itself


def _with_terminal(request: HttpRequest, pending: PendingLogin, user: Any) -> PendingLogin:
    """``pending`` with this browser's terminal id and its known name."""
    wanted = cookies.read_terminal_id(request) or pending.terminal
    terminal_id = usable_terminal_id(user, wanted)
    cookies.want_terminal_id(request, terminal_id)
    known = find_terminal(user, terminal_id)
    name = known.name if known else ""
    if pending.terminal != terminal_id or pending.terminal_name != name:
        pending = pending.but(terminal=terminal_id, terminal_name=name)
    return pending


def _start(request: HttpRequest, pending: PendingLogin) -> Result:
    user = pending_user(request, pending)
    if user is None:
        return end(request, pending, Status.REFUSED, message("account_cannot_log_in"))
    mode = get_mode()
    if pending.is_login and mode.knows_pairing_locally and not mode.is_paired(user):
        return _unpaired(request, pending, user, why="not paired")
    pending = _with_terminal(request, pending, user)
    if not pending.terminal_name and mode.knows_pairing_locally:
        return to_step(request, pending, Step.NAME_TERMINAL)
    cache = get_cache()  # a cache that fails raises CacheUnavailable: no push (closed)
    if not cache.add(_lock_key(pending), time.time(), timeout=app_settings.PENDING_MAX_AGE):
        found = _sent_elsewhere(request, pending)
        return found if isinstance(found, Result) else describe(found)
    sent: tuple[str, str | None] | Result | None = None
    try:
        sent = _send(request, pending, user)
    finally:
        if not isinstance(sent, tuple):
            # No request id came back: refused, or the database or the cache failed
            # half-way (the 503 page says try again). A later visit may send.
            _release_lock(pending)
    if isinstance(sent, Result):
        return sent
    return _push(request, pending, user, *sent)


def _send(
    request: HttpRequest, pending: PendingLogin, user: Any
) -> tuple[str, str | None] | Result:
    """The push limit, then the one push: its request id and verification code (number
    matching, else None), or how the attempt ended."""
    if not ratelimit.allow_push(pending.user):
        events.emit(events.Kind.RATE_LIMITED, user=user, request=request, action=pending.action)
        wait = wait_text(ratelimit.retry_after(ratelimit.push_key(pending.user)))
        return end(request, pending, Status.RATE_LIMITED, message("push_limit", wait=wait),
                   user=user)
    try:
        sent = get_mode().authenticate(
            user,
            terminal_id=pending.terminal or "",
            terminal_name=pending.terminal_name or app_settings.DEFAULT_TERMINAL_NAME,
            action=pending.action,
            automation_allowed=pending.is_login and app_settings.LOGIN_AUTOMATION_ALLOWED,
        )
    except failures.CLIENT_ERRORS as exc:
        return refuse_for_error(request, pending, user, exc)
    except ValueError as exc:  # the client refused its settings (bad URL, empty key)
        return handle_refusal(request, pending, user, Failure.REFUSED,
                        f"configuration: {type(exc).__name__}")
    if sent is None:
        return handle_refusal(request, pending, user, Failure.UNKNOWN_USER, "no pairing")
    request_id = getattr(sent, "id", None)
    if not isinstance(request_id, str) or not request_id:
        return handle_refusal(request, pending, user, Failure.OUTAGE, "no request id in the answer")
    return request_id, verification.code_of(sent)


def _push(
    request: HttpRequest, pending: PendingLogin, user: Any, request_id: str, code: str | None
) -> Result:
    """The push is out: record it with its verification code (the lock stays taken:
    this attempt never sends again)."""
    _remember_request(pending, request_id, code)
    pending = pending.but(step=Step.PUSHED, request_id=request_id, verification_code=code)
    state.save(request, pending)
    touch_terminal(user, pending.terminal)
    events.emit(events.Kind.REQUESTED, user=user, request=request, action=pending.action,
                terminal_name=pending.terminal_name)
    return describe(pending)


# -- when Toopher says no -----------------------------------------------------------------


def _unpaired(request: HttpRequest, pending: PendingLogin, user: Any, *, why: str) -> Result:
    if not pending.is_login:
        return grant.not_configured(request, pending, user)
    if app_settings.REQUIRE_ENROLLMENT:
        return to_step(request, pending.but(repair=False, pairing=None), Step.PAIR)
    return grant.let_in(request, pending, user, fail_open=False, why=why)


def _deactivated(request: HttpRequest, pending: PendingLogin, user: Any, detail: str) -> Result:
    if pending.is_login and app_settings.ALLOW_REPAIR:
        pending = pending.but(repair=True, pairing=None)
        return to_step(request, pending, Step.PAIR, message("repair"))
    events.emit(events.Kind.ERROR, user=user, request=request, detail=detail)
    text = message("deactivated_login" if pending.is_login else "deactivated_action")
    return end(request, pending, Status.REFUSED, text, user=user)


def _failed(
    request: HttpRequest, pending: PendingLogin, user: Any, failure: Failure, detail: str
) -> Result:
    if failure is Failure.OUTAGE and pending.is_login and app_settings.FAIL_MODE == "open":
        logger.warning("django_toopher: Toopher failed (%s); FAIL_MODE is open, letting "
                       "user %s in", detail, pending.user)
        return grant.let_in(request, pending, user, fail_open=True, why=detail)
    events.emit(events.Kind.ERROR, user=user, request=request, action=pending.action,
                detail=detail)
    text = message("toopher_refused") if failure is Failure.REFUSED else ""
    return to_step(request, pending, Step.FAILED, text)


def refuse_for_error(
    request: HttpRequest, pending: PendingLogin, user: Any, exc: BaseException
) -> Result:
    """:func:`handle_refusal` for an exception raised by the client."""
    return handle_refusal(request, pending, user, failures.classify(exc), failures.describe(exc))


def handle_refusal(
    request: HttpRequest, pending: PendingLogin, user: Any, failure: Failure, detail: str
) -> Result:
    if failure is Failure.TERMINAL_UNKNOWN:
        return to_step(request, pending, Step.NAME_TERMINAL)
    if failure is Failure.DISABLED:
        if pending.is_login:
            return grant.let_in(request, pending, user, fail_open=False,
                                why="disabled at Toopher (704)")
        return grant.not_configured(request, pending, user)
    if failure is Failure.UNKNOWN_USER:
        return _unpaired(request, pending, user, why="not paired (705)")
    if failure is Failure.DEACTIVATED:
        return _deactivated(request, pending, user, detail)
    return _failed(request, pending, user, failure, detail)


# -- polling ----------------------------------------------------------------------------------


def _poll(request: HttpRequest, pending: PendingLogin) -> Result:
    if pending.step is Step.START:
        found = _sent_elsewhere(request, pending)
        if isinstance(found, Result):
            return found
        pending = found
    if pending.step is Step.PUSHED:
        return _poll_push(request, pending)
    if pending.step is Step.PAIRING:
        return poll_pairing(request, pending)
    return describe(pending)


def _fetch_auth(request_id: str) -> dict[str, Any]:
    auth = get_mode().client.get_authentication_status(request_id)
    answer = upstream.snapshot(auth, "pending", "granted", "automated")
    answer["reason"] = str(getattr(auth, "reason", "") or "")[:200]
    answer["otp"] = getattr(auth, "reason_code", 0) == 708  # the phone asks for a code
    return answer


def _poll_push(request: HttpRequest, pending: PendingLogin) -> Result:
    request_id = pending.request_id
    if not request_id:
        return describe(pending)
    answer = upstream.cached(f"auth:{pending.id}", lambda: _fetch_auth(request_id))
    if answer is None or (answer.get("id") and answer["id"] != request_id):
        return describe(pending)
    if "error" in answer:
        return describe(pending, message("still_waiting"))
    if answer["pending"]:
        return describe(pending, otp_required=answer.get("otp", False))
    return conclude(request, pending, answer)


def conclude(request: HttpRequest, pending: PendingLogin, answer: dict[str, Any]) -> Result:
    """A final answer from the phone (poll or OTP): grant once, or end the attempt."""
    user = pending_user(request, pending)
    if user is None:
        return end(request, pending, Status.REFUSED, message("account_cannot_log_in"))
    owner = answer.get("user_name")
    granted = bool(answer.get("granted"))
    reason = answer.get("reason", "")
    if granted and owner is not None and str(owner) != user_name(user):
        granted, reason = False, "request of another user"
    if granted and not pending.is_login and answer.get("automated"):
        granted, reason = False, "automated answer to an action"
    if not granted:
        return end(request, pending, Status.DENIED, user=user, reason=reason)
    return grant.grant(request, pending, user, automated=bool(answer.get("automated")))


# -- pairing inside a pending login ------------------------------------------------------------


@with_live_pending
def start_pairing(request: HttpRequest, pending: PendingLogin, phrase: str | None) -> Result:
    """Pair by phrase (or by QR code when ``phrase`` is None) inside the pending login."""
    if pending.step not in (Step.PAIR, Step.PAIRING):
        return describe(pending)
    user = pending_user(request, pending)
    if user is None:
        return end(request, pending, Status.REFUSED)
    attempt, problem = pairing.start(user, phrase)
    if attempt is None:
        return describe(pending, problem, problem=problem.code)
    pending = pending.next_attempt(Step.PAIRING, pairing=attempt.serialize())
    state.save(request, pending)
    return describe(pending)


def _attempt(request: HttpRequest, pending: PendingLogin) -> pairing.PairingAttempt | None:
    user = pending_user(request, pending)
    return None if user is None else pairing.PairingAttempt.deserialize(pending.pairing, user)


def poll_pairing(request: HttpRequest, pending: PendingLogin) -> Result:
    user = pending_user(request, pending)
    attempt = _attempt(request, pending)
    if user is None or attempt is None:
        return end(request, pending, Status.REFUSED, user=user)
    found = pairing.poll(request, user, attempt)
    if not found.final:
        return describe(pending)
    if found.state is pairing.PairingState.PAIRED:
        pending = pending.next_attempt(Step.START, pairing=None, repair=False)
        state.save(request, pending)
        return Result(step=Step.START, message=message("paired_login"),
                      redirect=redirects.pending_url(), pending=pending)
    status = Status.DENIED if found.state is pairing.PairingState.DENIED else Status.REFUSED
    if found.state is pairing.PairingState.EXPIRED:
        status = Status.EXPIRED
    return end(request, pending, status, found.message, user=user)


def qr_image(request: HttpRequest) -> bytes | None:
    """The QR code of this session's pairing (the id comes from the session only)."""
    pending = state.load(request)
    if pending is None or pending.step is not Step.PAIRING:
        return None
    return pairing.qr_image(_attempt(request, pending))
