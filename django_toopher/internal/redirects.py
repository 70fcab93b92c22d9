"""Where a flow may send the browser: the one check of a ``next`` URL, and the
site's login, default and pending URLs."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib.auth import REDIRECT_FIELD_NAME
from django.http import HttpRequest
from django.shortcuts import resolve_url
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme

#: Longest ``next`` URL accepted.
MAX_NEXT_LENGTH = 2000


def safe_next(request: HttpRequest, url: Any) -> str | None:
    """``url`` if it is a safe local redirect target for this request, else None.

    Checked on store and on use: a string of at most 2,000 characters without
    control characters, on this host, and https when the request is.
    """
    if not isinstance(url, str) or not url or len(url) > MAX_NEXT_LENGTH:
        return None
    if any(ord(char) < 32 or ord(char) == 127 for char in url):
        return None
    if url_has_allowed_host_and_scheme(
        url, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return url
    return None


def safe_next_or(request: HttpRequest, url: Any, default: str) -> str:
    """:func:`safe_next`, or ``default`` when ``url`` is not safe."""
    return safe_next(request, url) or default


def requested_next(request: HttpRequest) -> str | None:
    """The safe ``next`` of this request's POST or query string, if any."""
    try:
        candidate = request.POST.get(REDIRECT_FIELD_NAME)
    except Exception:  # noqa: BLE001 - an unreadable body is simply no POST value
        candidate = None
    return safe_next(request, candidate or request.GET.get(REDIRECT_FIELD_NAME))


def default_next() -> str:
    """Where a completed login goes without a ``next``: ``LOGIN_REDIRECT_URL``."""
    return resolve_url(settings.LOGIN_REDIRECT_URL)


def login_url() -> str:
    return resolve_url(settings.LOGIN_URL)


def pending_url() -> str:
    return reverse("django_toopher:pending")
