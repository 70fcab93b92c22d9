"""Signal receivers that turn a login into a pending login.

Every login path (the site's login view, the admin login, a password-reset
auto-login, a social login, ``Client.force_login``) ends in
``django.contrib.auth.login()``, which sends ``user_logged_in``. The receiver hands
the request to :func:`django_toopher.internal.flows.hook.on_user_logged_in`, which
lets the login through (no approval needed, or already approved) or removes the auth
keys from the session and keeps a pending login instead.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth.signals import user_logged_in
from django.dispatch import receiver

from .internal.flows import hook


@receiver(user_logged_in, dispatch_uid="django_toopher.receivers.intercept_login")
def intercept_login(sender: Any, request: Any = None, user: Any = None, **kwargs: Any) -> None:
    """Make the login pending when the user needs a Toopher approval."""
    if user is None:
        return
    hook.on_user_logged_in(request, user)
