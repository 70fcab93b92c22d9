"""The service's state: requesters, their users, pairings, terminals and requests.

Everything a requester owns hangs off its ``Requester`` row, so one consumer key can
never reach another requester's data: every lookup in the API goes through
``requester=...``. Phones (the devices that answer, real or simulated) are not a
requester's.
"""

import uuid
from datetime import datetime

from django.db import models
from django.utils import timezone
from django.views.decorators.debug import sensitive_variables

from .keys import secret_box
from .secretbox import row_aad


def new_id() -> uuid.UUID:
    """A fresh UUID4 (stored and shown in lowercase)."""
    return uuid.uuid4()


class Requester(models.Model):
    """A site that uses Toopher: a consumer key and secret.

    The secret is stored encrypted (``secret_sealed``, :mod:`toopher_server.keys`), bound
    to this row (associated data ``row_aad("requester_secret", id)``). During a rotation
    the previous secret stays valid until ``previous_secret_expires``. Read and write
    them only through :meth:`set_secret`, :meth:`current_secret` and
    :meth:`secrets_valid_now`; neither ``repr`` nor ``str`` shows a secret.
    """

    SECRET_KIND = "requester_secret"
    PREVIOUS_SECRET_KIND = "requester_previous_secret"

    id = models.UUIDField(primary_key=True, default=new_id, editable=False)
    name = models.CharField(max_length=200)
    key = models.CharField(max_length=200, unique=True)
    secret_sealed = models.TextField(editable=False)
    previous_secret_sealed = models.TextField(blank=True, default="", editable=False)
    previous_secret_expires = models.DateTimeField(null=True, blank=True, editable=False)
    created = models.DateTimeField(auto_now_add=True)
    modified = models.DateTimeField(auto_now=True)
    #: Number matching (``toopher_server.numbers``): each request that waits for the
    #: phone gets a two-digit code the site shows and the user picks on the phone.
    number_matching = models.BooleanField(
        default=True,
        help_text="Each authentication request gets a two-digit code that the site shows "
        "and the user picks among three on the phone.",
    )

    def __str__(self) -> str:
        return self.name

    def __repr__(self) -> str:
        return f"<Requester {self.key!r} ({self.name})>"

    @sensitive_variables()
    def set_secret(self, secret: str, *, keep_previous_until: datetime | None = None) -> None:
        """Seal ``secret`` as the current one (not saved: the caller saves).

        With ``keep_previous_until`` the secret in force so far stays valid until then;
        without it, only ``secret`` is valid from now on.
        """
        box = secret_box()
        previous = ""
        if keep_previous_until is not None and self.secret_sealed:
            aad = self.secret_aad(self.PREVIOUS_SECRET_KIND)
            previous = box.encrypt(self.current_secret(), aad)
        self.secret_sealed = box.encrypt(secret, self.secret_aad(self.SECRET_KIND))
        self.previous_secret_sealed = previous
        self.previous_secret_expires = keep_previous_until if previous else None

    @sensitive_variables()
    def current_secret(self) -> str:
        """The secret in clear (to sign with, or to show once at creation)."""
        return self._opened(self.secret_sealed, self.SECRET_KIND)

    @sensitive_variables()
    def secrets_valid_now(self, now: datetime | None = None) -> list[str]:
        """The secrets a signature may use now: the current one, then the previous one
        while its overlap lasts."""
        valid = [self.current_secret()]
        expires = self.previous_secret_expires
        if self.previous_secret_sealed and expires is not None:
            if (now or timezone.now()) < expires:
                valid.append(self._opened(self.previous_secret_sealed, self.PREVIOUS_SECRET_KIND))
        return valid

    #: Set on a row kept in memory (``lookups.RequesterCache``: a few seconds) and shared
    #: by its copies: its secrets, decrypted once, by sealed value and kind.
    opened_secrets: dict[tuple[str, str], str] | None = None

    @sensitive_variables()
    def _opened(self, sealed: str, kind: str) -> str:
        memo = self.opened_secrets
        if memo is not None and (sealed, kind) in memo:
            return memo[(sealed, kind)]
        clear = secret_box().decrypt_text(sealed, self.secret_aad(kind))
        if memo is not None:
            memo[(sealed, kind)] = clear
        return clear

    def secret_aad(self, kind: str) -> bytes:
        """The associated data that binds a sealed secret of ``kind`` to this row."""
        return row_aad(kind, self.id)


class Phone(models.Model):
    """A simulated phone running the Toopher app."""

    id = models.UUIDField(primary_key=True, default=new_id, editable=False)
    name = models.CharField(max_length=100, default="My phone")
    phone_number = models.CharField(max_length=32, blank=True, default="", db_index=True)
    created = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created"]

    def __str__(self) -> str:
        return self.name


class PairingPhrase(models.Model):
    """A two-word phrase the phone app generated; used at most once."""

    phrase = models.CharField(max_length=100, db_index=True)
    phone = models.ForeignKey(Phone, on_delete=models.CASCADE, related_name="phrases")
    used = models.BooleanField(default=False)
    created = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created"]
        indexes = [models.Index(fields=["created"], name="server_phrase_created")]

    def __str__(self) -> str:
        return self.phrase


