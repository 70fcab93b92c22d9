"""The client's address, as far as the service may trust its proxies to tell it.

Behind a reverse proxy (the TLS proxy of docs/server.md) ``REMOTE_ADDR`` is the proxy's
own address, the same for every user. The proxy appends the address it saw to
``X-Forwarded-For``; a client may send that header too, with anything in it. So the
service trusts exactly as many entries, counted from the right, as there are proxies of
its own in front of it: the setting ``TOOPHER_SERVER_TRUSTED_PROXIES`` (default ``0``).

* ``0``: ``REMOTE_ADDR``; ``X-Forwarded-For`` is never read (a client could forge it).
* ``N`` > 0: the ``N``-th entry from the right of ``X-Forwarded-For`` (the address the
  outermost of the ``N`` proxies saw); entries further left were written by the client
  and are ignored. With fewer entries than ``N``, the left-most one. Without the header,
  or when the chosen entry is not an IP address, ``REMOTE_ADDR``.

Every limit that counts per address (:mod:`.ratelimit`) and the audit of enrolments read
the address through :func:`client_address` only.
"""

from __future__ import annotations

import ipaddress

from django.core.exceptions import ImproperlyConfigured
from django.http import HttpRequest

from .conf import setting

__all__ = ["UNKNOWN", "client_address", "trusted_proxies"]

#: The address of a request whose ``REMOTE_ADDR`` is missing or not an IP address.
UNKNOWN = "unknown"


def trusted_proxies() -> int:
    """How many proxies of its own stand in front of the service
    (``TOOPHER_SERVER_TRUSTED_PROXIES``, a whole number, default 0)."""
    value = setting("TRUSTED_PROXIES", 0)
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ImproperlyConfigured(
            f"TOOPHER_SERVER_TRUSTED_PROXIES must be a whole number of proxies (0 or more); "
            f"got {value!r}"
        )
    return value


def _ip(text: str) -> str | None:
    """``text`` as a normalized IP address, or None when it is not one."""
    try:
        return str(ipaddress.ip_address(text.strip()))
    except ValueError:
        return None


def client_address(request: HttpRequest) -> str:
    """The client's IP address (see the module docstring), or :data:`UNKNOWN`."""
    remote = _ip(str(request.META.get("REMOTE_ADDR") or "")) or UNKNOWN
    proxies = trusted_proxies()
    if proxies == 0:
        return remote
    header = str(request.META.get("HTTP_X_FORWARDED_FOR") or "")
    entries = [entry.strip() for entry in header.split(",") if entry.strip()]
    if not entries:
        return remote
    return _ip(entries[-min(proxies, len(entries))]) or remote
