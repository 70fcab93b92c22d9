"""A device's push subscription: checked strictly, one per device, replaced on ``PUT``.

The body is what a browser's ``PushSubscription.toJSON()`` gives:
``{"endpoint": ..., "keys": {"p256dh": ..., "auth": ...}}`` (an ``expirationTime`` is
ignored). The service POSTs to the endpoint, so it is held to rules that keep a device
from pointing the service at itself or its network: ``https`` only, no user name or
password in it, no IP address that is not public. Plain ``http`` on a loopback address is
allowed only with ``TOOPHER_SERVER_PUSH_ALLOW_INSECURE_LOOPBACK`` (tests, the sandbox).
A host name passes here; where it leads is checked each time a push connects
(:mod:`.egress`).
"""

from __future__ import annotations

import base64
import binascii
import ipaddress
import json
import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from cryptography.hazmat.primitives.asymmetric import ec

from .. import db
from ..device_errors import DeviceApiError
from ..devicesig import Malformed
from ..models import Device
from .egress import allow_insecure_loopback, allowed_address
from .models import PushSubscription

__all__ = [
    "MAX_ENDPOINT",
    "InvalidSubscription",
    "Subscription",
    "is_subscribed",
    "subscribe",
    "unsubscribe",
]

#: The longest endpoint accepted (browsers' are a few hundred characters).
MAX_ENDPOINT = 2048
_B64URL = re.compile(r"[A-Za-z0-9_-]+={0,2}")
_LOOPBACK_NAMES = {"localhost"}
_LABEL = r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?"
_HOST_NAME = re.compile(rf"{_LABEL}(?:\.{_LABEL})*")


class InvalidSubscription(DeviceApiError):
    """The push subscription is not one the service can send to (it changed nothing)."""

    code = "invalid_subscription"
    http_status = 400


def _b64url_bytes(value: Any, what: str, max_chars: int) -> bytes:
    if not isinstance(value, str) or not value or len(value) > max_chars:
        raise InvalidSubscription(f"keys.{what} must be base64url text")
    if not _B64URL.fullmatch(value):
        raise InvalidSubscription(f"keys.{what} must be base64url text")
    stripped = value.rstrip("=")
    try:
        return base64.urlsafe_b64decode(stripped + "=" * (-len(stripped) % 4))
    except (binascii.Error, ValueError):
        raise InvalidSubscription(f"keys.{what} must be base64url text") from None


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def check_endpoint(endpoint: Any) -> str:
    """The endpoint if the service may POST to it, else :class:`InvalidSubscription`."""
    if not isinstance(endpoint, str) or not endpoint:
        raise InvalidSubscription("endpoint must be a URL")
    if len(endpoint) > MAX_ENDPOINT:
        raise InvalidSubscription(f"endpoint must be at most {MAX_ENDPOINT} characters")
    if not endpoint.isascii() or not endpoint.isprintable() or " " in endpoint:
        raise InvalidSubscription("endpoint must be a plain ASCII URL")
    try:
        parts = urlsplit(endpoint)
        host = parts.hostname or ""
        parts.port  # noqa: B018 - raises ValueError on a bad port
    except ValueError:
        raise InvalidSubscription("endpoint must be a URL") from None
    if not host or parts.username is not None or parts.password is not None or parts.fragment:
        raise InvalidSubscription("endpoint must be a URL with a host and no user or fragment")
    loopback = _is_loopback(host)
    if parts.scheme == "http" and loopback and allow_insecure_loopback():
        return endpoint
    if parts.scheme != "https":
        raise InvalidSubscription("endpoint must be an https URL")
    if loopback and not allow_insecure_loopback():
        raise InvalidSubscription("endpoint must be a public host")
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        if not _public_name(host):
            raise InvalidSubscription("endpoint must be a public host") from None
        return endpoint
    if not allowed_address(address):
        raise InvalidSubscription("endpoint must be a public host")
    return endpoint


def _public_name(host: str) -> bool:
    """A DNS name that is not ``localhost`` and that no resolver reads as an address
    (``2130706433``, ``0x7f.1``, ``0177.0.0.1``): its last label has a letter and is
    not hexadecimal notation."""
    name = host.lower().rstrip(".")
    if not _HOST_NAME.fullmatch(name) or name == "localhost" or name.endswith(".localhost"):
        return False
    last = name.rsplit(".", 1)[-1]
    return any(c.isalpha() for c in last) and not last.startswith("0x")


def _is_loopback(host: str) -> bool:
    name = host.lower().rstrip(".")
    if name in _LOOPBACK_NAMES or name.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


@dataclass(frozen=True)
class Subscription:
    """A checked subscription: the endpoint and the browser's two keys (base64url)."""

    endpoint: str
    p256dh: str
    auth: str

    @classmethod
    def from_json(cls, body: bytes) -> Subscription:
        """Parse and check a ``PUT push`` body; :class:`InvalidSubscription` (or
        ``Malformed`` for a body that is not a JSON object) when it is not usable."""
        try:
            data = json.loads(body.decode("utf-8"))
        except (UnicodeDecodeError, ValueError):
            raise Malformed("the body must be a JSON object") from None
        if not isinstance(data, dict):
            raise Malformed("the body must be a JSON object")
        unknown = sorted(set(data) - {"endpoint", "keys", "expirationTime"})
        if unknown:
            raise InvalidSubscription(f"unknown fields: {', '.join(unknown)}")
        keys = data.get("keys")
        if not isinstance(keys, dict) or set(keys) != {"p256dh", "auth"}:
            raise InvalidSubscription("keys must hold exactly p256dh and auth")
        endpoint = check_endpoint(data.get("endpoint"))
        point = _b64url_bytes(keys["p256dh"], "p256dh", 100)
        if len(point) != 65 or point[0] != 4:
            raise InvalidSubscription("keys.p256dh must be an uncompressed P-256 point")
        try:
            ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), point)
        except ValueError:
            raise InvalidSubscription("keys.p256dh is not a point on P-256") from None
        auth = _b64url_bytes(keys["auth"], "auth", 32)
        if len(auth) != 16:
            raise InvalidSubscription("keys.auth must be 16 bytes")
        return cls(endpoint=endpoint, p256dh=_b64url(point), auth=_b64url(auth))


def subscribe(device: Device, subscription: Subscription) -> PushSubscription:
    """Store ``subscription`` as the device's one (replacing the one it had)."""
    row, _ = PushSubscription.objects.using(db.alias()).update_or_create(
        device=device,
        defaults={
            "endpoint": subscription.endpoint,
            "p256dh": subscription.p256dh,
            "auth": subscription.auth,
        },
    )
    return row


def unsubscribe(device: Device) -> None:
    """Drop the device's subscription (none is fine)."""
    PushSubscription.objects.using(db.alias()).filter(device=device).delete()


def is_subscribed(device: Device) -> bool:
    """Whether the device has a subscription."""
    return PushSubscription.objects.using(db.alias()).filter(device=device).exists()
