"""System checks of the service.

``toopher_server.E001`` (deploy): no key ring of its own is configured, so requester
secrets are encrypted with a key derived from ``SECRET_KEY`` (see
:mod:`toopher_server.keys`), which is for development only.
``toopher_server.E002`` (always): the configured key ring is malformed.
``toopher_server.E003`` (deploy): no audit key of its own is configured, so the audit
trail's chain is keyed with a key derived from ``SECRET_KEY`` (development only).
``toopher_server.E004`` (always): the audit key is malformed.
``toopher_server.E005`` (always): ``TOOPHER_SERVER_RATE_LIMITS`` is malformed.
"""

from __future__ import annotations

from typing import Any

from django.core import checks
from django.core.exceptions import ImproperlyConfigured

from . import audit, keys, ratelimit
from .auditchain import AuditKeyError
from .secretbox import ENV_VAR, KeyConfigError


@checks.register(checks.Tags.security, deploy=True)
def check_secret_keys_deploy(app_configs: Any = None, **kwargs: Any) -> list[checks.CheckMessage]:
    """E001: a deployment must have its own key ring for secrets at rest."""
    if keys.explicit_keys() is not None:
        return []
    return [
        checks.Error(
            "Requester secrets are encrypted with a key derived from SECRET_KEY: "
            "a development fallback.",
            hint=f"Set {ENV_VAR} (toopher-server init generates a value) or the setting "
            f"{keys.SETTING}, and keep it apart from the database's backups.",
            id="toopher_server.E001",
        )
    ]


@checks.register(checks.Tags.security)
def check_secret_keys_valid(app_configs: Any = None, **kwargs: Any) -> list[checks.CheckMessage]:
    """E002: the configured key ring must load (the message never shows a key)."""
    try:
        keys.secret_box()
    except KeyConfigError as exc:
        return [
            checks.Error(
                f"The key ring for secrets at rest does not load: {exc}",
                hint=f"{ENV_VAR} holds base64url keys of 32 bytes (43 characters), "
                "separated by commas, the encrypting key first.",
                id="toopher_server.E002",
            )
        ]
    return []


@checks.register(checks.Tags.security, deploy=True)
def check_audit_key_deploy(app_configs: Any = None, **kwargs: Any) -> list[checks.CheckMessage]:
    """E003: a deployment keys its audit chain with its own key."""
    if audit.audit_key_is_explicit():
        return []
    return [
        checks.Error(
            "The audit trail's chain is keyed with a key derived from SECRET_KEY: "
            "a development fallback.",
            hint="Set TOOPHER_AUDIT_KEY (toopher-server init generates a value) or the "
            "setting TOOPHER_SERVER_AUDIT_KEY, and keep it apart from the database.",
            id="toopher_server.E003",
        )
    ]


@checks.register(checks.Tags.security)
def check_audit_key_valid(app_configs: Any = None, **kwargs: Any) -> list[checks.CheckMessage]:
    """E004: the configured audit key must load (the message never shows it)."""
    try:
        audit.audit_key()
    except AuditKeyError as exc:
        return [checks.Error(f"The audit key does not load: {exc}", id="toopher_server.E004")]
    return []


@checks.register()
def check_rate_limits(app_configs: Any = None, **kwargs: Any) -> list[checks.CheckMessage]:
    """E005: ``TOOPHER_SERVER_RATE_LIMITS`` must be well formed."""
    try:
        ratelimit.rate_limits()
    except ImproperlyConfigured as exc:
        return [checks.Error(str(exc), id="toopher_server.E005")]
    return []
