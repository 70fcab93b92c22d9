"""Keep the mounted sandbox's requester in step with the site's TOOPHER credentials."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS


def sandbox_requester() -> dict[str, str] | None:
    """The requester the sandbox must know, or None when a real service is configured."""
    return getattr(settings, "TOOPHER_SANDBOX_REQUESTER", None)


def ensure_sandbox_requester() -> bool:
    """Create (or keep) the sandbox requester with the site's key and secret.

    Returns True when the sandbox is in use and the requester now exists.
    """
    wanted = sandbox_requester()
    if not wanted:
        return False
    from toopher_sandbox.requesters import ensure_requester

    ensure_requester(wanted["key"], wanted["secret"], wanted["name"])
    return True


def ensure_sandbox_requester_after_migrate(
    sender: Any, using: str = DEFAULT_DB_ALIAS, **kwargs: Any
) -> None:
    """``post_migrate`` receiver: the sandbox tables exist now, so the requester can too.

    ``post_migrate`` is sent once per app with models; act on the sandbox's only.
    """
    if getattr(sender, "name", None) == "toopher_sandbox" and using == DEFAULT_DB_ALIAS:
        ensure_sandbox_requester()
