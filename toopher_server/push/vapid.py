"""The service's VAPID key (RFC 8292): made once, sealed in the database, never replaced
silently.

Why in the database, sealed: every instance behind the balancer must sign with the same
key, and the database is what they already share; sealed under the key ring of
:func:`toopher_server.keys.secret_box` (kept outside the database, like the requester
secrets), so a dump of the database alone holds no usable private key. A backup of the
database together with the key ring restores it.

Replacing the key orphans every subscription (each was made for the public key), so
:func:`make_key` refuses to replace one unless told to (``makevapidkey --force``).
"""

from __future__ import annotations

import base64
import threading
from dataclasses import dataclass

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from django.db import IntegrityError
from django.views.decorators.debug import sensitive_variables

from .. import db
from ..keys import secret_box
from ..secretbox import row_aad
from .models import VapidKey

__all__ = [
    "VapidKeyPair", "current", "exists", "make_key", "public_key", "reencrypt", "replace_key",
]

AAD_KIND = "vapid_private_key"

_lock = threading.Lock()
_cache: dict[tuple[str, str], VapidKeyPair] = {}


@dataclass(frozen=True)
class VapidKeyPair:
    """The key in clear, for signing (never logged: no ``repr`` of the private key)."""

    public_key: str
    private_pem: bytes

    def __repr__(self) -> str:
        return f"<VapidKeyPair {self.public_key[:12]}...>"


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


@sensitive_variables()
def _generate() -> tuple[str, bytes]:
    private = ec.generate_private_key(ec.SECP256R1())
    point = private.public_key().public_bytes(
        serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
    )
    pem = private.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    return _b64url(point), pem


@sensitive_variables()
def make_key(*, force: bool = False) -> tuple[VapidKey, bool]:
    """The VAPID key, made when there is none; the row and whether it is new.

    One already there is returned unchanged unless ``force`` (then it is replaced, and
    every subscription is orphaned: only ``makevapidkey --force`` does that). Two
    instances making one at once end with the same single key (the row's fixed id).
    """
    existing = VapidKey.objects.using(db.alias()).filter(pk=VapidKey.SINGLETON).first()
    if existing is not None and not force:
        return existing, False
    public, pem = _generate()
    row = VapidKey(id=VapidKey.SINGLETON, public_key=public)
    row.private_key_sealed = secret_box().encrypt(pem, row_aad(AAD_KIND, VapidKey.SINGLETON))
    try:
        with db.atomic():
            if force:
                VapidKey.objects.using(db.alias()).filter(pk=VapidKey.SINGLETON).delete()
            row.save(using=db.alias(), force_insert=True)
    except IntegrityError:  # another instance made it meanwhile: theirs is the key
        return VapidKey.objects.using(db.alias()).get(pk=VapidKey.SINGLETON), False
    _cache.clear()
    return row, True


def reencrypt() -> int:
    """Re-seal the private key under the ring's first key (``reencryptsecrets``); 1 if
    it was re-sealed, 0 if there is none or it is sealed under that key already."""
    box, aad = secret_box(), row_aad(AAD_KIND, VapidKey.SINGLETON)
    row = VapidKey.objects.using(db.alias()).filter(pk=VapidKey.SINGLETON).first()
    if row is None or not box.needs_reencrypt(row.private_key_sealed):
        return 0
    VapidKey.objects.using(db.alias()).filter(
        pk=row.pk, private_key_sealed=row.private_key_sealed
    ).update(private_key_sealed=box.reencrypt(row.private_key_sealed, aad))
    return 1


def exists() -> bool:
    """Whether the service has its VAPID key already."""
    return VapidKey.objects.using(db.alias()).filter(pk=VapidKey.SINGLETON).exists()


def replace_key() -> VapidKey:
    """A new VAPID key in place of the old one (every subscription is orphaned)."""
    row, _ = make_key(force=True)
    return row


@sensitive_variables()
def current() -> VapidKeyPair:
    """The key to sign with, made on first use when there is none (the sandbox, an install
    that skipped ``init``); cached per process and key ring."""
    row, _ = make_key()
    cache_key = (row.public_key, secret_box().primary_key_id)
    found = _cache.get(cache_key)
    if found is None:
        with _lock:
            pem = secret_box().decrypt(row.private_key_sealed, row_aad(AAD_KIND, row.pk))
            found = VapidKeyPair(public_key=row.public_key, private_pem=pem)
            _cache.clear()
            _cache[cache_key] = found
    return found


def public_key() -> str:
    """The base64url uncompressed P-256 point a browser subscribes with."""
    return make_key()[0].public_key