class User(models.Model):
    """A requester's user (unique by name within the requester)."""

    id = models.UUIDField(primary_key=True, default=new_id, editable=False)
    requester = models.ForeignKey(Requester, on_delete=models.CASCADE, related_name="users")
    name = models.CharField(max_length=200)
    toopher_authentication_enabled = models.BooleanField(default=True)
    created = models.DateTimeField(auto_now_add=True)
    modified = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["requester", "name"], name="server_user_name")
        ]

    def __str__(self) -> str:
        return self.name


class Pairing(models.Model):
    """A user paired with a phone. Pending until the phone allows or denies it."""

    PENDING = "pending"
    ENABLED = "enabled"
    DENIED = "denied"
    STATES = [(PENDING, "pending"), (ENABLED, "enabled"), (DENIED, "denied")]

    PHRASE = "phrase"
    QR = "qr"
    SMS = "sms"
    KINDS = [(PHRASE, "pairing phrase"), (QR, "QR code"), (SMS, "SMS")]

    id = models.UUIDField(primary_key=True, default=new_id, editable=False)
    requester = models.ForeignKey(Requester, on_delete=models.CASCADE, related_name="pairings")
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="pairings")
    phone = models.ForeignKey(
        Phone, on_delete=models.SET_NULL, null=True, blank=True, related_name="pairings"
    )
    kind = models.CharField(max_length=10, choices=KINDS, default=PHRASE)
    state = models.CharField(max_length=10, choices=STATES, default=PENDING)
    deactivated = models.BooleanField(default=False)
    otp_secret = models.CharField(max_length=64)
    phone_number = models.CharField(max_length=32, blank=True, default="")
    created = models.DateTimeField(auto_now_add=True)
    modified = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created"]

    def __str__(self) -> str:
        return f"{self.user.name} ({self.state})"

    @property
    def pending(self) -> bool:
        return self.state == self.PENDING

    @property
    def enabled(self) -> bool:
        return self.state == self.ENABLED

    @property
    def usable(self) -> bool:
        """True when this pairing can authenticate."""
        return self.enabled and not self.deactivated


class Terminal(models.Model):
    """A (user, browser or device) with a friendly name."""

    id = models.UUIDField(primary_key=True, default=new_id, editable=False)
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="terminals")
    name = models.CharField(max_length=200, blank=True, default="")
    requester_specified_id = models.CharField(max_length=200, blank=True, default="")
    created = models.DateTimeField(auto_now_add=True)
    modified = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["created"]

    def __str__(self) -> str:
        return self.name or "(unnamed terminal)"


class Action(models.Model):
    """A named action of a requester ("Log in", "Change email"...)."""

    id = models.UUIDField(primary_key=True, default=new_id, editable=False)
    requester = models.ForeignKey(Requester, on_delete=models.CASCADE, related_name="actions")
    name = models.CharField(max_length=200)
    created = models.DateTimeField(auto_now_add=True)
    modified = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["requester", "name"], name="server_action_name")
        ]

    def __str__(self) -> str:
        return self.name


#: ``AuthenticationRequest.push_state`` (toopher_server.push.sending says what each means).
PUSH_STATES = [(s, s) for s in ("none", "queued", "sent", "failed", "held")]


class AuthenticationRequest(models.Model):
    """A request to approve an action, answered on the phone, by automation or by OTP."""

    id = models.UUIDField(primary_key=True, default=new_id, editable=False)
    requester = models.ForeignKey(
        Requester, on_delete=models.CASCADE, related_name="authentication_requests"
    )
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="+")
    pairing = models.ForeignKey(
        Pairing, on_delete=models.CASCADE, related_name="authentication_requests"
    )
    terminal = models.ForeignKey(Terminal, on_delete=models.CASCADE, related_name="+")
    action = models.ForeignKey(Action, on_delete=models.CASCADE, related_name="+")
    pending = models.BooleanField(default=True)
    granted = models.BooleanField(default=False)
    automated = models.BooleanField(default=False)
    cancelled = models.BooleanField(default=False)
    expired = models.BooleanField(default=False)
    totp_valid = models.BooleanField(default=False)
    automation_allowed = models.BooleanField(default=True)
    challenge_required = models.BooleanField(default=False)
    reason = models.CharField(max_length=500, blank=True, default="")
    reason_code = models.IntegerField(default=0)
    created = models.DateTimeField(auto_now_add=True)
    modified = models.DateTimeField(auto_now=True)
    #: Number matching: the code the site shows ("" without number matching) and the
    #: codes the phone offers, space-separated in the order shown (``numbers``).
    verification_code = models.CharField(max_length=8, blank=True, default="")
    offered_codes = models.CharField(max_length=32, blank=True, default="")
    # Web Push (toopher_server.push): whether this request's wake-up went out, and when.
    push_state = models.CharField(max_length=8, choices=PUSH_STATES, default="none")
    push_state_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created"]
        indexes = [models.Index(fields=["pending", "created"], name="server_auth_pending")]

    def __str__(self) -> str:
        return f"{self.action.name} for {self.user.name}"

    @property
    def status(self) -> str:
        """The state in one word: ``pending``, ``cancelled``, ``expired``, ``granted`` or
        ``denied`` (what the audit trail and the device API say)."""
        if self.pending:
            return "pending"
        if self.cancelled:
            return "cancelled"
        if self.expired:
            return "expired"
        return "granted" if self.granted else "denied"


