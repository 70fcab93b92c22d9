"""The one pairing flow, used at login (``REQUIRE_ENROLLMENT``, 705, 707) and on the
security page alike: the same rate limit, the same time to live, the same checks, and
a pairing that completes once however many tabs poll it.

A :class:`PairingAttempt` is what the caller keeps (inside the pending login, or under
``session[PAIRING]`` on the security page); the pairing id never travels to the
browser. :func:`start` begins one, :func:`poll` looks at it (at most one call to
Toopher per interval, shared by all tabs) and records it when the phone allows.
"""

from __future__ import annotations

import logging
import time
from dataclasses import asdict, dataclass
from enum import Enum
from typing import Any

from django.db import DatabaseError, transaction
from django.http import HttpRequest
from django.utils.crypto import salted_hmac

import toopher

from ...app_settings import app_settings
from .. import events, failures, ratelimit, upstream
from ..cache import CacheUnavailable
from ..claims import claim
from ..modes import get_mode, user_name
from .base import message
from .terminals import forget_all_terminals

logger = logging.getLogger("django_toopher")

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


class PairingState(str, Enum):
    PENDING = "pending"
    UNAVAILABLE = "unavailable"
    PAIRED = "paired"
    DENIED = "denied"
    EXPIRED = "expired"
    FAILED = "failed"
    NONE = "none"


FINAL_STATES = frozenset(
    {PairingState.PAIRED, PairingState.DENIED, PairingState.EXPIRED, PairingState.FAILED,
     PairingState.NONE}
)


