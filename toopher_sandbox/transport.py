"""The standalone sandbox's HTTP server: waitress, with Toopher error JSON for its own errors.

waitress (pure Python, on PyPI, runs on Windows, macOS and Linux) parses HTTP/1.1
itself: keep-alive, pipelined requests, chunked request bodies (decoded, with
``CONTENT_LENGTH`` set), a body limit, and a 400 for a request that is not HTTP. It
reads a request's whole body before a worker thread runs the application, so a slow
client holds no thread and no lock. The only change made here: the answers waitress
writes itself (400, 413, 431, 500) carry ``{"error_code", "error_message"}`` JSON,
like every other error of the sandbox, instead of plain text.
"""

from __future__ import annotations

import json
import logging
import sys
from collections.abc import Callable
from typing import Any

from waitress.channel import HTTPChannel
from waitress.server import BaseWSGIServer, MultiSocketServer, create_server
from waitress.task import ErrorTask

#: Largest request body accepted (bytes); a larger one gets a 413.
MAX_BODY = 1024 * 1024
#: Worker threads. The Django part runs one request at a time (see ``serial``); the
#: others wait on injected latencies or write answers meanwhile.
THREADS = 8
#: Seconds an idle (or stalled) connection is kept before waitress closes it.
CHANNEL_TIMEOUT = 30
#: Seconds a thread holds the GIL before another may take it. Every SQLite call lets
#: the GIL go; at Python's default (5 ms) the worker then waits behind waitress's I/O
#: thread for up to that long, several times a request, holding the database lock.
#: 0.2 ms served verified calls a few per cent faster than 0.5 ms and 1 ms here
#: (docs/performance.md, "Sandbox ratio").
SWITCH_INTERVAL = 0.0002

WSGIApp = Callable[..., Any]


def error_body(code: int, reason: str, detail: str) -> bytes:
    """The Toopher error JSON for an error the HTTP layer answers itself."""
    message = f"{reason}: {detail}".strip().rstrip(":") if detail else reason
    return json.dumps({"error_code": code, "error_message": message}).encode("utf-8")


class JsonErrorTask(ErrorTask):
    """waitress's error answer (then close), with a JSON body."""

    def execute(self) -> None:
        error = self.request.error
        detail = " ".join(str(error.body).split())[:200]
        body = error_body(int(error.code), str(error.reason), detail)
        self.status = f"{error.code} {error.reason}"
        self.response_headers.append(("Content-Type", "application/json"))
        self.set_close_on_finish()
        self.content_length = len(body)
        self.write(body)


class JsonErrorChannel(HTTPChannel):
    """An HTTP connection whose transport errors are answered by :class:`JsonErrorTask`."""

    error_task_class = JsonErrorTask


def make_server(app: WSGIApp, host: str, port: int) -> BaseWSGIServer:
    """A waitress server for ``app`` listening on ``host:port`` (0: a free port).

    Raises ``OSError`` if the address cannot be bound.
    """
    logging.getLogger("waitress.queue").setLevel(logging.ERROR)
    sys.setswitchinterval(SWITCH_INTERVAL)
    server = create_server(
        app,
        listen=f"[{host}]:{port}" if ":" in host else f"{host}:{port}",
        threads=THREADS,
        ident="toopher_sandbox",
        max_request_body_size=MAX_BODY,
        channel_timeout=CHANNEL_TIMEOUT,
        connection_limit=256,
        backlog=128,
        asyncore_use_poll=True,
        expose_tracebacks=False,
    )
    if isinstance(server, MultiSocketServer):  # pragma: no cover - one address is given
        raise OSError(f"{host} resolves to several addresses; give one")
    server.channel_class = JsonErrorChannel
    return server
