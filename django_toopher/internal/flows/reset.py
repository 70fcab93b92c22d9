"""A lost phone and lost recovery codes: a reset link sent to the account's email.

Asked from a pending *login* (after the password step), :func:`request_reset` sends:

* stored mode: Toopher's own reset link (P7 ``pairings/{id}/send_reset_link``). Toopher
  mails it; opening it deactivates the pairing at Toopher, and the next login meets
  707 and pairs again (``ALLOW_REPAIR``).
* zero-storage mode: a link of this site, signed with :mod:`django.core.signing` (a
  salt of its own), valid ``RESET_LINK_MAX_AGE`` seconds, bound to the user and to a
  fingerprint of the password hash and email address (a change of either kills it).
  :func:`use_link`, opened in a session whose pending login is that user's (the
  password step again), unpairs the user (:func:`.pairing.unpair`: U5 ``users/reset``
  at Toopher, then here), once, and the login goes on to pairing, or in without a
  phone where enrollment is optional.

The answer is the same whether or not a mail went out (no email address, no pairing,
the limit reached, Toopher failed), and takes at least :data:`ANSWER_SECONDS`, so it
does not tell whether the account has a phone or an address. Every mail sent and every
reset is audited.
"""

from __future__ import annotations

import dataclasses
import logging
import secrets
import time
from typing import Any

from django.core import signing
from django.core.mail import send_mail
from django.http import HttpRequest
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.crypto import constant_time_compare, salted_hmac

from ...app_settings import app_settings
from .. import claims, events, failures, ratelimit, redirects, state, upstream
from ..cache import CacheUnavailable
from ..cancel import cancel_push
from ..modes import get_mode, get_profile
from ..state import PendingLogin, Status, Step
from . import pairing
from .base import Result, describe, message, pending_user, with_live_pending
from .grant import let_in
from .recovery import security_url

logger = logging.getLogger("django_toopher")

SALT = "django_toopher.reset_link"
#: What may go wrong while sending: Toopher, or the mail server (SMTP and sockets).
_SEND_ERRORS: tuple[type[BaseException], ...] = (*failures.CLIENT_ERRORS, OSError)
#: Reset mails per user and window: enough for a typo, too few to flood a mailbox.
SEND_LIMIT = 3
SEND_WINDOW = 3600
#: Every answer to a request takes at least this long (s), mail or no mail.
ANSWER_SECONDS = 1.0
#: Longest token accepted (a signed link is about 150 characters).
TOKEN_MAX = 500


@with_live_pending
def request_reset(request: HttpRequest, pending: PendingLogin) -> Result:
    """Send the reset link to the pending user's email, if there is one to send; the
    answer is the same either way."""
    if not pending.is_login:
        return describe(pending, message("recovery_login_only"), problem="conflict")
    started = time.monotonic()
    user = pending_user(request, pending)
    if user is not None:
        _send(request, user)
    time.sleep(max(0.0, ANSWER_SECONDS - (time.monotonic() - started)))
    return describe(pending, message("reset_link_sent"))


def email_of(user: Any) -> str:
    """The user's email address ('' when the user model has none)."""
    try:
        field = user.get_email_field_name()
    except AttributeError:
        return ""
    value = getattr(user, field, "")
    return value if isinstance(value, str) else ""


def _send(request: HttpRequest, user: Any) -> None:
    """Mail the link when the user has an address and a pairing, within the limit."""
    email = email_of(user)
    if not email:
        return
    try:
        if not ratelimit.hit(f"reset-email:{user.pk}", SEND_LIMIT, SEND_WINDOW):
            return
    except CacheUnavailable:  # fail closed, and answer as always (no "busy" that tells)
        logger.warning("django_toopher: the cache failed; no reset link was sent")
        return
    mode = get_mode()
    try:
        if mode.knows_pairing_locally:
            profile = get_profile(user)
            if profile is None or not profile.pairing_id:
                return
            mode.client.email_pairing_reset_link(profile.pairing_id, email)
            sender = "toopher"
        else:
            if not mode.is_paired(user):
                return
            _mail(request, user, email)
            sender = "site"
    except _SEND_ERRORS as exc:
        logger.warning("django_toopher: could not send a reset link to user %s: %s",
                       user.pk, type(exc).__name__)
        return
    events.emit(events.Kind.RESET_LINK_SENT, user=user, request=request, detail=sender)


