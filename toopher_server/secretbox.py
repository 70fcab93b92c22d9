"""Secrets at rest: requester secrets and TOTP seeds encrypted with a key kept outside the DB.

OAuth 1.0a HMAC-SHA1 needs a requester's secret in clear to verify a call, so it cannot
be hashed; it is encrypted instead, with a key from the environment, and a dump of the
database alone reveals nothing.

Why AES-256-GCM (``cryptography``'s ``AESGCM``) and not Fernet/MultiFernet:

- *Associated data.* A ciphertext is bound to its row (``row_aad("requester", 42)``): moved
  to another row, or to another column kind, it no longer decrypts. Fernet has no
  associated data; it would need a second MAC of our own.
- *A key id in every ciphertext.* Rotation reads the id and picks the key; a wrong or
  missing key is a clear :class:`UnknownKey`, not "bad token". MultiFernet tries every key
  in turn and cannot say which key a token needs.
- 256-bit keys (Fernet's AES is 128-bit), a one-pass AEAD, and a small, documented format.

Ciphertext format (ASCII, fits a ``CharField``/``TextField``)::

    tsb1.<key id>.<base64url(nonce(12) || ciphertext || tag(16))>

The key id is derived from the key (``HMAC-SHA256(key, "toopher-secretbox key id")``, the
first 8 bytes, base64url): an operator cannot label a key wrongly, and the id says nothing
about the key. The version, the key id and the caller's associated data are all
authenticated (they are the AEAD's associated data). Nonces are 96 random bits; at the
handful of secrets per requester this service encrypts, the 2**32 messages per key bound
of random GCM nonces is far away.

Key ring: ``TOOPHER_SECRET_KEYS`` holds one or more keys (base64url, 32 bytes each),
separated by commas or white space. The first key encrypts; every key decrypts. To rotate:
put a new key first, keep the old one after it, re-encrypt every row
(:meth:`SecretBox.reencrypt`, :meth:`SecretBox.needs_reencrypt`), then drop the old key.

No message or ``repr`` of anything in this module shows a key or a plaintext.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import os
import re
import secrets
from collections.abc import Iterable, Mapping

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

__all__ = [
    "ENV_VAR",
    "DecryptError",
    "KeyConfigError",
    "SecretBox",
    "SecretBoxError",
    "UnknownKey",
    "generate_key",
    "row_aad",
]

#: The environment variable :meth:`SecretBox.from_env` reads by default.
ENV_VAR = "TOOPHER_SECRET_KEYS"
VERSION = "tsb1"
KEY_BYTES = 32
NONCE_BYTES = 12
_KEY_ID_LABEL = b"toopher-secretbox key id"
_B64URL = re.compile(r"^[A-Za-z0-9_-]+$")


class SecretBoxError(Exception):
    """Base of this module's errors. Messages never hold a key, a plaintext or a token."""

    code = "secretbox"


class KeyConfigError(SecretBoxError):
    """The key ring is missing or malformed (the environment value, not a ciphertext)."""

    code = "key_config"


class DecryptError(SecretBoxError):
    """A ciphertext does not decrypt: malformed, tampered, or bound to other associated data."""

    code = "decrypt"


class UnknownKey(DecryptError):
    """A ciphertext names a key id that is not in the key ring (a key was dropped too soon)."""

    code = "unknown_key"

    def __init__(self, key_id: str) -> None:
        super().__init__(f"no key with id {key_id!r} in the key ring")
        #: The key id the ciphertext names (not secret).
        self.key_id = key_id


