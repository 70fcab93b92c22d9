"""Calls signed by an authenticator device: the header, the base string, the verification.

Every call the authenticator makes (list requests, approve, deny, pair, OTP seed) carries::

    Toopher-Device-Signature: v=1, device=<device id>, time=<unix seconds>,
        nonce=<one-time id>, sig=<base64url of the 64-byte P1363 signature>

(one line; the parameters in any order, each once). The signature is ECDSA P-256 with
SHA-256 over the UTF-8 *signature base string*, seven lines joined by ``\\n``::

    toopher-device-signature-v1
    <METHOD>
    <path and query, as sent>
    <lowercase hex SHA-256 of the body bytes>
    <time>
    <nonce>
    <device id>

A device's id is the RFC 7638 JWK thumbprint of its public key (:func:`jwk_thumbprint`),
so the app knows it before enrolling and the enrollment call is verified with the key it
carries (``key=`` of :meth:`DeviceVerifier.verify`). docs/authenticator-protocol.md is the
full specification; this module is its reference implementation.

Verification (:class:`DeviceVerifier`) checks, in this order and stopping at the first
failure: the header is there (:class:`Unsigned`) and well formed (:class:`Malformed`), the
time is inside the clock window (:class:`Stale`), the device is known
(:class:`UnknownDevice`), the signature verifies (:class:`BadSignature`), and only then
records the one-time id, refusing one already seen (:class:`Replay`). A failure records
nothing. A decision (allow, deny, "this wasn't me") is the body of a signed call in the
canonical JSON of :class:`Decision`, so the signature covers what the phone showed.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import re
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, fields
from typing import Any, ClassVar, Protocol

from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature

__all__ = [
    "BASE_STRING_LABEL",
    "DECISIONS",
    "HEADER",
    "BadSignature",
    "Decision",
    "DeviceSignatureError",
    "DeviceVerifier",
    "InvalidKey",
    "Malformed",
    "MemorySeenIds",
    "Replay",
    "SeenIds",
    "SignatureHeader",
    "Stale",
    "Unsigned",
    "UnknownDevice",
    "VerifiedCall",
    "body_digest",
    "canonical_json",
    "jwk_thumbprint",
    "load_jwk",
    "load_spki",
    "public_jwk",
    "signature_base",
    "verify_p1363",
]

#: The HTTP header that carries the signature.
HEADER = "Toopher-Device-Signature"
#: The first line of every signature base string (the scheme and its version).
BASE_STRING_LABEL = "toopher-device-signature-v1"
DEFAULT_MAX_AGE = 60
DEFAULT_MAX_FUTURE = 10
MAX_HEADER_LENGTH = 512
MAX_PATH_LENGTH = 2048

_B64URL = r"[A-Za-z0-9_-]"
_PARAM_PATTERNS = {
    "v": re.compile(r"1"),
    "device": re.compile(_B64URL + r"{1,64}"),
    "time": re.compile(r"0|[1-9][0-9]{0,11}"),
    "nonce": re.compile(_B64URL + r"{16,64}"),
    "sig": re.compile(_B64URL + r"{86}"),
}
_METHOD = re.compile(r"[A-Z]{1,16}")
_PATH = re.compile(r"/[\x21-\x7e]*")  # printable ASCII, no space, starts with /
_CURVE = ec.SECP256R1()
_ORDER = 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551


# --- errors ---------------------------------------------------------------------------


class DeviceSignatureError(Exception):
    """A device call that is refused. ``code`` is stable; nothing was recorded."""

    code: ClassVar[str] = "device_signature"
    #: The HTTP status a view answers with.
    http_status: ClassVar[int] = 401

    def as_json(self, server_time: int | None = None) -> dict[str, Any]:
        """The error body the service answers with (see the protocol document)."""
        body: dict[str, Any] = {"error": self.code, "message": str(self)}
        if server_time is not None:
            body["server_time"] = server_time
        return body


class Unsigned(DeviceSignatureError):
    """The call carries no signature header."""

    code = "unsigned"


class Malformed(DeviceSignatureError):
    """The header, the path or a decision body does not follow the grammar."""

    code = "malformed"
    http_status = 400


class InvalidKey(Malformed):
    """A public key (JWK or SPKI) that is not a valid P-256 public key."""

    code = "invalid_key"


class UnknownDevice(DeviceSignatureError):
    """No enrolled device has this id (or it is not the key the enrollment carries)."""

    code = "unknown_device"


class BadSignature(DeviceSignatureError):
    """The signature does not verify with the device's key over this call."""

    code = "bad_signature"


