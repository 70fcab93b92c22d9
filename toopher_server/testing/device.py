"""A pure-Python authenticator device: a P-256 key that signs calls exactly like the app.

The server's unit and compatibility tests play the phone with it (no control API)::

    device = SignedDevice(DeviceKey.generate())
    enroll_body = json.dumps({"jwk": device.key.public_jwk}).encode()
    client.post(path, enroll_body, content_type="application/json",
                headers=device.headers_for("POST", path, enroll_body))

    session = requests.Session()
    session.auth = device.auth()          # every call signed
    session.get(f"{base}/app/api/v1/requests")

The scheme is docs/authenticator-protocol.md; :mod:`toopher_server.devicesig` verifies it.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable
from urllib.parse import urlsplit

import requests
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature

from toopher_server.devicesig import (
    HEADER,
    Decision,
    SignatureHeader,
    body_digest,
    jwk_thumbprint,
    public_jwk,
    signature_base,
)

__all__ = ["DeviceAuth", "DeviceKey", "SignedDevice"]


class DeviceKey:
    """An ECDSA P-256 key pair, signing in WebCrypto's raw ``r || s`` (P1363) form."""

    def __init__(self, private_key: ec.EllipticCurvePrivateKey) -> None:
        if private_key.curve.name != "secp256r1":
            raise ValueError("a device key is a P-256 key")
        self.private_key = private_key

    @classmethod
    def generate(cls) -> DeviceKey:
        """A new random key."""
        return cls(ec.generate_private_key(ec.SECP256R1()))

    @classmethod
    def from_private_value(cls, value: int) -> DeviceKey:
        """A fixed key from its private scalar (reproducible tests and examples)."""
        return cls(ec.derive_private_key(value, ec.SECP256R1()))

    @property
    def public_key(self) -> ec.EllipticCurvePublicKey:
        """The public key."""
        return self.private_key.public_key()

    @property
    def public_jwk(self) -> dict[str, str]:
        """The public key as a JWK (what the app registers at enrollment)."""
        return public_jwk(self.public_key)

    @property
    def spki_der(self) -> bytes:
        """The public key as DER SubjectPublicKeyInfo (WebCrypto ``exportKey("spki")``)."""
        return self.public_key.public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
        )

    @property
    def device_id(self) -> str:
        """The device id: the RFC 7638 thumbprint of the public JWK."""
        return jwk_thumbprint(self.public_key)

    def sign(self, message: bytes) -> bytes:
        """ECDSA-SHA256 of ``message`` as 64 bytes ``r || s`` (what WebCrypto returns)."""
        der = self.private_key.sign(message, ec.ECDSA(hashes.SHA256()))
        r, s = decode_dss_signature(der)
        return r.to_bytes(32, "big") + s.to_bytes(32, "big")

    def __repr__(self) -> str:
        return f"<DeviceKey {self.device_id}>"


def _path_of(url: str) -> str:
    """The path and query of ``url`` as they go on the request line (absolute or a path)."""
    if url.startswith("/"):  # a path (even "//x", which urlsplit would take for a host)
        return url.split("#", 1)[0]
    parts = urlsplit(url)
    path = parts.path or "/"
    return f"{path}?{parts.query}" if parts.query else path


def _body_bytes(body: bytes | str | None) -> bytes:
    if body is None:
        return b""
    if isinstance(body, str):
        return body.encode("utf-8")
    if isinstance(body, bytes | bytearray):
        return bytes(body)
    raise TypeError("a signed call needs its body as bytes or str (not a stream)")


class SignedDevice:
    """A device that signs every call: the app's signing, in Python."""

    def __init__(
        self,
        key: DeviceKey | None = None,
        *,
        clock: Callable[[], float] = time.time,
        nonce_factory: Callable[[], str] = lambda: secrets.token_urlsafe(16),
    ) -> None:
        """``clock`` and ``nonce_factory`` let a test pin the time or reuse a one-time id."""
        self.key = key or DeviceKey.generate()
        self._clock = clock
        self._nonce = nonce_factory

    @property
    def device_id(self) -> str:
        """The device id (the key's thumbprint)."""
        return self.key.device_id

    def signature_header(self, method: str, url: str, body: bytes | str | None = None) -> str:
        """The value of the signature header for one call."""
        timestamp, nonce = int(self._clock()), self._nonce()
        base = signature_base(
            method.upper(),
            _path_of(url),
            body_digest(_body_bytes(body)),
            timestamp,
            nonce,
            self.device_id,
        )
        signature = self.key.sign(base.encode("utf-8"))
        return SignatureHeader(self.device_id, timestamp, nonce, signature).format()

    def headers_for(self, method: str, url: str, body: bytes | str | None = None) -> dict[str, str]:
        """The headers that sign one call: ``{"Toopher-Device-Signature": ...}``.

        ``url`` may be absolute or a path; only its path and query are signed.
        """
        return {HEADER: self.signature_header(method, url, body)}

    def decision(
        self,
        request_id: str,
        decision: str,
        *,
        site: str,
        user: str,
        action: str,
        terminal: str,
        code: str | None = None,
    ) -> bytes:
        """The canonical body of a decision call (allow, deny, not_me)."""
        return Decision(request_id, decision, site, user, action, terminal, code).to_json()

    def auth(self) -> DeviceAuth:
        """A ``requests`` auth that signs every call of a session with this device."""
        return DeviceAuth(self)

    def __repr__(self) -> str:
        return f"<SignedDevice {self.device_id}>"


class DeviceAuth(requests.auth.AuthBase):
    """``session.auth = DeviceAuth(device)``: each prepared request gets its signature."""

    def __init__(self, device: SignedDevice) -> None:
        self.device = device

    def __call__(self, r: requests.PreparedRequest) -> requests.PreparedRequest:
        """Sign ``r`` over its method, path and query, and body."""
        r.headers[HEADER] = self.device.signature_header(r.method or "GET", r.path_url, r.body)
        return r
