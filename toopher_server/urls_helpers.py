"""Absolute URLs of the service, built from the request (so any mount prefix works).

The service's URL patterns are mounted under one namespace: ``toopher_server`` when a
project includes ``toopher_server.urls``, ``toopher_sandbox`` when the sandbox serves
them among its own. Names are therefore reversed in the namespace of the request at
hand.
"""

from __future__ import annotations

from collections.abc import Sequence

from django.http import HttpRequest
from django.urls import reverse


def reverse_here(request: HttpRequest, name: str, args: Sequence[object] = ()) -> str:
    """The path of the URL ``name`` in the namespace this request was resolved in."""
    match = request.resolver_match
    namespace = match.namespace if match is not None else ""
    return reverse(f"{namespace}:{name}" if namespace else name, args=list(args))


def base_url(request: HttpRequest) -> str:
    """The service's mount point, e.g. ``http://127.0.0.1:8765`` or ``http://host/sandbox``."""
    return request.build_absolute_uri(reverse_here(request, "v1")).removesuffix("/v1")


def api_url(request: HttpRequest) -> str:
    """The API v1 base URL, without a trailing slash."""
    return base_url(request) + "/v1"
