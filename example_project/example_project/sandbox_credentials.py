"""Requester credentials for the built-in sandbox, derived from ``SECRET_KEY``.

When no ``TOOPHER_API_URL`` is configured the example site mounts ``toopher_sandbox``
and speaks to itself. It needs a consumer key and secret that the sandbox knows, with
nothing configured and the same on every start, so both are derived from the site's
``SECRET_KEY`` (HMAC-SHA256 with distinct labels). The sandbox requester is then made
to exist with exactly these credentials (see ``demo_site.sandbox``). The sandbox's
control API token is derived the same way: it is as secret as ``SECRET_KEY``.
"""

from __future__ import annotations

import hashlib
import hmac

_LABEL = "django-toopher example site: sandbox requester"


def _derive(secret_key: str, part: str, length: int) -> str:
    digest = hmac.new(
        secret_key.encode("utf-8"), f"{_LABEL}: {part}".encode(), hashlib.sha256
    ).hexdigest()
    return digest[:length]


def derive_credentials(secret_key: str) -> tuple[str, str]:
    """Return ``(consumer_key, consumer_secret)`` derived from ``secret_key``.

    The key is 20 hex digits (80 bits, an identifier), the secret 40 hex digits
    (160 bits). Neither reveals ``secret_key``.
    """
    if not secret_key:
        raise ValueError("SECRET_KEY is empty; cannot derive sandbox credentials")
    return _derive(secret_key, "key", 20), _derive(secret_key, "secret", 40)


def derive_control_token(secret_key: str) -> str:
    """The mounted sandbox's control API token (32 hex digits) derived from ``secret_key``."""
    if not secret_key:
        raise ValueError("SECRET_KEY is empty; cannot derive the sandbox control token")
    return _derive(secret_key, "control token", 32)
