"""The rows of Web Push: the service's VAPID key, each device's subscription, the holds.

Registered by ``toopher_server.models`` (imported at its end), like the audit's rows.
"""

from __future__ import annotations

from django.db import models

from ..models import Device, User


class VapidKey(models.Model):
    """The service's one VAPID key pair (RFC 8292): ``id`` is always 1.

    The private key (PKCS#8 PEM) is sealed under the service's key ring
    (``keys.secret_box()``, associated data ``row_aad("vapid_private_key", 1)``); the
    public key is the base64url uncompressed P-256 point a browser subscribes with.
    Only :mod:`toopher_server.push.vapid` reads or writes it.
    """

    SINGLETON = 1

    id = models.PositiveSmallIntegerField(primary_key=True, default=SINGLETON, editable=False)
    private_key_sealed = models.TextField(editable=False)
    public_key = models.CharField(max_length=100, editable=False)
    created = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = "VAPID key"

    def __str__(self) -> str:
        return f"VAPID key {self.public_key[:12]}..."


class PushSubscription(models.Model):
    """Where to wake one enrolled device: its browser's push subscription (one per device,
    replaced when the device sends another)."""

    device = models.OneToOneField(
        Device, on_delete=models.CASCADE, related_name="push_subscription", primary_key=True
    )
    endpoint = models.CharField(max_length=2048)
    p256dh = models.CharField(max_length=100)
    auth = models.CharField(max_length=32)
    created = models.DateTimeField(auto_now_add=True)
    modified = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"push subscription of {self.device_id}"


class PushHold(models.Model):
    """No push for this user's requests until ``until`` (set by "This wasn't me")."""

    user = models.OneToOneField(User, on_delete=models.CASCADE, related_name="+", primary_key=True)
    until = models.DateTimeField()

    def __str__(self) -> str:
        return f"push hold of {self.user_id} until {self.until:%Y-%m-%d %H:%M:%S}"
