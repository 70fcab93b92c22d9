"""Keep the mounted sandbox's tables in a database of their own.

The example site is its own Toopher service: the sandbox runs in the same process and
serves the site's API calls while the site serves a request. A real deployment keeps
the service's data apart from the site's; so does the example, and SQLite then never
makes the sandbox wait for a write lock the site holds (or the other way round).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # settings import this module: keep it free of Django imports
    from django.db.models import Model

#: The database alias of the sandbox's tables (see settings.DATABASES).
SANDBOX_DATABASE = "sandbox"
#: The apps whose models live there: the service and the sandbox on top of it.
SANDBOX_APPS = ("toopher_server", "toopher_sandbox")


def sandbox_sqlite_path(default: dict[str, Any]) -> Path:
    """Where the sandbox's SQLite file goes: beside the site's own SQLite file (so each
    test server's pair stays together), else ``example_project/sandbox.sqlite3``."""
    name = str(default.get("NAME", ""))
    if default.get("ENGINE") == "django.db.backends.sqlite3" and name and name != ":memory:":
        return Path(name).with_name("sandbox.sqlite3")
    return Path(__file__).resolve().parent.parent / "sandbox.sqlite3"


def _is_sandbox(model_or_obj: Any) -> bool:
    return getattr(getattr(model_or_obj, "_meta", None), "app_label", None) in SANDBOX_APPS


class SandboxRouter:
    """``toopher_server`` and ``toopher_sandbox`` read, write and migrate in
    :data:`SANDBOX_DATABASE` only; no other app migrates there. Everything else is left
    to the default database."""

    def db_for_read(self, model: type[Model], **hints: Any) -> str | None:
        return SANDBOX_DATABASE if _is_sandbox(model) else None

    def db_for_write(self, model: type[Model], **hints: Any) -> str | None:
        return SANDBOX_DATABASE if _is_sandbox(model) else None

    def allow_relation(self, obj1: Model, obj2: Model, **hints: Any) -> bool | None:
        """Relations stay inside one database: both in the sandbox, or neither."""
        if _is_sandbox(obj1) or _is_sandbox(obj2):
            return _is_sandbox(obj1) and _is_sandbox(obj2)
        return None

    def allow_migrate(
        self, db: str, app_label: str, model_name: str | None = None, **hints: Any
    ) -> bool | None:
        if app_label in SANDBOX_APPS:
            return db == SANDBOX_DATABASE
        if db == SANDBOX_DATABASE:
            return False
        return None
