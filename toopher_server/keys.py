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

The rule "a setting, else an environment variable, else derived from ``SECRET_KEY``" is
stated once, in :func:`key_material` (with :func:`explicit_value`, its first two steps):
the audit key (:mod:`toopher_server.audit`) comes from it too.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import re
from collections.abc import Callable, Sequence
from typing import Any, Literal, TypeVar

from django.conf import settings

from .secretbox import ENV_VAR, KeyConfigError, SecretBox

__all__ = [
    "SETTING",
    "KeySource",
    "derived_from_secret_key",
    "derived_key",
    "explicit_keys",
    "explicit_value",
    "key_material",
    "key_source",
    "secret_box",
]

#: The Django setting that may hold the key ring.
SETTING = "TOOPHER_SERVER_SECRET_KEYS"
_DERIVE_LABEL = b"toopher_server secret box key, derived from SECRET_KEY, v1"

KeySource = Literal["setting", "environment", "derived"]
ExplicitSource = Literal["setting", "environment"]
T = TypeVar("T")

_boxes: dict[tuple[str, ...], SecretBox] = {}


def _split(value: str | Sequence[str] | None) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        return tuple(k for k in re.split(r"[\s,]+", value) if k)
    return tuple(str(k).strip() for k in value if str(k).strip())


def explicit_value(
    setting_value: Any, env_var: str, read: Callable[[Any], T]
) -> tuple[ExplicitSource, T] | None:
    """An operator's key: ``read(setting_value)`` if not empty, else ``read`` of the
    environment variable ``env_var`` if not empty; with where it came from, or None."""
    from_setting = read(setting_value)
    if from_setting:
        return "setting", from_setting
    from_env = read(os.environ.get(env_var))
    if from_env:
        return "environment", from_env
    return None


def derived_from_secret_key(label: bytes) -> bytes:
    """The development key for ``label``: HMAC-SHA256 of it under Django's ``SECRET_KEY``.

    Raises :class:`~toopher_server.secretbox.KeyConfigError` when ``SECRET_KEY`` is empty.
    """
    secret_key = str(getattr(settings, "SECRET_KEY", "") or "")
    if not secret_key:
        raise KeyConfigError("no key: set one of the service's keys, or SECRET_KEY")
    return _hmac(secret_key, label)


def key_material(
    setting_value: Any, env_var: str, read: Callable[[Any], T], label: bytes
) -> tuple[ExplicitSource, T] | tuple[Literal["derived"], bytes]:
    """THE rule of the service's keys: a setting, else an environment variable (each as
    ``read`` finds it), else derived from ``SECRET_KEY`` under ``label``; with where it
    came from (production must not use ``"derived"``: the deploy checks say so)."""
    found = explicit_value(setting_value, env_var, read)
    if found is not None:
        return found
    return "derived", derived_from_secret_key(label)


def _hmac(secret_key: str, label: bytes) -> bytes:
    return hmac.new(secret_key.encode("utf-8"), label, hashlib.sha256).digest()


def derived_key(secret_key: str) -> str:
    """The development key: HMAC-SHA256 of a fixed label under ``secret_key``, base64url.

    Only for projects without keys of their own (the sandbox, the example project, the
    tests). Production sets ``TOOPHER_SECRET_KEYS`` (see the module docstring).
    """
    return _b64(_hmac(secret_key, _DERIVE_LABEL))


def _b64(digest: bytes) -> str:
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def explicit_keys() -> tuple[KeySource, tuple[str, ...]] | None:
    """The configured key ring and where it came from, or None when none is configured."""
    return explicit_value(getattr(settings, SETTING, None), ENV_VAR, _split)


def key_source() -> KeySource:
    """Where the key ring comes from now: ``"setting"``, ``"environment"`` or ``"derived"``."""
    found = explicit_keys()
    return found[0] if found else "derived"


def secret_box() -> SecretBox:
    """The key ring in force (cached per configured value; a changed setting is seen).

    Raises :class:`~toopher_server.secretbox.KeyConfigError` when the configured keys are
    malformed, or when no key is configured and ``SECRET_KEY`` is empty.
    """
    try:
        found = key_material(getattr(settings, SETTING, None), ENV_VAR, _split, _DERIVE_LABEL)
    except KeyConfigError:
        raise KeyConfigError(
            f"no key ring: set {ENV_VAR} (or the setting {SETTING}), or SECRET_KEY"
        ) from None
    keys = (_b64(found[1]),) if found[0] == "derived" else found[1]
    box = _boxes.get(keys)
    if box is None:
        box = SecretBox(keys)
        if len(_boxes) > 16:  # settings changed many times (tests): start again
            _boxes.clear()
        _boxes[keys] = box
    return box