class Stale(DeviceSignatureError):
    """The signed time is outside the clock window (too old, or in the future)."""

    code = "stale"


class Replay(DeviceSignatureError):
    """The one-time id was already used by this device."""

    code = "replay"


# --- encoding -------------------------------------------------------------------------


def _b64e(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _b64d(text: str, what: str, error: type[Malformed] = Malformed) -> bytes:
    """Strict unpadded base64url (canonical: re-encoding gives the same text)."""
    try:
        raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (binascii.Error, ValueError):
        raise error(f"{what} is not base64url") from None
    if _b64e(raw) != text:
        raise error(f"{what} is not canonical unpadded base64url")
    return raw


def body_digest(body: bytes) -> str:
    """Lowercase hex SHA-256 of the body bytes (of ``b""`` when there is no body)."""
    return hashlib.sha256(body).hexdigest()


def canonical_json(value: Any) -> bytes:
    """UTF-8 JSON with sorted keys and no white space (``JSON.stringify`` of sorted keys)."""
    return json.dumps(
        value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
    ).encode("utf-8")


# --- keys -----------------------------------------------------------------------------


def _p256_from_xy(x: bytes, y: bytes) -> ec.EllipticCurvePublicKey:
    if len(x) != 32 or len(y) != 32:
        raise InvalidKey("x and y must be 32 bytes each")
    numbers = ec.EllipticCurvePublicNumbers(
        int.from_bytes(x, "big"), int.from_bytes(y, "big"), _CURVE
    )
    try:
        return numbers.public_key()
    except ValueError:
        raise InvalidKey("the point is not on P-256") from None


def load_jwk(jwk: Mapping[str, Any] | str) -> ec.EllipticCurvePublicKey:
    """A P-256 public key from its JWK (a mapping or JSON text), as WebCrypto exports it.

    Needs ``kty`` ``"EC"``, ``crv`` ``"P-256"``, ``x`` and ``y`` (32 bytes each, base64url);
    refuses a private key (``d``) and an ``alg`` other than ``ES256``. Other members
    (``ext``, ``key_ops``) are ignored.
    """
    if isinstance(jwk, str):
        try:
            jwk = json.loads(jwk)
        except ValueError:
            raise InvalidKey("the JWK is not JSON") from None
    if not isinstance(jwk, Mapping):
        raise InvalidKey("the JWK is not a JSON object")
    if jwk.get("kty") != "EC" or jwk.get("crv") != "P-256":
        raise InvalidKey('the JWK must have kty "EC" and crv "P-256"')
    if "d" in jwk:
        raise InvalidKey("the JWK holds a private key: send the public key only")
    if jwk.get("alg", "ES256") != "ES256":
        raise InvalidKey('the JWK alg must be "ES256"')
    x, y = jwk.get("x"), jwk.get("y")
    if not isinstance(x, str) or not isinstance(y, str):
        raise InvalidKey("the JWK needs x and y")
    return _p256_from_xy(_b64d(x, "x", InvalidKey), _b64d(y, "y", InvalidKey))


def load_spki(data: bytes | str) -> ec.EllipticCurvePublicKey:
    """A P-256 public key from SubjectPublicKeyInfo: DER bytes, PEM, or base64(url) of DER.

    WebCrypto's ``exportKey("spki", key)`` gives the DER bytes.
    """
    if isinstance(data, str):
        text = data.strip()
        if text.startswith("-----BEGIN"):
            data = text.encode("ascii", "replace")
        else:
            try:
                data = base64.b64decode(
                    text.replace("-", "+").replace("_", "/") + "=" * (-len(text) % 4),
                    validate=True,
                )
            except (binascii.Error, ValueError):
                raise InvalidKey("the SPKI is not base64") from None
    try:
        if data.startswith(b"-----BEGIN"):
            key = serialization.load_pem_public_key(data)
        else:
            key = serialization.load_der_public_key(data)
    except (ValueError, UnsupportedAlgorithm):
        raise InvalidKey("the SPKI is not a valid DER public key") from None
    if not isinstance(key, ec.EllipticCurvePublicKey) or key.curve.name != _CURVE.name:
        raise InvalidKey("the SPKI is not a P-256 public key")
    return key


def public_jwk(key: ec.EllipticCurvePublicKey) -> dict[str, str]:
    """The JWK of a P-256 public key: ``crv``, ``kty``, ``x``, ``y`` (RFC 7518)."""
    numbers = key.public_numbers()
    return {
        "crv": "P-256",
        "kty": "EC",
        "x": _b64e(numbers.x.to_bytes(32, "big")),
        "y": _b64e(numbers.y.to_bytes(32, "big")),
    }


def jwk_thumbprint(key: ec.EllipticCurvePublicKey | Mapping[str, Any]) -> str:
    """RFC 7638 thumbprint (SHA-256, base64url): the device id of the key."""
    if not isinstance(key, ec.EllipticCurvePublicKey):
        key = load_jwk(key)
    jwk = public_jwk(key)
    return _b64e(hashlib.sha256(canonical_json(jwk)).digest())


def verify_p1363(key: ec.EllipticCurvePublicKey, signature: bytes, message: bytes) -> bool:
    """Whether ``signature`` (raw ``r || s``, 32 bytes each) is ``key``'s ECDSA-SHA256 of
    ``message``. WebCrypto signs in this IEEE P1363 form; ``cryptography`` wants DER."""
    if len(signature) != 64:
        return False
    r = int.from_bytes(signature[:32], "big")
    s = int.from_bytes(signature[32:], "big")
    if not (0 < r < _ORDER and 0 < s < _ORDER):
        return False
    try:
        key.verify(encode_dss_signature(r, s), message, ec.ECDSA(hashes.SHA256()))
    except InvalidSignature:
        return False
    return True


# --- the header and the base string ---------------------------------------------------


def _check_method_and_path(method: str, path: str) -> None:
    if not _METHOD.fullmatch(method):
        raise Malformed("the method must be an upper-case HTTP method")
    if len(path) > MAX_PATH_LENGTH or not _PATH.fullmatch(path) or "#" in path:
        raise Malformed("the path must be the path and query as sent (printable ASCII)")


def signature_base(
    method: str, path: str, digest: str, timestamp: int, nonce: str, device_id: str
) -> str:
    """The signature base string: seven lines joined by ``\\n``, no final newline.

    ``digest`` is :func:`body_digest` of the body; ``path`` the path and query as sent.
    """
    _check_method_and_path(method, path)
    if not re.fullmatch(r"[0-9a-f]{64}", digest):
        raise Malformed("the digest must be 64 lowercase hex digits")
    return "\n".join([BASE_STRING_LABEL, method, path, digest, str(timestamp), nonce, device_id])


@dataclass(frozen=True)
class SignatureHeader:
    """The parsed ``Toopher-Device-Signature`` header."""

    device_id: str
    timestamp: int
    nonce: str
    signature: bytes

    @classmethod
    def parse(cls, value: str | None) -> SignatureHeader:
        """Parse the header's value; :class:`Unsigned` if absent, :class:`Malformed` if bad."""
        if value is None or not value.strip():
            raise Unsigned(f"the call has no {HEADER} header")
        if len(value) > MAX_HEADER_LENGTH:
            raise Malformed("the signature header is too long")
        params: dict[str, str] = {}
        for item in value.split(","):
            name, sep, param = item.strip(" \t").partition("=")
            if not sep or name in params or name not in _PARAM_PATTERNS:
                raise Malformed(f"the signature header has a bad parameter {name[:16]!r}")
            if not _PARAM_PATTERNS[name].fullmatch(param):
                raise Malformed(f"the signature header's {name} is malformed")
            params[name] = param
        missing = sorted(set(_PARAM_PATTERNS) - set(params))
        if missing:
            raise Malformed(f"the signature header lacks {', '.join(missing)}")
        return cls(
            device_id=params["device"],
            timestamp=int(params["time"]),
            nonce=params["nonce"],
            signature=_b64d(params["sig"], "sig"),
        )

    def format(self) -> str:
        """The header's value, parameters in the documented order."""
        return (
            f"v=1, device={self.device_id}, time={self.timestamp}, "
            f"nonce={self.nonce}, sig={_b64e(self.signature)}"
        )


# --- replay ---------------------------------------------------------------------------


class SeenIds(Protocol):
    """Where one-time ids are remembered (the database or Redis in production)."""

    def add(self, device_id: str, nonce: str, expires_at: float) -> bool:
        """Record ``(device_id, nonce)`` until ``expires_at`` (Unix time); ``False`` if it
        was already recorded. Must be atomic across instances (a unique key, ``SET NX``)."""
        ...


class MemorySeenIds:
    """In-memory :class:`SeenIds` for tests and a single process; forgets expired ids."""

    def __init__(self, clock: Callable[[], float] = time.time) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self._seen: dict[tuple[str, str], float] = {}

    def add(self, device_id: str, nonce: str, expires_at: float) -> bool:
        """See :meth:`SeenIds.add`."""
        now = self._clock()
        with self._lock:
            self._seen = {k: t for k, t in self._seen.items() if t >= now}
            if (device_id, nonce) in self._seen:
                return False
            self._seen[(device_id, nonce)] = expires_at
            return True

    def __len__(self) -> int:
        return len(self._seen)


# --- verification ---------------------------------------------------------------------


@dataclass(frozen=True)
class VerifiedCall:
    """What a verified call proves: this device signed this call at this time."""

    device_id: str
    timestamp: int
    nonce: str


#: ``keys(device_id)``: the enrolled public key of a device, or ``None``.
KeyLookup = Callable[[str], ec.EllipticCurvePublicKey | None]


class DeviceVerifier:
    """Verifies device calls against enrolled keys, a clock window and the seen ids."""

    def __init__(
        self,
        keys: KeyLookup,
        seen: SeenIds,
        *,
        max_age: int = DEFAULT_MAX_AGE,
        max_future: int = DEFAULT_MAX_FUTURE,
        clock: Callable[[], float] = time.time,
    ) -> None:
        """``keys(device_id)`` gives an enrolled device's public key, or ``None``.

        A call is fresh when ``now - max_age <= time <= now + max_future`` (seconds).
        """
        if max_age < 0 or max_future < 0:
            raise ValueError("the clock window must not be negative")
        self._keys = keys
        self._seen = seen
        self.max_age = max_age
        self.max_future = max_future
        self._clock = clock

    def verify(
        self,
        method: str,
        path: str,
        body: bytes,
        header: str | None,
        *,
        key: ec.EllipticCurvePublicKey | None = None,
    ) -> VerifiedCall:
        """Verify one call; raise a :class:`DeviceSignatureError` subclass if refused.

        ``path`` is the path and query as the client sent them (Django:
        ``request.get_full_path()``), ``body`` the raw body bytes, ``header`` the value of
        :data:`HEADER` or ``None``. ``key`` verifies an enrollment call with the key it
        carries; the header's device id must then be that key's thumbprint.
        """
        parsed = SignatureHeader.parse(header)
        base = signature_base(
            method, path, body_digest(body), parsed.timestamp, parsed.nonce, parsed.device_id
        )
        self._check_time(parsed.timestamp)
        public_key = self._key_for(parsed.device_id, key)
        if not verify_p1363(public_key, parsed.signature, base.encode("utf-8")):
            raise BadSignature("the signature does not verify for this call and device")
        if not self._seen.add(parsed.device_id, parsed.nonce, parsed.timestamp + self.max_age):
            raise Replay("this one-time id was already used")
        return VerifiedCall(parsed.device_id, parsed.timestamp, parsed.nonce)

    def _check_time(self, timestamp: int) -> None:
        now = self._clock()
        if timestamp < now - self.max_age:
            raise Stale(f"the signed time is more than {self.max_age} s old")
        if timestamp > now + self.max_future:
            raise Stale(f"the signed time is more than {self.max_future} s ahead")

    def _key_for(
        self, device_id: str, key: ec.EllipticCurvePublicKey | None
    ) -> ec.EllipticCurvePublicKey:
        if key is not None:
            if jwk_thumbprint(key) != device_id:
                raise UnknownDevice("the device id is not the thumbprint of the enrolled key")
            return key
        found = self._keys(device_id)
        if found is None:
            raise UnknownDevice("no enrolled device has this id")
        return found


# --- the decision body ----------------------------------------------------------------

#: The answers a device can give: approve, deny, and deny with "this wasn't me".
DECISIONS = ("allow", "deny", "not_me", "allow_always")
_MAX_FIELD = 1024


def _utf8(value: str) -> bool:
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:  # a lone surrogate, as "\\ud800" in JSON makes
        return False
    return True


@dataclass(frozen=True)
class Decision:
    """The body of a decision call: the answer and everything the phone showed.

    Serialized as canonical JSON (:func:`canonical_json`), which the device signs through
    the body digest; the service refuses a body that is not exactly that serialization.
    ``code`` is the number the user picked (number matching) or ``None``.
    """

    request_id: str
    decision: str
    site: str
    user: str
    action: str
    terminal: str
    code: str | None = None

    def __post_init__(self) -> None:
        if self.decision not in DECISIONS:
            raise Malformed(f"decision must be one of {', '.join(DECISIONS)}")
        for f in fields(self):
            value = getattr(self, f.name)
            if f.name == "code" and value is None:
                continue
            if not isinstance(value, str) or len(value) > _MAX_FIELD or not _utf8(value):
                raise Malformed(f"{f.name} must be a string of at most {_MAX_FIELD} characters")
        if self.code is not None and not re.fullmatch(r"[0-9]{1,8}", self.code):
            raise Malformed("code must be 1 to 8 digits, or null")

    def to_json(self) -> bytes:
        """The canonical JSON body (sorted keys, no white space, UTF-8)."""
        return canonical_json({f.name: getattr(self, f.name) for f in fields(self)})

    @classmethod
    def from_json(cls, body: bytes) -> Decision:
        """Parse a decision body; :class:`Malformed` unless it is canonical and complete."""
        try:
            value = json.loads(body)
        except (ValueError, RecursionError):
            raise Malformed("the decision body is not JSON") from None
        names = {f.name for f in fields(cls)}
        if not isinstance(value, dict) or set(value) != names:
            raise Malformed(f"the decision body must have exactly {', '.join(sorted(names))}")
        decision = cls(**value)
        if decision.to_json() != body:
            raise Malformed("the decision body is not in canonical form")
        return decision

    def mismatches(
        self, *, request_id: str, site: str, user: str, action: str, terminal: str
    ) -> list[str]:
        """The shown fields that differ from the request's (empty: the phone showed it)."""
        expected = {
            "request_id": request_id,
            "site": site,
            "user": user,
            "action": action,
            "terminal": terminal,
        }
        return [name for name, value in expected.items() if getattr(self, name) != value]
