"""The standalone sandbox's single-process speed-ups, fenced in here.

The standalone server (``python -m toopher_sandbox``) is the only user of its SQLite
file, in one process. That lets it take short cuts that a deployment of the service
(several instances on one database) must not, each measured in ``make bench``
(docs/performance.md):

* :mod:`.serial`, **one writer at a time**: the Django part of each request runs under
  one fair lock, released while a request merely waits (an injected latency). SQLite
  lets one writer in and makes the others poll, which under load starves some requests
  for seconds; with the lock no call sees "database is locked".
* :class:`SerializedApp`, **one shared connection**: the worker threads use one
  database connection in turn, under that lock. SQLite drops a connection's page cache
  whenever another connection has written, so a connection per thread made every
  signed call start cold.
* :mod:`.memo`, **row copies in memory**: requesters by key, the faults, the row a
  status poll reads; dropped after every statement the connection runs that is not a
  SELECT, never taken inside a transaction. A signed call's lookups then cost no query.
* :mod:`.rowfetch`, **the status row kept**: A2's request with its user, terminal,
  action and pairing through the service's own prepared query
  (``toopher_server.rowfetch``, which every deployment uses), its raw row kept by
  :mod:`.memo`.
* :mod:`.nonces`, **nonces in memory**: a replay is refused from memory and the nonces
  reach the file in batches (:class:`NonceWriter`), so a verified call writes nothing
  while it holds the lock.

The service's rules know none of this: they read through ``toopher_server.lookups`` and
``toopher_server.nonces``, which these replace here by ``install()``.
"""

from __future__ import annotations

import logging
import threading
from typing import Any

from django.db import DEFAULT_DB_ALIAS, connections

from toopher_server import lookups
from toopher_server.models import AuthenticationRequest, Requester

from . import memo, nonces, rowfetch, serial


class CopyingLookups(lookups.Lookups):
    """Requesters from :mod:`.memo`, requests through :mod:`.rowfetch`."""

    def requester(self, key: str) -> Requester | None:
        return memo.remembered("requester", key, lambda: super(CopyingLookups, self).requester(key))

    def authentication_request(self, request_id: str) -> AuthenticationRequest | None:
        return rowfetch.authentication_request(request_id)


def keep_nonces_in_memory() -> None:
    """Refuse replays from memory from now on (see :mod:`.nonces`)."""
    nonces.keep_in_memory()


class SerializedApp:
    """The Django app with its database work serialized (see :mod:`.serial`).

    waitress has read the whole body before the app runs, so no lock waits on a client.
    All worker threads use one database connection, in turn: SQLite throws away a
    connection's page cache whenever another connection has written, so with a
    connection per thread every call started cold and read its pages again; one shared
    connection keeps them. Django shares a connection between threads the way its live
    test server does (``inc_thread_sharing``); here the lock makes sure only one thread
    uses it at a time, up to the end of the response (its ``close()``, where Django's
    ``request_finished`` looks at the connection). :meth:`run` does other work the same
    way (the nonce writer).
    """

    def __init__(self, app: Any) -> None:
        serial.enable()
        self.app = app
        self.connections = connections
        self.alias = DEFAULT_DB_ALIAS
        self.exclusive = serial.exclusive
        self.shared = connections[DEFAULT_DB_ALIAS]
        self.shared.inc_thread_sharing()
        memo.enable(self.shared)  # every write of this process goes through it
        lookups.install(CopyingLookups())

    def run(self, work: Any) -> Any:
        """``work()``, holding the lock, on the shared connection."""
        with self.exclusive():
            self.connections[self.alias] = self.shared
            return work()

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        def respond() -> bytes:
            result = self.app(environ, start_response)
            try:
                return b"".join(result)  # small answers (JSON, pages, PNGs, scripts)
            finally:
                close = getattr(result, "close", None)
                if close is not None:
                    close()

        return [self.run(respond)]


class NonceWriter(threading.Thread):
    """Writes the nonces kept in memory to the database every ``WRITE_EVERY`` seconds
    (see :mod:`.nonces`), under the app's lock; a last time when stopped."""

    def __init__(self, app: SerializedApp) -> None:
        super().__init__(name="toopher-sandbox-nonces", daemon=True)
        self.app = app
        self.stopping = threading.Event()

    def run(self) -> None:
        while not self.stopping.wait(nonces.WRITE_EVERY):
            self.write()

    def write(self) -> None:
        try:
            self.app.run(nonces.write_pending)
        except Exception:  # noqa: BLE001 - the writer must outlive one bad write
            logging.getLogger(__name__).exception("toopher_sandbox: the nonce writer failed")

    def stop(self) -> None:
        self.stopping.set()
        self.join(timeout=5)
        self.write()
