"""A Content-Security-Policy header on every response of the example site.

The example sends a strict policy by default (no ``'unsafe-inline'``), to show that
django_toopher's pages need no inline style or script. ``CONTENT_SECURITY_POLICY=""``
in the environment turns it off. (Django 6 has this built in; this is the few lines
an older Django needs.)
"""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse

HEADER = "Content-Security-Policy"


class ContentSecurityPolicyMiddleware:
    """Add ``settings.CONTENT_SECURITY_POLICY`` (when set) to responses without one."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        policy = getattr(settings, "CONTENT_SECURITY_POLICY", "")
        if policy and HEADER not in response:
            response[HEADER] = policy
        return response
