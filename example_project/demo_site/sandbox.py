"""Keep the mounted sandbox's requester in step with the site's TOOPHER credentials."""

from __future__ import annotations

from typing import Any

from django.apps import apps
from django.conf import settings
from django.core.management import call_command
from django.db import DEFAULT_DB_ALIAS, router


def sandbox_requester() -> dict[str, str] | None:
    """The requester the sandbox must know, or None when a real service is configured."""
    return getattr(settings, "TOOPHER_SANDBOX_REQUESTER", None)


def sandbox_database() -> str:
    """The alias of the database that holds the sandbox's tables (see the router)."""
    return router.db_for_write(apps.get_model("toopher_server", "Requester")) or DEFAULT_DB_ALIAS


def migrate_all(verbosity: int = 0) -> None:
    """Migrate every configured database: the site's and, apart, the sandbox's."""
    for alias in settings.DATABASES:
        call_command("migrate", database=alias, interactive=False, verbosity=verbosity)


def ensure_sandbox_requester() -> bool:
    """Create (or keep) the sandbox requester with the site's key and secret.

    Returns True when the sandbox is in use and the requester now exists.
    """
    wanted = sandbox_requester()
    if not wanted:
        return False
    from toopher_server.requesters import ensure_requester

    ensure_requester(wanted["key"], wanted["secret"], wanted["name"])
    return True


def ensure_sandbox_requester_after_migrate(
    sender: Any, using: str = DEFAULT_DB_ALIAS, **kwargs: Any
) -> None:
    """``post_migrate`` receiver: the sandbox tables exist now, so the requester can too.

    ``post_migrate`` is sent once per app with models and per migrated database; act
    on the sandbox's, in the sandbox's database only.
    """
    if getattr(sender, "name", None) == "toopher_sandbox" and using == sandbox_database():
        ensure_sandbox_requester()
