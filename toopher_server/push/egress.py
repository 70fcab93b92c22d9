"""Where the service's pushes may connect: public addresses only, checked as it connects.

A device chooses its push endpoint, so the service must not let it point the service's
POSTs at the service's own network (server-side request forgery). The endpoint's text
is checked when the device subscribes (:mod:`.subscriptions`), but a host *name* says
nothing of where it leads: ``push.attacker.example`` may resolve to ``10.0.0.5``, or to
a public address when checked and a private one a second later (DNS rebinding). So the
session pushes are sent with (:func:`session`) resolves the name itself when it opens
a connection, refuses it when any address the name has is not public
(:func:`allowed_address`, the rule the subscription check uses too), and connects to
the address it checked; TLS still verifies the certificate against the name. It follows
no redirect: a push service answers a push, it never sends it elsewhere.

Through an egress proxy (``HTTPS_PROXY`` in the environment) the service connects only
to the proxy, and the proxy decides where requests may go: ``requests`` sends through a
proxy with a pool manager of its own, which this module leaves as it is.
"""

from __future__ import annotations

import ipaddress
import socket
from typing import Any

import requests
from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool
from urllib3.exceptions import NameResolutionError, NewConnectionError

from ..conf import setting

__all__ = ["NotPublicAddress", "allow_insecure_loopback", "allowed_address", "refused", "session"]

Address = ipaddress.IPv4Address | ipaddress.IPv6Address


def allow_insecure_loopback() -> bool:
    """``TOOPHER_SERVER_PUSH_ALLOW_INSECURE_LOOPBACK``: plain http to 127.0.0.1 (tests)."""
    return bool(setting("PUSH_ALLOW_INSECURE_LOOPBACK", False))


def allowed_address(address: Address) -> bool:
    """Whether a push may go to ``address``: a public one, or a loopback one where
    :func:`allow_insecure_loopback` says so."""
    return address.is_global or (address.is_loopback and allow_insecure_loopback())


class NotPublicAddress(NewConnectionError):
    """The endpoint's host name has an address a push may not go to (nothing was sent)."""


def refused(error: BaseException) -> bool:
    """Whether a ``requests`` error is this module refusing an address."""
    reason: Any = error.args[0] if error.args else None
    return isinstance(getattr(reason, "reason", reason), NotPublicAddress)


class _Checked:
    """The connection's :meth:`_new_conn` with the resolution done and checked here."""

    _dns_host: str
    port: int

    def _new_conn(self) -> socket.socket:
        name = self._dns_host
        try:
            found = socket.getaddrinfo(name, self.port, type=socket.SOCK_STREAM)
        except socket.gaierror as error:
            raise NameResolutionError(name, self, error) from error  # type: ignore[arg-type]
        texts = [str(info[4][0]) for info in found]
        addresses = [_address(text) for text in texts]
        if not addresses or not all(a is not None and allowed_address(a) for a in addresses):
            shown = ", ".join(texts) or "nothing"
            raise NotPublicAddress(self, f"{name} resolves to {shown}: not a public address")  # type: ignore[arg-type]
        self._dns_host = str(addresses[0])  # connect to what was checked, not a new lookup
        try:
            return super()._new_conn()  # type: ignore[misc]
        finally:
            self._dns_host = name  # the name again: TLS checks the certificate against it


def _address(text: str) -> Address | None:
    try:
        return ipaddress.ip_address(text)
    except ValueError:
        return None


class _CheckedHTTPConnection(_Checked, HTTPConnection):
    pass


class _CheckedHTTPSConnection(_Checked, HTTPSConnection):
    pass


class _CheckedHTTPPool(HTTPConnectionPool):
    ConnectionCls = _CheckedHTTPConnection


class _CheckedHTTPSPool(HTTPSConnectionPool):
    ConnectionCls = _CheckedHTTPSConnection


class _CheckedAdapter(HTTPAdapter):
    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = {
            "http": _CheckedHTTPPool,
            "https": _CheckedHTTPSPool,
        }


def session() -> requests.Session:
    """A session that connects only to allowed addresses and follows no redirect."""
    checked = requests.Session()
    checked.max_redirects = 0  # a redirect raises TooManyRedirects: nothing follows it
    adapter = _CheckedAdapter()
    checked.mount("http://", adapter)
    checked.mount("https://", adapter)
    return checked