def _b64e(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _b64d(text: str) -> bytes:
    """Strict unpadded base64url; raises ``ValueError``."""
    if not _B64URL.match(text) or len(text) % 4 == 1:
        raise ValueError("not base64url")
    try:
        return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except binascii.Error as exc:  # pragma: no cover - excluded by the pattern above
        raise ValueError("not base64url") from exc


def generate_key() -> str:
    """A new random 256-bit key, base64url without padding (43 characters).

    What ``toopher-server init`` writes for ``TOOPHER_SECRET_KEYS``.
    """
    return _b64e(secrets.token_bytes(KEY_BYTES))


def row_aad(kind: str, row_id: object) -> bytes:
    """The associated data that binds a ciphertext to one row: ``["kind","id"]`` as JSON.

    ``kind`` names the table and column (``"requester_secret"``, ``"totp_seed"``); JSON
    keeps ``("a:b", "c")`` and ``("a", "b:c")`` apart.
    """
    return json.dumps([str(kind), str(row_id)], separators=(",", ":")).encode("utf-8")


class _Key:
    """One key of the ring. Its repr shows the id only."""

    __slots__ = ("_aead", "key_id")

    def __init__(self, raw: bytes) -> None:
        if len(raw) != KEY_BYTES:
            raise KeyConfigError(f"a key must be {KEY_BYTES} bytes (base64url, 43 characters)")
        digest = hmac.new(raw, _KEY_ID_LABEL, hashlib.sha256).digest()
        self.key_id = _b64e(digest[:8])
        self._aead = AESGCM(raw)

    def __repr__(self) -> str:
        return f"<key {self.key_id}>"


def _aad(key_id: str, aad: bytes) -> bytes:
    return f"{VERSION}.{key_id}.".encode("ascii") + aad


def _as_bytes(value: bytes | str) -> bytes:
    return value.encode("utf-8") if isinstance(value, str) else bytes(value)


class SecretBox:
    """A key ring that encrypts with its first key and decrypts with any of them."""

    def __init__(self, keys: Iterable[str | bytes]) -> None:
        """``keys``: base64url strings (as :func:`generate_key` makes) or raw 32-byte keys."""
        ring = [_Key(self._decode_key(k)) for k in keys]
        if not ring:
            raise KeyConfigError("the key ring is empty")
        self._primary = ring[0]
        self._keys: dict[str, _Key] = {}
        for key in ring:
            if key.key_id in self._keys:
                raise KeyConfigError(f"key {key.key_id} is in the key ring twice")
            self._keys[key.key_id] = key

    @staticmethod
    def _decode_key(key: str | bytes) -> bytes:
        if isinstance(key, bytes):
            return key
        try:
            return _b64d(key.strip())
        except ValueError:
            raise KeyConfigError("a key is not base64url") from None

    @classmethod
    def from_env(cls, var: str = ENV_VAR, environ: Mapping[str, str] | None = None) -> SecretBox:
        """The key ring in ``environ[var]`` (default ``os.environ``): keys separated by
        commas or white space, the encrypting key first."""
        value = (os.environ if environ is None else environ).get(var, "")
        keys = [k for k in re.split(r"[\s,]+", value) if k]
        if not keys:
            raise KeyConfigError(f"{var} is not set: it must hold at least one key")
        return cls(keys)

    @property
    def key_ids(self) -> tuple[str, ...]:
        """The ids of the ring's keys, the encrypting key first."""
        return tuple(self._keys)

    @property
    def primary_key_id(self) -> str:
        """The id of the key that encrypts."""
        return self._primary.key_id

    def __repr__(self) -> str:
        return f"<SecretBox keys={list(self._keys)}>"

    def encrypt(self, plaintext: bytes | str, aad: bytes | str) -> str:
        """Encrypt under the first key, bound to ``aad`` (see :func:`row_aad`)."""
        key = self._primary
        nonce = secrets.token_bytes(NONCE_BYTES)
        sealed = key._aead.encrypt(nonce, _as_bytes(plaintext), _aad(key.key_id, _as_bytes(aad)))
        return f"{VERSION}.{key.key_id}.{_b64e(nonce + sealed)}"

    def key_id_of(self, token: str) -> str:
        """The key id a ciphertext names; :class:`DecryptError` if it is malformed."""
        return self._split(token)[0]

    def decrypt(self, token: str, aad: bytes | str) -> bytes:
        """The plaintext of ``token``; :class:`DecryptError` (or :class:`UnknownKey`) if the
        token is malformed, tampered, bound to other associated data or under a missing key."""
        key_id, blob = self._split(token)
        key = self._keys.get(key_id)
        if key is None:
            raise UnknownKey(key_id)
        try:
            return key._aead.decrypt(
                blob[:NONCE_BYTES], blob[NONCE_BYTES:], _aad(key_id, _as_bytes(aad))
            )
        except InvalidTag:
            raise DecryptError(
                f"ciphertext under key {key_id} does not authenticate: tampered, "
                "or bound to another row"
            ) from None

    def decrypt_text(self, token: str, aad: bytes | str) -> str:
        """:meth:`decrypt`, decoded as UTF-8."""
        try:
            return self.decrypt(token, aad).decode("utf-8")
        except UnicodeDecodeError:
            raise DecryptError("plaintext is not UTF-8") from None

    def needs_reencrypt(self, token: str) -> bool:
        """Whether ``token`` is under a key other than the encrypting one."""
        return self.key_id_of(token) != self._primary.key_id

    def reencrypt(self, token: str, aad: bytes | str) -> str:
        """``token`` decrypted with whichever key it names and encrypted under the first key.

        Rotation: for each row where :meth:`needs_reencrypt`, store
        ``box.reencrypt(old, row_aad(kind, pk))``; when none is left, drop the old key.
        """
        return self.encrypt(self.decrypt(token, aad), aad)

    def _split(self, token: str) -> tuple[str, bytes]:
        if not isinstance(token, str):
            raise DecryptError("a ciphertext is a str")
        parts = token.split(".")
        if len(parts) != 3 or parts[0] != VERSION:
            raise DecryptError(f"not a {VERSION} ciphertext")
        try:
            blob = _b64d(parts[2])
        except ValueError:
            raise DecryptError("ciphertext body is not base64url") from None
        if not _B64URL.match(parts[1]) or len(blob) < NONCE_BYTES + 16:
            raise DecryptError("ciphertext is truncated or malformed")
        return parts[1], blob
