"""A Content-Security-Policy header on every response of the example site.

The example sends a strict policy by default (no ``'unsafe-inline'``), to show that
django_toopher's pages need no inline style or script. ``CONTENT_SECURITY_POLICY=""``
in the environment turns it off. (Django 6 has this built in; this is the few lines
an older Django needs.) It works in a sync chain (gunicorn, runserver) and in an async
one (uvicorn, ``example_project/asgi.py``) alike, without a thread hop for the latter.
"""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.utils.deprecation import MiddlewareMixin

HEADER = "Content-Security-Policy"


class ContentSecurityPolicyMiddleware(MiddlewareMixin):
    """Add ``settings.CONTENT_SECURITY_POLICY`` (when set) to responses without one."""

    def process_response(self, request: HttpRequest, response: HttpResponse) -> HttpResponse:
        policy = getattr(settings, "CONTENT_SECURITY_POLICY", "")
        if policy and HEADER not in response:
            response[HEADER] = policy
        return response
