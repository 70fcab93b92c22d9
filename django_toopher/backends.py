"""The two storage modes behind one interface.

* :class:`StoredIdBackend` keeps the pairing id on :class:`ToopherProfile` and
  authenticates with ``authenticate(pairing_id, ...)``.
* :class:`ZeroStorageBackend` keeps nothing but the signed terminal cookie and
  authenticates with ``authenticate_by_user_name(user_name, terminal_id, ...)``.

The Toopher error codes (704-707, 601, outages) become :class:`Outcome` kinds
here, so no Toopher exception leaks into the views or the flow's callers.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from django.contrib.auth import get_user_model
from django.core.exceptions import ImproperlyConfigured
from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone

import toopher

from . import audit, signals
from .client import get_client
from .conf import toopher_settings
from .models import AuditEvent, Terminal, ToopherProfile

logger = logging.getLogger("django_toopher")

STORED = "stored"
ZERO_STORAGE = "zero_storage"

#: Longest terminal name Toopher and our model accept.
TERMINAL_NAME_MAX = 100


class PairingMismatchError(ValueError):
    """The pairing is not an enabled pairing of this user (never trust a client's id)."""


# Outcome kinds of starting an authentication.
STARTED = "started"  # a push was sent; ``request_id`` is set
DISABLED = "disabled"  # 704: the user turned Toopher off: plain login
UNKNOWN_USER = "unknown_user"  # 705 (or no local pairing): pairing or plain login
TERMINAL_UNKNOWN = "terminal_unknown"  # 706: ask for a terminal name, then retry
DEACTIVATED = "deactivated"  # 707/601: re-pair or refuse
FAILURE = "failure"  # unreachable, slow, garbage, 5xx: FAIL_MODE decides
ERROR = "error"  # any other API error (bad credentials...): always refused


@dataclass(frozen=True)
class Outcome:
    """What happened when we asked Toopher to authenticate a user."""

    kind: str
    request_id: str | None = None
    detail: str = ""
    resource: Any = None

    @property
    def started(self) -> bool:
        return self.kind == STARTED


def classify_error(exc: BaseException) -> str:
    """Map an exception of the ``toopher`` client to an :class:`Outcome` kind."""
    if isinstance(exc, toopher.UserDisabledError):
        return DISABLED
    if isinstance(exc, toopher.UserUnknownError):
        return UNKNOWN_USER
    if isinstance(exc, toopher.TerminalUnknownError):
        return TERMINAL_UNKNOWN
    if isinstance(exc, toopher.PairingDeactivatedError):
        return DEACTIVATED
    if isinstance(exc, toopher.ToopherTransportError | toopher.ToopherMalformedResponseError):
        return FAILURE
    if isinstance(exc, toopher.ToopherApiError):
        return FAILURE if getattr(exc, "is_service_failure", False) else ERROR
    return FAILURE


#: Exceptions the client may raise (anything else is a programming error).
def client_errors() -> tuple[type[BaseException], ...]:
    return tuple(
        cls
        for cls in (
            getattr(toopher, "ToopherApiError", None),
            getattr(toopher, "ToopherTransportError", None),
            getattr(toopher, "ToopherMalformedResponseError", None),
        )
        if cls is not None
    )


def describe_error(exc: BaseException) -> str:
    """A short description safe for logs and the audit trail (no secrets, no URLs)."""
    code = getattr(exc, "error_code", None)
    status = getattr(exc, "status_code", None)
    parts = [type(exc).__name__]
    if status:
        parts.append(f"http={status}")
    if code:
        parts.append(f"code={code}")
    return " ".join(parts)


class BaseBackend:
    """Operations shared by both modes. Use :func:`get_backend` to get one."""

    mode = ""

    @property
    def client(self) -> toopher.ToopherApi:
        return get_client()

    # -- users and profiles -------------------------------------------------

    @staticmethod
    def user_name(user: Any) -> str:
        """The name Toopher knows the user by: the user model's USERNAME_FIELD value."""
        return str(user.get_username())

    @staticmethod
    def get_profile(user: Any) -> ToopherProfile | None:
        return ToopherProfile.objects.filter(user=user).first()

    @staticmethod
    def profile_for_update(user: Any) -> ToopherProfile:
        profile, _ = ToopherProfile.objects.get_or_create(user=user)
        return profile

    def login_requirement(self, user: Any) -> str | None:
        """What a login of ``user`` needs: ``"approve"``, ``"pair"`` or None (plain)."""
        raise NotImplementedError

    # -- pairing ------------------------------------------------------------

    def start_pairing(self, user: Any, pairing_phrase: str | None = None) -> Any:
        """Start pairing by phrase, or by QR code when ``pairing_phrase`` is None."""
        if pairing_phrase is None:
            return self.client.pair_qr(self.user_name(user))
        return self.client.pair(pairing_phrase, self.user_name(user))

    def pairing_status(self, pairing_id: str) -> Any:
        return self.client.get_pairing_status(pairing_id)

    def qr_code_image(self, pairing_id: str) -> bytes:
        return self.client.get_qr_code_image(pairing_id)

    def check_pairing(self, user: Any, pairing: Any) -> None:
        """Raise :class:`PairingMismatchError` unless ``pairing`` is ``user``'s and enabled."""
        if not getattr(pairing, "enabled", False) or getattr(pairing, "pending", False):
            raise PairingMismatchError("The pairing is not enabled.")
        owner = getattr(pairing, "user_name", None)
        if owner is None or str(owner) != self.user_name(user):
            raise PairingMismatchError("The pairing belongs to another user.")

    def complete_pairing(
        self,
        user: Any,
        pairing_id: str,
        request: HttpRequest | None = None,
        pairing: Any = None,
    ) -> Any:
        """Record an enabled pairing of ``user``; audit PAIRED and send ``toopher_paired``.

        ``pairing`` is the status the caller already read; if it is None the status
        is read again. Raises :class:`PairingMismatchError` for another user's or
        an unfinished pairing, and changes nothing then.
        """
        if pairing is None or getattr(pairing, "id", pairing_id) != pairing_id:
            pairing = self.pairing_status(pairing_id)
        self.check_pairing(user, pairing)
        self._store_pairing(user, pairing_id)
        audit.record(AuditEvent.Kind.PAIRED, user=user, request=request)
        signals.toopher_paired.send(sender=type(user), user=user, request=request)
        return pairing

    def _store_pairing(self, user: Any, pairing_id: str) -> None:
        """Stored mode keeps the id; zero-storage mode keeps nothing."""

    def unpair(self, user: Any, request: HttpRequest | None = None, actor: Any = None) -> None:
        """Remove the user's pairing here and at Toopher (``reset_user``)."""
        try:
            self.client.reset_user(self.user_name(user))
        except toopher.UserUnknownError:
            pass  # Toopher never knew this user: nothing to reset there.
        self._forget_pairing(user)
        audit.record(
            AuditEvent.Kind.ADMIN_RESET if actor is not None else AuditEvent.Kind.UNPAIRED,
            user=user,
            request=request,
            actor=actor,
        )
        signals.toopher_unpaired.send(sender=type(user), user=user, request=request, actor=actor)

    def _forget_pairing(self, user: Any) -> None:
        """Stored mode clears the id; zero-storage mode has nothing to clear."""

    def is_paired(self, user: Any) -> bool:
        raise NotImplementedError

    def set_enabled(
        self,
        user: Any,
        enabled: bool,
        request: HttpRequest | None = None,
        actor: Any = None,
    ) -> None:
        """Turn Toopher on or off for ``user`` (profile flag + ``set_toopher_enabled_for_user``)."""
        try:
            self.client.set_toopher_enabled_for_user(self.user_name(user), bool(enabled))
        except toopher.UserUnknownError:
            pass  # not known at Toopher yet: the local flag is what counts.
        profile = self.profile_for_update(user)
        profile.enabled = bool(enabled)
        profile.save(update_fields=["enabled", "updated_at"])
        kind = AuditEvent.Kind.ADMIN_ENABLED if enabled else AuditEvent.Kind.ADMIN_DISABLED
        audit.record(
            kind,
            user=user,
            request=request,
            actor=actor,
            detail="" if actor is not None else "no acting account recorded",
        )
        if not enabled:
            signals.toopher_disabled.send(
                sender=type(user), user=user, request=request, actor=actor
            )

    # -- terminals ----------------------------------------------------------

    @staticmethod
    def clean_terminal_name(name: str) -> str:
        cleaned = " ".join(str(name or "").split())
        if not cleaned or len(cleaned) > TERMINAL_NAME_MAX:
            raise ValueError("A terminal name has 1 to 100 characters.")
        return cleaned

    def find_terminal(self, user: Any, requester_terminal_id: str | None) -> Terminal | None:
        if not requester_terminal_id:
            return None
        return Terminal.objects.filter(
            user=user, requester_terminal_id=requester_terminal_id
        ).first()

    def name_terminal(
        self,
        user: Any,
        requester_terminal_id: str,
        name: str,
        request: HttpRequest | None = None,
    ) -> Terminal:
        """Give this browser (its cookie id) a friendly name, here and at Toopher."""
        name = self.clean_terminal_name(name)
        toopher_id = self._create_user_terminal(user, requester_terminal_id, name)
        with transaction.atomic():
            terminal, created = Terminal.objects.get_or_create(
                user=user,
                requester_terminal_id=requester_terminal_id,
                defaults={"name": name, "toopher_terminal_id": toopher_id},
            )
            if not created:
                terminal.name = name
                if toopher_id:
                    terminal.toopher_terminal_id = toopher_id
                terminal.save(update_fields=["name", "toopher_terminal_id"])
        audit.record(
            AuditEvent.Kind.TERMINAL_NAMED if created else AuditEvent.Kind.TERMINAL_RENAMED,
            user=user,
            request=request,
            terminal_name=name,
        )
        return terminal

    def _create_user_terminal(self, user: Any, requester_terminal_id: str, name: str) -> Any:
        return None

    def touch_terminal(self, terminal: Terminal | None) -> None:
        if terminal is not None and terminal.pk:
            Terminal.objects.filter(pk=terminal.pk).update(last_used_at=timezone.now())

    # -- authentication -----------------------------------------------------

    def start_authentication(
        self,
        user: Any,
        *,
        terminal_id: str,
        terminal_name: str,
        action: str,
        automation_allowed: bool,
    ) -> Outcome:
        """Send one push. Never raises a client error: returns an :class:`Outcome`."""
        try:
            resource = self._authenticate(
                user,
                terminal_id=terminal_id,
                terminal_name=terminal_name,
                action=action,
                automation_allowed=automation_allowed,
            )
        except client_errors() as exc:
            return Outcome(classify_error(exc), detail=describe_error(exc))
        except ValueError as exc:  # the client refused its settings (bad URL, empty key)
            return Outcome(ERROR, detail=f"configuration: {type(exc).__name__}")
        if resource is None:
            return Outcome(UNKNOWN_USER, detail="no pairing")
        request_id = getattr(resource, "id", None)
        if not request_id or not isinstance(request_id, str):
            return Outcome(FAILURE, detail="no request id in the answer")
        return Outcome(STARTED, request_id=request_id, resource=resource)

    def _authenticate(self, user: Any, **kwargs: Any) -> Any:
        raise NotImplementedError

    def authentication_status(self, request_id: str) -> Any:
        """The authentication request's state (raises the client's errors)."""
        return self.client.get_authentication_status(request_id)

    def authenticate_with_otp(self, request_id: str, otp: str) -> Any:
        """Answer the request with the one-time password (raises the client's errors)."""
        return self.client.authenticate_with_otp(request_id, otp)


class StoredIdBackend(BaseBackend):
    """Stored-ID mode: the pairing id lives on the user's :class:`ToopherProfile`."""

    mode = STORED

    def login_requirement(self, user: Any) -> str | None:
        profile = self.get_profile(user)
        if profile is not None and not profile.enabled:
            return None
        if profile is not None and profile.pairing_id:
            return "approve"
        return "pair" if toopher_settings.REQUIRE_ENROLLMENT else None

    def is_paired(self, user: Any) -> bool:
        profile = self.get_profile(user)
        return bool(profile and profile.pairing_id)

    def _store_pairing(self, user: Any, pairing_id: str) -> None:
        profile = self.profile_for_update(user)
        profile.pairing_id = pairing_id
        profile.paired_at = timezone.now()
        profile.save(update_fields=["pairing_id", "paired_at", "updated_at"])

    def _forget_pairing(self, user: Any) -> None:
        ToopherProfile.objects.filter(user=user).update(
            pairing_id=None, paired_at=None, updated_at=timezone.now()
        )

    def _authenticate(
        self,
        user: Any,
        *,
        terminal_id: str,
        terminal_name: str,
        action: str,
        automation_allowed: bool,
    ) -> Any:
        profile = self.get_profile(user)
        if profile is None or not profile.pairing_id:
            return None
        return self.client.authenticate(
            profile.pairing_id,
            terminal_name,
            action,
            terminal_name_extra=terminal_id,
            automation_allowed=automation_allowed,
        )


class ZeroStorageBackend(BaseBackend):
    """Zero-storage mode: Toopher knows the user by name; we keep only the terminal cookie."""

    mode = ZERO_STORAGE

    def login_requirement(self, user: Any) -> str | None:
        profile = self.get_profile(user)
        if profile is not None and not profile.enabled:
            return None
        # Only Toopher knows whether the user is paired: ask it at the pending page.
        return "approve"

    def is_paired(self, user: Any) -> bool:
        try:
            remote = self.client.get_user_by_name(self.user_name(user))
            pairings = self.client.get_user_pairings(remote.id)
        except toopher.UserUnknownError:
            return False
        return any(
            getattr(p, "enabled", False) and not getattr(p, "deactivated", False)
            for p in pairings
        )

    def _create_user_terminal(self, user: Any, requester_terminal_id: str, name: str) -> Any:
        terminal = self.client.create_user_terminal(
            self.user_name(user), name, requester_terminal_id
        )
        return getattr(terminal, "id", None)

    def _authenticate(
        self,
        user: Any,
        *,
        terminal_id: str,
        terminal_name: str,
        action: str,
        automation_allowed: bool,
    ) -> Any:
        return self.client.authenticate_by_user_name(
            self.user_name(user),
            terminal_id,
            action,
            automation_allowed=automation_allowed,
        )


_BACKENDS: dict[str, BaseBackend] = {
    STORED: StoredIdBackend(),
    ZERO_STORAGE: ZeroStorageBackend(),
}


def get_backend() -> BaseBackend:
    """The backend for ``TOOPHER["MODE"]`` (read on every call)."""
    mode = toopher_settings.MODE
    try:
        return _BACKENDS[mode]
    except KeyError:
        raise ImproperlyConfigured(
            f'TOOPHER["MODE"] must be "stored" or "zero_storage", not {mode!r}.'
        ) from None


def user_model() -> Any:
    return get_user_model()
