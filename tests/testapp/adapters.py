"""The adapter example of docs/adapter.md: Toopher knows users by their email address."""

from __future__ import annotations

from typing import Any

from django_toopher.adapter import DefaultToopherAdapter


class EmailAdapter(DefaultToopherAdapter):
    """Toopher user name = the lower-cased email address; staff without a phone are
    still asked (the default), service accounts never are."""

    def toopher_user_name(self, user: Any) -> str:
        return user.email.strip().lower()

    def is_toopher_enabled(self, user: Any, profile: Any) -> bool:
        if user.username.startswith("svc-"):
            return False
        return super().is_toopher_enabled(user, profile)
