"""An exception-reporter filter that keeps django_toopher's cookies out of error reports.

Django's error pages (``DEBUG = True``) and the error emails to ``ADMINS`` list the
request's cookies. Django already hides the session cookie; this filter also hides the
signed terminal cookie (``TOOPHER["TERMINAL_COOKIE_NAME"]``, a browser's Toopher
terminal id), the pending hint cookie and the CSRF cookie. Use it with::

    DEFAULT_EXCEPTION_REPORTER_FILTER = "django_toopher.debug.ToopherExceptionReporterFilter"

Subclass it (and extend :meth:`sensitive_cookie_names`) to hide cookies of your own.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpRequest
from django.views.debug import SafeExceptionReporterFilter

from .app_settings import app_settings
from .internal.cookies import HINT_COOKIE

__all__ = ["ToopherExceptionReporterFilter"]


class ToopherExceptionReporterFilter(SafeExceptionReporterFilter):
    """:class:`~django.views.debug.SafeExceptionReporterFilter` that also replaces the
    values of the terminal, pending-hint, session and CSRF cookies with stars."""

    def sensitive_cookie_names(self) -> set[str]:
        """The names of the cookies whose values never reach an error report."""
        return {
            app_settings.TERMINAL_COOKIE_NAME,
            HINT_COOKIE,
            settings.SESSION_COOKIE_NAME,
            settings.CSRF_COOKIE_NAME,
        }

    def get_safe_cookies(self, request: HttpRequest) -> dict[str, Any]:
        """``request.COOKIES`` with the values of sensitive cookies replaced."""
        hidden = self.sensitive_cookie_names()
        return {
            name: self.cleansed_substitute if name in hidden else self.cleanse_setting(name, value)
            for name, value in getattr(request, "COOKIES", {}).items()
        }
