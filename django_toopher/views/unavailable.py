"""When the database or the cache does not answer during a Toopher page: a 503 with a
way to try again, never a bare 500 or a traceback (the JSON API answers its own
``service_unavailable``). Nothing was changed: the flows write nothing half-way."""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from typing import Any, TypeVar, cast

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render

from ..internal.failures import INFRASTRUCTURE_ERRORS
from ..internal.flows.base import message

logger = logging.getLogger("django_toopher")

F = TypeVar("F", bound=Callable[..., HttpResponse])


def unavailable(request: HttpRequest, *, json: bool = False) -> HttpResponse:
    """The 503 answer: a page with a retry link, or JSON for the status endpoints."""
    text = message("busy")
    if json:
        return JsonResponse({"status": "unavailable", "final": False, "message": text},
                            status=503)
    retry = request.get_full_path() if request.method == "GET" else request.path
    response = render(request, "django_toopher/unavailable.html",
                      {"message": text, "retry_url": retry}, status=503)
    response["Retry-After"] = "5"
    return response


def guarded(*, json: bool = False) -> Callable[[F], F]:
    """Answer :func:`unavailable` when the database or the cache fails in ``view``."""

    def decorate(view: F) -> F:
        @functools.wraps(view)
        def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            try:
                return view(request, *args, **kwargs)
            except INFRASTRUCTURE_ERRORS as exc:
                logger.warning("django_toopher: %s during %s; answered 503",
                               type(exc).__name__, request.path)
                return unavailable(request, json=json)

        return cast(F, wrapper)

    return decorate