@dataclass(frozen=True)
class PairingAttempt:
    """A pairing waiting for the phone, bound to one user."""

    id: str
    qr: bool
    started: float
    user: str  # the user's pk as a string (JSON-safe for UUID keys too)

    def expired(self, now: float | None = None) -> bool:
        now = time.time() if now is None else now
        return now - self.started > app_settings.PAIRING_TTL

    def remaining_seconds(self) -> int:
        return max(0, int(self.started + app_settings.PAIRING_TTL - time.time()))

    def serialize(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def deserialize(cls, data: Any, user: Any) -> PairingAttempt | None:
        """The attempt in ``data`` if it is well formed and ``user``'s, else None."""
        if not isinstance(data, dict):
            return None
        try:
            attempt = cls(id=data["id"], qr=bool(data["qr"]), started=data["started"],
                          user=data["user"])
        except (KeyError, TypeError):
            return None
        if (
            not isinstance(attempt.id, str)
            or not attempt.id
            or isinstance(attempt.started, bool)
            or not isinstance(attempt.started, int | float)
            or attempt.user != _pk(user)
        ):
            return None
        return attempt


@dataclass(frozen=True)
class PairingResult:
    state: PairingState
    message: str = ""

    @property
    def final(self) -> bool:
        return self.state in FINAL_STATES


def _pk(user: Any) -> str:
    return str(user._meta.pk.value_to_string(user))


class Problem(str):
    """Why a pairing did not start: the message to show, with a stable :attr:`code`
    (``rate_limited``, ``refused``, ``toopher_unavailable``) for the JSON API."""

    code: str

    def __new__(cls, text: str, code: str) -> Problem:
        made = super().__new__(cls, text)
        made.code = code
        return made


def _start_refused(exc: BaseException) -> Problem:
    if failures.is_outage(exc):
        return Problem(message("unreachable_nothing_changed"), "toopher_unavailable")
    if isinstance(exc, toopher.UserDisabledError):
        return Problem(message("pairing_user_disabled"), "refused")
    return Problem(message("pairing_phrase_refused"), "refused")


def start(user: Any, phrase: str | None) -> tuple[PairingAttempt | None, Problem]:
    """Start pairing ``user`` by ``phrase`` (or by QR code when None).

    Returns the attempt and an empty :class:`Problem`, or None and the problem that
    says why not (rate limit, Toopher's refusal or outage, a garbled answer).
    """
    try:
        allowed = ratelimit.allow_pairing(_pk(user))
    except CacheUnavailable:  # no limit to count against: fail closed
        return None, Problem(message("busy"), "service_unavailable")
    if not allowed:
        events.emit(events.Kind.RATE_LIMITED, user=user, detail="pairing")
        return None, Problem(message("pairing_rate_limited"), "rate_limited")
    client = get_mode().client
    try:
        if phrase is None:
            pairing = client.pair_qr(user_name(user))
        else:
            pairing = client.pair(phrase, user_name(user))
    except failures.CLIENT_ERRORS as exc:
        logger.warning("Starting a pairing failed for user pk=%s: %s", user.pk,
                       failures.describe(exc))
        return None, _start_refused(exc)
    pairing_id = getattr(pairing, "id", None)
    if not isinstance(pairing_id, str) or not pairing_id:
        return None, Problem(message("pairing_garbled"), "toopher_unavailable")
    return PairingAttempt(pairing_id, phrase is None, time.time(), _pk(user)), Problem("", "")


def _fetch(pairing_id: str) -> dict[str, Any]:
    pairing = get_mode().client.get_pairing_status(pairing_id)
    return upstream.snapshot(pairing, "pending", "enabled", "deactivated")


def _upstream_result(answer: dict[str, Any] | None) -> PairingResult | None:
    """The result an upstream answer decides without recording anything, if any."""
    if answer is None or answer.get("pending"):
        return PairingResult(PairingState.PENDING)
    if "error" in answer:
        if answer["error"] == failures.Failure.OUTAGE.value:
            return PairingResult(PairingState.UNAVAILABLE, message("pairing_unavailable"))
        return PairingResult(PairingState.FAILED, message("pairing_invalid"))
    if not answer["enabled"] or answer["deactivated"]:
        return PairingResult(PairingState.DENIED, message("pairing_denied"))
    return None


def poll(request: HttpRequest | None, user: Any, attempt: PairingAttempt) -> PairingResult:
    """Look at ``attempt``; record it once when the phone allowed it."""
    if attempt.expired():
        return PairingResult(PairingState.EXPIRED, message("pairing_expired"))
    answer = upstream.cached(f"pairing:{attempt.id}", lambda: _fetch(attempt.id))
    decided = _upstream_result(answer)
    if decided is not None:
        return decided
    assert answer is not None
    owner = answer.get("user_name")
    if owner is None or str(owner) != user_name(user):
        logger.warning("Pairing of another user refused for user pk=%s", user.pk)
        return PairingResult(PairingState.FAILED, message("pairing_mismatch"))
    try:
        with transaction.atomic():  # the claim and the local row together; no API call
            if not claim(claim_token(attempt.id)):
                # another tab (or instance) recorded this very pairing; its request
                # moves this session on, so this poll only keeps waiting
                return PairingResult(PairingState.PENDING)
            get_mode().store_pairing(user, attempt.id)
    except DatabaseError:
        return PairingResult(PairingState.PENDING)  # nothing recorded: the next poll retries
    events.emit(events.Kind.PAIRED, user=user, request=request)
    return PairingResult(PairingState.PAIRED)


def claim_token(pairing_id: str) -> str:
    """The single-use token of a pairing: a keyed hash, so that no pairing id is kept
    in the database (zero-storage mode keeps none)."""
    digest = salted_hmac("django_toopher.pairing-claim", pairing_id, algorithm="sha256")
    return f"pairing:{digest.hexdigest()[:48]}"


def qr_image(attempt: PairingAttempt | None) -> bytes | None:
    """The PNG of a QR pairing, or None (not a QR pairing, Toopher failed, not a PNG)."""
    if attempt is None or not attempt.qr:
        return None
    try:
        image = get_mode().client.get_qr_code_image(attempt.id)
    except failures.CLIENT_ERRORS as exc:
        logger.warning("QR image failed: %s", failures.describe(exc))
        return None
    if not isinstance(image, bytes) or not image.startswith(PNG_MAGIC):
        return None
    return image


def unpair(user: Any, *, request: HttpRequest | None = None, actor: Any = None) -> None:
    """Remove the user's pairing at Toopher (``reset_user``), then here; record it.

    Raises the client's errors when Toopher fails; nothing local has changed then."""
    try:
        get_mode().client.reset_user(user_name(user))
    except toopher.UserUnknownError:
        pass  # Toopher never knew this user: nothing to reset there.
    get_mode().forget_pairing(user)
    forget_all_terminals(user, request=request, actor=actor, strict=False)
    events.emit(
        events.Kind.ADMIN_RESET if actor is not None else events.Kind.UNPAIRED,
        user=user,
        request=request,
        actor=actor,
    )