class AutomationRule(models.Model):
    """The phone answers requests for this pairing, terminal and action by itself."""

    pairing = models.ForeignKey(Pairing, on_delete=models.CASCADE, related_name="automations")
    terminal = models.ForeignKey(Terminal, on_delete=models.CASCADE, related_name="+")
    action = models.ForeignKey(Action, on_delete=models.CASCADE, related_name="+")
    grant = models.BooleanField(default=True)
    #: Not ``auto_now_add``: that would overwrite the time :func:`phones.set_automation`
    #: gives, so ``expires - created`` could miss the remembered days by a second.
    created = models.DateTimeField(default=timezone.now)
    #: After this the rule no longer applies (``remembered``); None: never applies.
    expires = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["pairing", "terminal", "action"], name="server_automation_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{'allow' if self.grant else 'deny'} {self.action_id} from {self.terminal_id}"


class ResetLink(models.Model):
    """A one-time link that deactivates a pairing (P6, P7).

    Only the SHA-256 of its token is kept (:mod:`toopher_server.reset_links`)."""

    token_hash = models.CharField(max_length=64, unique=True)
    pairing = models.ForeignKey(Pairing, on_delete=models.CASCADE, related_name="reset_links")
    security_question = models.CharField(max_length=500, blank=True, default="")
    security_answer = models.CharField(max_length=500, blank=True, default="")
    used = models.BooleanField(default=False)
    created = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"reset link for {self.pairing_id}"


class Nonce(models.Model):
    """An OAuth nonce seen for a consumer key (replays are refused)."""

    key = models.CharField(max_length=200)
    nonce = models.CharField(max_length=255)
    timestamp = models.BigIntegerField()
    created = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["key", "nonce"], name="server_nonce_unique")
        ]

    def __str__(self) -> str:
        return f"{self.key}:{self.nonce}"


class Device(models.Model):
    """An authenticator's key, enrolled on the service: the phone it answers for.

    Its id is the RFC 7638 thumbprint of its P-256 public key (``devicesig``), so the
    device knows it before it enrols. It belongs to the ``Phone`` that pairings,
    phrases and requests hang off; a phone may have several devices (a second one joins
    with an invitation, ``phone_devices``), each answering for all of it. The
    phone-side rules (``phones``) are one set for keyed devices and for the sandbox's
    simulated phones, which stay unkeyed ``Phone`` rows without a ``Device``, out of the
    reach of the device API.
    """

    id = models.CharField(primary_key=True, max_length=64, editable=False)
    phone = models.ForeignKey(Phone, on_delete=models.CASCADE, related_name="devices")
    public_jwk = models.JSONField()
    label = models.CharField(max_length=100, blank=True, default="")
    created = models.DateTimeField(auto_now_add=True)
    last_seen = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created"]

    def __str__(self) -> str:
        return self.label or self.id


class DeviceNonce(models.Model):
    """A one-time id a device signed with: the unique pair refuses a replay on every
    instance (``device_nonces``). ``device`` is not a foreign key: an enrolment's id is
    recorded before its device exists."""

    device = models.CharField(max_length=64)
    nonce = models.CharField(max_length=64)
    expires_at = models.BigIntegerField(db_index=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["device", "nonce"], name="server_device_nonce_unique")
        ]

    def __str__(self) -> str:
        return f"{self.device}:{self.nonce}"


class DeviceInvitation(models.Model):
    """A one-time code with which another device joins a phone (``phone_devices``).

    Only a keyed hash of the code is kept; it is used once, before ``expires``.
    ``invited_by`` and ``used_by`` are device ids (text: either device may be removed).
    """

    code_hash = models.CharField(max_length=64, unique=True, editable=False)
    phone = models.ForeignKey(Phone, on_delete=models.CASCADE, related_name="invitations")
    invited_by = models.CharField(max_length=64)
    created = models.DateTimeField(auto_now_add=True)
    expires = models.DateTimeField(db_index=True)
    used = models.DateTimeField(null=True, blank=True)
    used_by = models.CharField(max_length=64, blank=True, default="")

    def __str__(self) -> str:
        return f"invitation to {self.phone_id} by {self.invited_by}"


# The audit trail (append-only, hash-chained): its own module, registered here.
from .audit_models import AuditHead, AuditRecord  # noqa: E402, F401

# Web Push: the VAPID key, the subscriptions, the holds (toopher_server.push).
from .push.models import PushHold, PushSubscription, VapidKey  # noqa: E402, F401
