"""django_toopher.debug.ToopherExceptionReporterFilter: the app's cookies never reach
an error report (Django's technical 500 page, in HTML and text)."""

from __future__ import annotations

import sys

import pytest
from django.test import RequestFactory
from django.views.debug import ExceptionReporter, get_default_exception_reporter_filter

from django_toopher.debug import ToopherExceptionReporterFilter

FILTER = "django_toopher.debug.ToopherExceptionReporterFilter"
TERMINAL_VALUE = "terminal-id-abcdefghijklmnopqrstuvwxyz012345:signature"
SESSION_VALUE = "session-key-0123456789abcdefghijklmnop"
HINT_VALUE = "hint-value-1"
CSRF_VALUE = "csrf-token-value-0123456789abcdefghijk"


def _report(settings) -> tuple[str, str]:
    request = RequestFactory().get("/boom/")
    request.COOKIES.update({
        "toopher_terminal": TERMINAL_VALUE,
        "toopher_pending": HINT_VALUE,
        settings.SESSION_COOKIE_NAME: SESSION_VALUE,
        settings.CSRF_COOKIE_NAME: CSRF_VALUE,
        "theme": "dark-and-plain",
    })
    try:
        raise ValueError("an error page")
    except ValueError:
        reporter = ExceptionReporter(request, *sys.exc_info())
    return reporter.get_traceback_html(), reporter.get_traceback_text()


@pytest.fixture
def reporter_filter(settings):
    settings.DEFAULT_EXCEPTION_REPORTER_FILTER = FILTER
    get_default_exception_reporter_filter.cache_clear()
    yield
    get_default_exception_reporter_filter.cache_clear()


def test_the_default_filter_shows_the_terminal_cookie(settings):
    """Without the app's filter, Django lists the terminal cookie in full."""
    get_default_exception_reporter_filter.cache_clear()
    html, text = _report(settings)
    assert TERMINAL_VALUE in html and TERMINAL_VALUE in text


def test_the_filter_hides_the_apps_cookies_and_keeps_the_others(settings, reporter_filter):
    assert isinstance(get_default_exception_reporter_filter(), ToopherExceptionReporterFilter)
    html, text = _report(settings)
    for secret in (TERMINAL_VALUE, HINT_VALUE, SESSION_VALUE, CSRF_VALUE):
        assert secret not in html and secret not in text
    assert "toopher_terminal" in text and ToopherExceptionReporterFilter.cleansed_substitute in text
    assert "dark-and-plain" in text  # other cookies stay readable for debugging


def test_a_renamed_terminal_cookie_is_hidden_too(settings, reporter_filter):
    settings.TOOPHER = {**getattr(settings, "TOOPHER", {}), "TERMINAL_COOKIE_NAME": "my_term"}
    names = ToopherExceptionReporterFilter().sensitive_cookie_names()
    assert "my_term" in names and "toopher_terminal" not in names
