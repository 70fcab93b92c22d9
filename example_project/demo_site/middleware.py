"""django_toopher's middleware, minus the mounted sandbox.

In the demo the phone simulator lives on the same site, so a person opens it in the
same browser as the site, with the same cookies. While a login is pending,
``ToopherMiddleware`` would send every page of that browser to the pending page,
the phone included, and nobody could approve. The phone stands for another device:
its pages (``/sandbox/``) skip the middleware. Used only while the sandbox is mounted.
"""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse

from django_toopher.middleware import ToopherMiddleware

SANDBOX_PREFIX = "/sandbox/"


class SandboxAwareToopherMiddleware(ToopherMiddleware):
    """``ToopherMiddleware`` that leaves the mounted sandbox (``/sandbox/``) alone."""

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.path.startswith(SANDBOX_PREFIX):
            return self.get_response(request)
        return super().__call__(request)
