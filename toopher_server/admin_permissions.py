"""The admin's "no permission" rules, written once for every admin of the service."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest


class NoAddMixin:
    """Rows of this model are made by the service or its commands, never in the admin."""

    def has_add_permission(self, request: HttpRequest, *args: Any) -> bool:
        """Nobody adds one here."""
        return False


class NoChangeMixin:
    """Rows of this model are never edited in the admin (viewing needs the view
    permission)."""

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        """Nobody changes one here."""
        return False


class NoDeleteMixin:
    """Rows of this model are never deleted in the admin."""

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        """Nobody deletes one here."""
        return False


class ReadOnlyMixin(NoAddMixin, NoChangeMixin, NoDeleteMixin):
    """Listed, searched and read; never added, changed or deleted, by anyone.

    Django's admin then shows every field as text and offers no save or delete button;
    a forged POST is refused (403).
    """
