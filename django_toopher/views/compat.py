"""What differs between the supported Django versions, for the views."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import django
from django.http import HttpResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_protect
from django.views.decorators.http import require_http_methods

from ..decorators import reauthentication_required
from .unavailable import guarded

F = TypeVar("F", bound=Callable[..., Any])


def _mark_login_not_required(view: F) -> F:
    """Django 4.2 has no LoginRequiredMiddleware to opt out of: just mark the view."""
    view.login_required = False  # type: ignore[attr-defined]
    return view


if django.VERSION >= (5, 1):
    from django.contrib.auth.decorators import login_not_required  # only from Django 5.1
else:  # pragma: no cover - Django 4.2
    login_not_required = _mark_login_not_required  # type: ignore[assignment]


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


def png(image: bytes) -> HttpResponse:
    """A QR code image as the answer (never sniffed as anything else)."""
    response = HttpResponse(image, content_type="image/png")
    response["X-Content-Type-Options"] = "nosniff"
    return response


__all__ = ["change_view", "login_not_required", "pending_view", "png"]
