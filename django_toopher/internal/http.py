"""What the pages and the JSON API share at the HTTP level: opting a view out of
Django's ``LoginRequiredMiddleware`` on every supported Django, and the QR image."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import django
from django.http import HttpResponse

F = TypeVar("F", bound=Callable[..., Any])


def _mark_login_not_required(view: F) -> F:
    """Django 4.2 has no LoginRequiredMiddleware to opt out of: just mark the view."""
    view.login_required = False  # type: ignore[attr-defined]
    return view


if django.VERSION >= (5, 1):
    from django.contrib.auth.decorators import login_not_required  # only from Django 5.1
else:  # pragma: no cover - Django 4.2
    login_not_required = _mark_login_not_required  # type: ignore[assignment]


def png(image: bytes) -> HttpResponse:
    """A QR code image as the answer (never sniffed as anything else)."""
    response = HttpResponse(image, content_type="image/png")
    response["X-Content-Type-Options"] = "nosniff"
    return response


__all__ = ["login_not_required", "png"]
