"""The decorator stacks of the pages: the views of a pending login, and the pages that
change the second factor."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_protect
from django.views.decorators.http import require_http_methods

from ..decorators import reauthentication_required
from ..internal.http import login_not_required
from .unavailable import guarded

F = TypeVar("F", bound=Callable[..., Any])


def pending_view(*methods: str, json: bool = False) -> Callable[[F], F]:
    """The decorators of every view of a pending login: reachable without a login,
    never cached, CSRF-checked whatever the middleware list, only ``methods``, and a
    503 with a retry path when the database or the cache fails."""

    def decorate(view: F) -> F:
        view = guarded(json=json)(view)
        view = require_http_methods(list(methods))(view)
        view = csrf_protect(view)
        view = never_cache(view)
        return login_not_required(view)

    return decorate


def change_view(view: F) -> F:
    """The decorators of a page that changes the second factor (pairing, unpairing,
    terminals): GET or a CSRF-checked POST, never cached, a recent authentication."""
    view = guarded()(view)
    view = reauthentication_required(view)
    view = require_http_methods(["GET", "POST"])(view)
    return never_cache(csrf_protect(view))


__all__ = ["change_view", "pending_view"]
