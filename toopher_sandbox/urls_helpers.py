"""Absolute URLs of the sandbox's own pages (the service's are in ``toopher_server``)."""

from __future__ import annotations

from django.http import HttpRequest
from django.urls import reverse

from toopher_server.urls_helpers import base_url


def control_url(request: HttpRequest) -> str:
    """The control API's base URL, without a trailing slash."""
    return base_url(request) + "/control"


def phone_url(request: HttpRequest, phone_id: str | None = None) -> str:
    """The phone list, or one phone's page."""
    if phone_id is None:
        return request.build_absolute_uri(reverse("toopher_sandbox:phones"))
    return request.build_absolute_uri(reverse("toopher_sandbox:phone", args=[phone_id]))
