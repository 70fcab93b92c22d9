"""The service's Django settings, each read in one place.

Every setting is ``TOOPHER_SERVER_<NAME>``; the sandbox's older names
(``TOOPHER_SANDBOX_<NAME>``) are still read when the new one is not set, so a project
that mounted the sandbox before the service was split out keeps its configuration.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings

PREFIXES = ("TOOPHER_SERVER_", "TOOPHER_SANDBOX_")


def setting_int(name: str, default: int) -> int:
    """The integer setting ``TOOPHER_SERVER_<name>`` (or its sandbox name), else ``default``."""
    return int(setting(name, default))


def setting(name: str, default: Any = None) -> Any:
    """The setting ``TOOPHER_SERVER_<name>`` (or its sandbox name) as set, else ``default``."""
    for prefix in PREFIXES:
        value = getattr(settings, prefix + name, None)
        if value is not None:
            return value
    return default
