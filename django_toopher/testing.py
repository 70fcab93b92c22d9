"""Helpers for the tests of sites that use django_toopher (and for ours).

``force_login_verified(client, user)`` logs a test client in as if the user had
approved the login on the phone: Django's ``Client.force_login`` goes through
``login()``, which django_toopher would otherwise turn into a pending login.
``approved_login()`` is the context manager behind it, for code that verified the
second factor itself.
"""

from __future__ import annotations

from typing import Any

from .internal.flows.hook import approved_login


def force_login_verified(client: Any, user: Any, backend: str | None = None) -> None:
    """``client.force_login(user)`` with the second factor counted as done."""
    with approved_login():
        client.force_login(user, backend=backend)


__all__ = ["approved_login", "force_login_verified"]
