"""RFC 6238 TOTP (6 digits, 30 s steps, HMAC-SHA1), the app's one-time passwords."""

import base64
import hashlib
import hmac
import secrets
import struct
import time

DIGITS = 6
STEP = 30


def new_secret() -> str:
    """A random base32 secret of 160 bits."""
    return base64.b32encode(secrets.token_bytes(20)).decode("ascii")


def hotp(secret: str, counter: int, digits: int = DIGITS) -> str:
    """RFC 4226 HOTP value of a base32 secret at a counter."""
    key = base64.b32decode(secret)
    digest = hmac.new(key, struct.pack(">Q", counter), hashlib.sha1).digest()
    offset = digest[-1] & 0x0F
    code = struct.unpack(">I", digest[offset : offset + 4])[0] & 0x7FFFFFFF
    return str(code % 10**digits).zfill(digits)


def totp(secret: str, at: float | None = None) -> str:
    """The TOTP value of a base32 secret at a Unix time (now by default)."""
    now = time.time() if at is None else at
    return hotp(secret, int(now // STEP))


def seconds_left(at: float | None = None) -> int:
    """Seconds until the current TOTP value changes."""
    now = time.time() if at is None else at
    return STEP - int(now) % STEP


def verify(secret: str, otp: str, window: int = 1, at: float | None = None) -> bool:
    """True when ``otp`` matches the TOTP within ``window`` steps either side."""
    if not isinstance(otp, str) or len(otp) != DIGITS or not otp.isascii() or not otp.isdigit():
        return False
    now = time.time() if at is None else at
    counter = int(now // STEP)
    return any(
        hmac.compare_digest(hotp(secret, counter + delta), otp)
        for delta in range(-window, window + 1)
    )
