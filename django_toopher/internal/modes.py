"""The two storage modes: what is kept here, and which Toopher calls follow from it.

* :class:`StoredMode` keeps the pairing id on :class:`ToopherProfile` and
  authenticates with ``authenticate(pairing_id, ...)``.
* :class:`ZeroStorageMode` keeps nothing but the signed terminal cookie and
  authenticates with ``authenticate_by_user_name(user_name, terminal_id, ...)``.

Only what differs between the modes is here; the flows hold the rules. Every method
raises the client's errors (:data:`~.failures.CLIENT_ERRORS`) for the flow to handle.
"""

from __future__ import annotations

from enum import Enum
from typing import Any

from django.core.exceptions import ImproperlyConfigured
from django.utils import timezone

import toopher

from ..adapter import get_adapter
from ..app_settings import app_settings
from ..models import ToopherProfile
from .client import get_client

STORED = "stored"
ZERO_STORAGE = "zero_storage"


def user_name(user: Any) -> str:
    """The name Toopher knows ``user`` by (the adapter decides)."""
    return get_adapter().toopher_user_name(user)


def get_profile(user: Any) -> ToopherProfile | None:
    return ToopherProfile.objects.filter(user=user).first()


def _otp(otp: str | None) -> dict[str, str]:
    """The ``otp`` parameter of A1, when a one-time password is checked."""
    return {"otp": otp} if otp else {}


class Requirement(str, Enum):
    """What a login needs besides the password (a ``str`` enum, like
    :class:`~.state.Step`)."""

    APPROVE = "approve"  # an approval on the paired phone
    PAIR = "pair"  # a phone paired first (REQUIRE_ENROLLMENT)


class Mode:
    """What both modes share. Use :func:`get_mode` to get the configured one."""

    name = ""
    #: Whether a login of a user without a local pairing can still need approval.
    knows_pairing_locally = False

    @property
    def client(self) -> toopher.ToopherApi:
        return get_client()

    def login_requirement(self, user: Any) -> Requirement | None:
        """What a login of ``user`` needs: a :class:`Requirement`, or None (plain)."""
        raise NotImplementedError

    def is_paired(self, user: Any) -> bool:
        """Whether ``user`` has an enabled pairing (may ask Toopher)."""
        raise NotImplementedError

    def store_pairing(self, user: Any, pairing_id: str) -> None:
        """Keep a completed pairing (stored mode); zero-storage keeps nothing."""

    def forget_pairing(self, user: Any) -> None:
        """Drop the local pairing (stored mode); zero-storage has nothing to drop."""

    def create_terminal(self, user: Any, terminal_id: str, name: str) -> str | None:
        """Tell Toopher about a named terminal (zero-storage); its Toopher id or None."""
        return None

    def authenticate(
        self, user: Any, *, terminal_id: str, terminal_name: str, action: str,
        automation_allowed: bool, otp: str | None = None,
    ) -> Any:
        """Send one push (or, with ``otp``, a request Toopher decides at once); the
        authentication request, or None when not paired here."""
        raise NotImplementedError


class StoredMode(Mode):
    """Stored-ID mode: the pairing id lives on the user's :class:`ToopherProfile`."""

    name = STORED
    knows_pairing_locally = True

    def login_requirement(self, user: Any) -> Requirement | None:
        profile = get_profile(user)
        if not get_adapter().is_toopher_enabled(user, profile):
            return None
        if profile is not None and profile.pairing_id:
            return Requirement.APPROVE
        return Requirement.PAIR if app_settings.REQUIRE_ENROLLMENT else None

    def is_paired(self, user: Any) -> bool:
        profile = get_profile(user)
        return bool(profile and profile.pairing_id)

    def store_pairing(self, user: Any, pairing_id: str) -> None:
        profile, _created = ToopherProfile.objects.get_or_create(user=user)
        profile.pairing_id = pairing_id
        profile.paired_at = timezone.now()
        profile.save(update_fields=["pairing_id", "paired_at", "updated_at"])

    def forget_pairing(self, user: Any) -> None:
        ToopherProfile.objects.filter(user=user).update(
            pairing_id=None, paired_at=None, updated_at=timezone.now()
        )

    def authenticate(
        self, user: Any, *, terminal_id: str, terminal_name: str, action: str,
        automation_allowed: bool, otp: str | None = None,
    ) -> Any:
        profile = get_profile(user)
        if profile is None or not profile.pairing_id:
            return None
        return self.client.authenticate(
            profile.pairing_id,
            terminal_name,
            action,
            terminal_name_extra=terminal_id,
            automation_allowed=automation_allowed,
            **_otp(otp),
        )


class ZeroStorageMode(Mode):
    """Zero-storage mode: Toopher knows the user by name; we keep only the terminal cookie."""

    name = ZERO_STORAGE

    def login_requirement(self, user: Any) -> Requirement | None:
        if not get_adapter().is_toopher_enabled(user, get_profile(user)):
            return None
        # Only Toopher knows whether the user is paired: ask it at the pending page.
        return Requirement.APPROVE

    def is_paired(self, user: Any) -> bool:
        try:
            remote = self.client.get_user_by_name(user_name(user))
            pairings = self.client.get_user_pairings(remote.id)
        except toopher.UserUnknownError:
            return False
        return any(
            getattr(p, "enabled", False) and not getattr(p, "deactivated", False)
            for p in pairings
        )

    def create_terminal(self, user: Any, terminal_id: str, name: str) -> str | None:
        created = self.client.create_user_terminal(user_name(user), name, terminal_id)
        return getattr(created, "id", None)

    def authenticate(
        self, user: Any, *, terminal_id: str, terminal_name: str, action: str,
        automation_allowed: bool, otp: str | None = None,
    ) -> Any:
        return self.client.authenticate_by_user_name(
            user_name(user), terminal_id, action, automation_allowed=automation_allowed,
            **_otp(otp),
        )


MODES: dict[str, Mode] = {STORED: StoredMode(), ZERO_STORAGE: ZeroStorageMode()}


def get_mode() -> Mode:
    """The mode of ``TOOPHER["MODE"]`` (read on every call)."""
    try:
        return MODES[app_settings.MODE]
    except KeyError:
        raise ImproperlyConfigured(
            f'TOOPHER["MODE"] must be "stored" or "zero_storage", not {app_settings.MODE!r}.'
        ) from None
