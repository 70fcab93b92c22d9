"""Where the service's key ring for secrets at rest comes from (``SecretBox``).

Requester secrets are stored encrypted (:mod:`toopher_server.secretbox`); the key ring
that encrypts them is, in this order:

1. the Django setting ``TOOPHER_SERVER_SECRET_KEYS`` (a string of keys separated by
   commas or white space, or a list of keys), when set and not empty;
2. the environment variable ``TOOPHER_SECRET_KEYS`` (what ``toopher-server init``
   generates and ``toopher_server.settings`` reads);
3. otherwise **one key derived from Django's ``SECRET_KEY``**. This is for the sandbox,
   the example project and the tests, which have no key of their own. Production must
   set its own keys: a key derived from ``SECRET_KEY`` changes when ``SECRET_KEY`` does
   (and then no stored secret decrypts), and it lives wherever ``SECRET_KEY`` lives,
   often next to the database's backups. ``manage.py check --deploy`` (and
   ``toopher-server check --deploy``) reports ``toopher_server.E001`` in that case.

Nothing here ever logs or shows a key.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import re
from collections.abc import Sequence
from typing import Literal

from django.conf import settings

from .secretbox import ENV_VAR, KeyConfigError, SecretBox

__all__ = ["SETTING", "KeySource", "derived_key", "explicit_keys", "key_source", "secret_box"]

#: The Django setting that may hold the key ring.
SETTING = "TOOPHER_SERVER_SECRET_KEYS"
_DERIVE_LABEL = b"toopher_server secret box key, derived from SECRET_KEY, v1"

KeySource = Literal["setting", "environment", "derived"]

_boxes: dict[tuple[str, ...], SecretBox] = {}


def _split(value: str | Sequence[str] | None) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        return tuple(k for k in re.split(r"[\s,]+", value) if k)
    return tuple(str(k).strip() for k in value if str(k).strip())


def derived_key(secret_key: str) -> str:
    """The development key: HMAC-SHA256 of a fixed label under ``secret_key``, base64url.

    Only for projects without keys of their own (the sandbox, the example project, the
    tests). Production sets ``TOOPHER_SECRET_KEYS`` (see the module docstring).
    """
    digest = hmac.new(secret_key.encode("utf-8"), _DERIVE_LABEL, hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def explicit_keys() -> tuple[KeySource, tuple[str, ...]] | None:
    """The configured key ring and where it came from, or None when none is configured."""
    from_setting = _split(getattr(settings, SETTING, None))
    if from_setting:
        return "setting", from_setting
    from_env = _split(os.environ.get(ENV_VAR))
    if from_env:
        return "environment", from_env
    return None


def key_source() -> KeySource:
    """Where the key ring comes from now: ``"setting"``, ``"environment"`` or ``"derived"``."""
    found = explicit_keys()
    return found[0] if found else "derived"


def secret_box() -> SecretBox:
    """The key ring in force (cached per configured value; a changed setting is seen).

    Raises :class:`~toopher_server.secretbox.KeyConfigError` when the configured keys are
    malformed, or when no key is configured and ``SECRET_KEY`` is empty.
    """
    found = explicit_keys()
    if found is not None:
        keys = found[1]
    else:
        secret_key = str(getattr(settings, "SECRET_KEY", "") or "")
        if not secret_key:
            raise KeyConfigError(
                f"no key ring: set {ENV_VAR} (or the setting {SETTING}), or SECRET_KEY"
            )
        keys = (derived_key(secret_key),)
    box = _boxes.get(keys)
    if box is None:
        box = SecretBox(keys)
        if len(_boxes) > 16:  # settings changed many times (tests): start again
            _boxes.clear()
        _boxes[keys] = box
    return box
