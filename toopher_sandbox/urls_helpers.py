"""Absolute URLs of the sandbox, built from the request (so any mount prefix works)."""

from django.http import HttpRequest
from django.urls import reverse


def base_url(request: HttpRequest) -> str:
    """The sandbox's mount point, e.g. ``http://127.0.0.1:8765`` or ``http://host/sandbox``."""
    return request.build_absolute_uri(reverse("toopher_sandbox:index")).rstrip("/")


def api_url(request: HttpRequest) -> str:
    """The API v1 base URL, without a trailing slash."""
    return base_url(request) + "/v1"


def control_url(request: HttpRequest) -> str:
    return base_url(request) + "/control"


def phone_url(request: HttpRequest, phone_id: str | None = None) -> str:
    if phone_id is None:
        return request.build_absolute_uri(reverse("toopher_sandbox:phones"))
    return request.build_absolute_uri(reverse("toopher_sandbox:phone", args=[phone_id]))
