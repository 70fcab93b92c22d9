"""Toopher error JSON for every error answer under the API and control paths.

Django answers some malformed requests before any sandbox view runs (a ``Host`` header
that is not allowed, too many form fields, an unreadable body), with an HTML page. The
standalone server puts this middleware first, so such an answer under ``/v1/`` or
``/control/`` becomes ``{"error_code", "error_message"}`` with the same status. The
iframe pages (``/v1/web/``) are HTML by design and are left alone, and so is a
malformed answer injected on purpose (``faults``).
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

from .errors import error_response
from .faults import INJECTED_HEADER

log = logging.getLogger(__name__)

API_PREFIXES = ("/v1", "/control")
HTML_PREFIXES = ("/v1/web/",)

_MESSAGES = {
    400: "Bad request.",
    403: "Forbidden.",
    404: "No such endpoint.",
    405: "Method not allowed.",
    413: "Request body too large.",
}


def is_api_path(path: str) -> bool:
    """True for a path of the API or the control API (not the iframe pages)."""
    if path.startswith(HTML_PREFIXES):
        return False
    return any(path == prefix or path.startswith(prefix + "/") for prefix in API_PREFIXES)


class JsonApiErrorsMiddleware:
    """Turn a non-JSON error answer on an API path into the Toopher error JSON."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if response.status_code < 400 or not is_api_path(request.path_info):
            return response
        if response.get("Content-Type", "").startswith("application/json"):
            return response
        if response.has_header(INJECTED_HEADER):  # a fault asked for exactly this
            return response
        status = response.status_code
        if status >= 500:
            log.error("%s %s answered %s", request.method, request.path_info, status)
        message = _MESSAGES.get(status, "The request could not be handled.")
        return error_response(status, status, message)
