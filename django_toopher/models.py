"""What django_toopher keeps in the database.

Stored-ID mode keeps the pairing id on :class:`ToopherProfile`; zero-storage mode
keeps nothing but the rows of :class:`Terminal` (friendly names for the user's
browsers) and the audit trail.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


def _of_user(field: type[models.ForeignKey], related_name: str) -> models.ForeignKey:
    """The field that ties a row to its user (deleted with the user)."""
    return field(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name=related_name,
        verbose_name=_("user"),
    )


class ToopherProfile(models.Model):
    """One per user: the pairing (stored-ID mode) and whether Toopher applies."""

    user = _of_user(models.OneToOneField, "toopher_profile")
    pairing_id = models.CharField(  # noqa: DJ001 (None = not paired)
        _("pairing id"), max_length=36, null=True, blank=True, default=None
    )
    enabled = models.BooleanField(
        _("Toopher enabled"),
        default=True,
        help_text=_("When off, this user logs in with the password alone."),
    )
    paired_at = models.DateTimeField(_("paired at"), null=True, blank=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("Toopher profile")
        verbose_name_plural = _("Toopher profiles")

    def __str__(self) -> str:
        return str(self.user)

    @property
    def is_paired(self) -> bool:
        return bool(self.pairing_id)


class Terminal(models.Model):
    """A browser the user has named, keyed by the id in its signed terminal cookie."""

    user = _of_user(models.ForeignKey, "toopher_terminals")
    requester_terminal_id = models.CharField(_("requester terminal id"), max_length=64)
    name = models.CharField(_("name"), max_length=100)
    toopher_terminal_id = models.CharField(  # noqa: DJ001 (None = not known)
        _("Toopher terminal id"), max_length=36, null=True, blank=True, default=None
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    last_used_at = models.DateTimeField(_("last used at"), null=True, blank=True)

    class Meta:
        verbose_name = _("terminal")
        verbose_name_plural = _("terminals")
        ordering = ["user_id", "name"]
        constraints = [
            models.UniqueConstraint(
                fields=["user", "requester_terminal_id"], name="django_toopher_terminal_unique"
            )
        ]

    def __str__(self) -> str:
        return self.name


class AuditEvent(models.Model):
    """One line of the audit trail. Never holds a secret or a cookie value."""

    class Kind(models.TextChoices):
        REQUESTED = "requested", _("Authentication requested")
        GRANTED = "granted", _("Authentication granted")
        DENIED = "denied", _("Authentication denied")
        EXPIRED = "expired", _("Authentication expired")
        CANCELLED = "cancelled", _("Authentication cancelled")
        ERROR = "error", _("Toopher error")
        FAIL_OPEN = "fail_open", _("Let in while Toopher failed (fail open)")
        RATE_LIMITED = "rate_limited", _("Push rate limit reached")
        OTP_FAILED = "otp_failed", _("Wrong one-time password")
        PAIRED = "paired", _("Phone paired")
        UNPAIRED = "unpaired", _("Phone unpaired")
        TERMINAL_NAMED = "terminal_named", _("Terminal named")
        TERMINAL_RENAMED = "terminal_renamed", _("Terminal renamed")
        TERMINAL_FORGOTTEN = "terminal_forgotten", _("Terminal forgotten")
        ADMIN_DISABLED = "admin_disabled", _("Disabled by an administrator")
        ADMIN_ENABLED = "admin_enabled", _("Enabled by an administrator")
        ADMIN_RESET = "admin_reset", _("Pairing reset by an administrator")
        ADMIN_FORGOT_TERMINALS = "admin_forgot_terminals", _(
            "Terminals forgotten by an administrator"
        )
        RECOVERY_CODES_GENERATED = "recovery_codes_generated", _("Recovery codes generated")
        RECOVERY_CODE_USED = "recovery_code_used", _("Logged in with a recovery code")
        RECOVERY_CODE_FAILED = "recovery_code_failed", _("Wrong recovery code")
        RESET_LINK_SENT = "reset_link_sent", _("Pairing reset link requested by email")
        RESET_BY_EMAIL = "reset_by_email", _("Pairing reset through an emailed link")

    created_at = models.DateTimeField(_("time"), auto_now_add=True, db_index=True)
    kind = models.CharField(_("event"), max_length=32, choices=Kind.choices)
    # Audit rows outlive the accounts they name: a deleted user leaves NULL.
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
        related_name="toopher_audit_events", verbose_name=_("user"),
    )
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
        related_name="+", verbose_name=_("actor"),
        help_text=_("The administrator who acted, for admin actions."),
    )
    action = models.CharField(_("action"), max_length=100, blank=True)
    terminal_name = models.CharField(_("terminal"), max_length=100, blank=True)
    ip_address = models.GenericIPAddressField(_("IP address"), null=True, blank=True)
    detail = models.CharField(_("detail"), max_length=255, blank=True)

    class Meta:
        verbose_name = _("audit event")
        verbose_name_plural = _("audit events")
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.created_at:%Y-%m-%d %H:%M:%S} {self.get_kind_display()}"


class ConsumedRequest(models.Model):
    """An authentication request id that has been used for a login or an action.

    Inserting the row is the atomic claim that makes a grant usable exactly once,
    across processes and instances and on any database (the unique constraint
    decides which of two racing polls wins).
    """

    request_id = models.CharField(_("request id"), max_length=64, unique=True)
    used_at = models.DateTimeField(_("used at"), auto_now_add=True, db_index=True)

    class Meta:
        verbose_name = _("consumed authentication request")
        verbose_name_plural = _("consumed authentication requests")

    def __str__(self) -> str:
        return f"{self.used_at:%Y-%m-%d %H:%M:%S}"


class ForgottenTerminal(models.Model):
    """A terminal id that a user forgot (or an administrator forgot for them, or that
    went with an unpairing): never accepted again for that user, so the browser gets a
    new id and its next login needs the phone (no automation rule of the old id applies).

    Only a keyed hash of the id is kept (:func:`~.internal.cookies.terminal_digest`).
    """

    user = _of_user(models.ForeignKey, "+")
    digest = models.CharField(_("terminal id digest"), max_length=64)
    forgotten_at = models.DateTimeField(_("forgotten at"), auto_now_add=True, db_index=True)

    class Meta:
        verbose_name = _("forgotten terminal")
        verbose_name_plural = _("forgotten terminals")
        constraints = [
            models.UniqueConstraint(
                fields=["user", "digest"], name="django_toopher_forgotten_terminal_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.forgotten_at:%Y-%m-%d %H:%M:%S}"


class RecoveryCode(models.Model):
    """One of a user's one-time recovery codes (for a lost phone).

    Only a keyed hash of the code is kept (:mod:`~.internal.recovery_codes`); a code is
    used by setting :attr:`used_at` with a conditional UPDATE, so it logs in once.
    """

    user = _of_user(models.ForeignKey, "toopher_recovery_codes")
    digest = models.CharField(_("code digest"), max_length=64)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    used_at = models.DateTimeField(_("used at"), null=True, blank=True)

    class Meta:
        verbose_name = _("recovery code")
        verbose_name_plural = _("recovery codes")
        constraints = [
            models.UniqueConstraint(
                fields=["user", "digest"], name="django_toopher_recovery_code_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.created_at:%Y-%m-%d %H:%M:%S}"
