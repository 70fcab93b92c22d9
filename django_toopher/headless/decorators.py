"""``@api_toopher_required``: the JSON form of ``@toopher_required`` for a site's own
API views (used with the JSON API's client kinds)."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from django.http import HttpRequest, HttpResponse

from .views.actions import step_up

View = Callable[..., HttpResponse]


def api_toopher_required(
    *, action: str, max_age: int | None = None, if_configured: bool = False
) -> Callable[[View], View]:
    """Require a fresh phone approval of ``action`` before the view runs; otherwise
    answer ``403 {"error": {"code": "approval_required"}, "data": {"pending": ...}}``
    (the approval has begun: start its push with ``pending/start`` and poll it)."""
    if not action or not isinstance(action, str):
        raise ValueError("api_toopher_required needs an action name")

    def decorator(view: View) -> View:
        @functools.wraps(view)
        def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            refusal = step_up(request, action, max_age, if_configured=if_configured)
            return refusal if refusal is not None else view(request, *args, **kwargs)

        return wrapper

    return decorator
