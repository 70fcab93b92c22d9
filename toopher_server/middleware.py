"""Toopher error JSON for every error answer under the API's paths.

Django answers some malformed requests before any view of the service runs (a
``Host`` header that is not allowed, too many form fields, an unreadable body), with
an HTML page. Put first in ``MIDDLEWARE``, this middleware turns such an answer under
``/v1/`` into ``{"error_code", "error_message"}`` with the same status, and one under the
device API (``/app/api/``) into its ``{"error", "message", "server_time"}``. The
iframe pages (``/v1/web/``) are HTML by design and are left alone.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

from django.http import HttpRequest, HttpResponse, JsonResponse

from .device_errors import early_error
from .errors import error_response

log = logging.getLogger(__name__)

API_PREFIXES: tuple[str, ...] = ("/v1",)
#: The device API answers its errors in its own form (docs/authenticator-protocol.md §5).
DEVICE_API_PREFIXES = ("/app/api",)
HTML_PREFIXES = ("/v1/web/",)

_MESSAGES = {
    400: "Bad request.",
    403: "Forbidden.",
    404: "No such endpoint.",
    405: "Method not allowed.",
    413: "Request body too large.",
}


#: A response with this header is left as it is (the sandbox marks the malformed
#: answers it injects on purpose so).
KEEP_AS_IS_HEADER = "X-Sandbox-Fault"


def is_api_path(path: str, prefixes: tuple[str, ...] = API_PREFIXES) -> bool:
    """True for a path of the API (not the iframe pages) under one of ``prefixes``."""
    if path.startswith(HTML_PREFIXES):
        return False
    return any(path == prefix or path.startswith(prefix + "/") for prefix in prefixes)


class JsonApiErrorsMiddleware:
    """Turn a non-JSON error answer on an API path into the Toopher error JSON."""

    prefixes = API_PREFIXES

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if response.status_code < 400:
            return response
        if response.get("Content-Type", "").startswith("application/json"):
            return response
        if is_api_path(request.path_info, DEVICE_API_PREFIXES):
            error = early_error(response.status_code)
            return JsonResponse(error.as_json(int(time.time())), status=error.http_status)
        if not is_api_path(request.path_info, self.prefixes):
            return response
        if response.has_header(KEEP_AS_IS_HEADER):  # a fault asked for exactly this
            return response
        status = response.status_code
        if status >= 500:
            log.error("%s %s answered %s", request.method, request.path_info, status)
        message = _MESSAGES.get(status, "The request could not be handled.")
        return error_response(status, status, message)