def _fingerprint(user: Any) -> str:
    """Changes when the user's password or email address changes."""
    value = f"{user.pk}:{getattr(user, 'password', '')}:{email_of(user)}"
    return salted_hmac(SALT, value, algorithm="sha256").hexdigest()[:32]


def make_token(user: Any) -> str:
    """A signed, single-use reset token for ``user``."""
    data = {"u": user._meta.pk.value_to_string(user), "n": secrets.token_urlsafe(16),
            "f": _fingerprint(user)}
    return signing.dumps(data, salt=SALT, compress=True)


def _mail(request: HttpRequest, user: Any, email: str) -> None:
    link = request.build_absolute_uri(reverse("django_toopher:pending_reset",
                                              args=[make_token(user)]))
    context = {"user": user, "link": link, "site": request.get_host(),
               "hours": max(1, app_settings.RESET_LINK_MAX_AGE // 3600)}
    subject = render_to_string("django_toopher/recovery/reset_email_subject.txt", context)
    body = render_to_string("django_toopher/recovery/reset_email.txt", context)
    send_mail(" ".join(subject.split()), body, None, [email])


def read_token(token: Any) -> dict[str, str] | None:
    """The data of a valid, unexpired token, or None (tampered, expired, malformed)."""
    if not isinstance(token, str) or not token or len(token) > TOKEN_MAX:
        return None
    try:
        data = signing.loads(token, salt=SALT, max_age=app_settings.RESET_LINK_MAX_AGE)
    except signing.BadSignature:  # SignatureExpired too
        return None
    if not isinstance(data, dict) or not all(isinstance(data.get(k), str) for k in ("u", "n", "f")):
        return None
    return data


def link_owner_matches(request: HttpRequest, token: Any) -> bool:
    """Whether ``token`` is valid and this session's pending login is its user's."""
    pending = state.load(request)
    data = read_token(token)
    if pending is None or not pending.is_login or pending.expired() or data is None:
        return False
    user = pending_user(request, pending)
    return _belongs(data, pending, user)


def _belongs(data: dict[str, str], pending: PendingLogin, user: Any) -> bool:
    return (user is not None and constant_time_compare(data["u"], pending.user)
            and constant_time_compare(data["f"], _fingerprint(user)))


@with_live_pending
def use_link(request: HttpRequest, pending: PendingLogin, token: Any) -> Result:
    """Reset the pending user's pairing at Toopher with an emailed link (once)."""
    data = read_token(token)
    user = pending_user(request, pending) if pending.is_login else None
    if data is None or not _belongs(data, pending, user):
        return describe(pending, message("reset_link_invalid"), problem="invalid_link")
    key = f"reset:{data['n']}"
    if not claims.claim(key):
        return describe(pending, message("reset_link_invalid"), problem="invalid_link")
    try:  # the one unpairing (Toopher first): audits `unpaired`, sends toopher_unpaired
        pairing.unpair(user, request=request)
    except failures.CLIENT_ERRORS:
        claims.release(key)  # nothing changed: the link may be used again
        return describe(pending, message("unreachable_retry"), problem="toopher_unavailable")
    events.emit(events.Kind.RESET_BY_EMAIL, user=user, request=request)
    upstream.forget(f"auth:{pending.id}")
    cancel_push(pending.request_id)
    return _after_reset(request, pending, user)


def _after_reset(request: HttpRequest, pending: PendingLogin, user: Any) -> Result:
    """Pair a new phone (enrollment required), else log in without one."""
    if app_settings.REQUIRE_ENROLLMENT:
        pending = pending.next_attempt(Step.PAIR, repair=False, pairing=None, request_id=None)
        state.save(request, pending)
        return Result(step=Step.PAIR, message=message("reset_done_pair"),
                      redirect=redirects.pending_url(), pending=pending)
    result = let_in(request, pending, user, fail_open=False, why="pairing reset by email")
    if result.status is not Status.GRANTED:
        return result
    return dataclasses.replace(result, message=message("reset_done_logged_in"),
                               redirect=security_url())

