"""A push service on loopback that Firefox subscribes through: Mozilla's push WebSocket
protocol (autopush: ``hello``, ``register``, ``notification``, ``ack``) on one port, the
RFC 8030 endpoint that the service POSTs to on another, and ``/report`` where the test
page posts what it saw (CORS open: the page is on the service's origin).

Firefox finds it through its prefs ``dom.push.serverURL=ws://127.0.0.1:<port>/`` and
``dom.push.testing.allowInsecureServerURL=true``.
"""

from __future__ import annotations

import base64
import json
import threading
import time
import uuid
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from websockets.exceptions import ConnectionClosed
from websockets.sync.server import ServerConnection, serve


class MozillaPushServer:
    """The WebSocket side, the endpoint and the reports; ``close()`` stops all three."""

    def __init__(self) -> None:
        self.channels: dict[str, ServerConnection] = {}
        self.pushes: list[dict[str, Any]] = []  # what the endpoint got (headers, size)
        self.acks: list[dict[str, Any]] = []
        self.reports: list[dict[str, Any]] = []
        self.log: list[str] = []
        self._changed = threading.Condition()
        self.ws = serve(self._connection, "127.0.0.1", 0, subprotocols=["push-notification"])
        self.ws_port = self.ws.socket.getsockname()[1]
        self.http = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.http.daemon_threads = True
        self.http_port = self.http.server_address[1]
        for target in (self.ws.serve_forever, self.http.serve_forever):
            threading.Thread(target=target, daemon=True).start()

    @property
    def server_url(self) -> str:
        return f"ws://127.0.0.1:{self.ws_port}/"

    @property
    def report_url(self) -> str:
        return f"http://127.0.0.1:{self.http_port}/report"

    # --- the WebSocket protocol -----------------------------------------------------

    def _connection(self, connection: ServerConnection) -> None:
        try:
            for raw in connection:
                message = json.loads(raw) if raw and raw != "{}" else {}
                reply = self._answer(connection, message)
                if reply is not None:
                    connection.send(json.dumps(reply))
        except (ConnectionClosed, ValueError):
            pass
        finally:
            with self._changed:
                for channel, owner in list(self.channels.items()):
                    if owner is connection:
                        del self.channels[channel]

    def _answer(self, connection: ServerConnection, message: dict[str, Any]) -> Any:
        kind = message.get("messageType")
        self.log.append(str(kind))
        if not kind:  # a ping
            return {}
        if kind == "hello":
            uaid = message.get("uaid") or uuid.uuid4().hex
            with self._changed:
                for channel in message.get("channelIDs") or []:
                    self.channels[channel] = connection
            return {"messageType": "hello", "uaid": uaid, "status": 200, "use_webpush": True,
                    "broadcasts": {}}
        if kind == "register":
            channel = message["channelID"]
            with self._changed:
                self.channels[channel] = connection
                self._changed.notify_all()
            return {"messageType": "register", "channelID": channel, "status": 200,
                    "pushEndpoint": f"http://127.0.0.1:{self.http_port}/wpush/{channel}"}
        if kind == "unregister":
            return {"messageType": "unregister", "channelID": message.get("channelID"),
                    "status": 200}
        if kind == "ack":
            with self._changed:
                self.acks.extend(message.get("updates") or [])
                self._changed.notify_all()
        return None

    def _deliver(self, channel: str, headers: dict[str, str], body: bytes) -> int:
        with self._changed:
            connection = self.channels.get(channel)
            self.pushes.append({"channel": channel, "headers": headers, "size": len(body)})
            self._changed.notify_all()
        if connection is None:
            return 410
        notification = {
            "messageType": "notification",
            "channelID": channel,
            "version": uuid.uuid4().hex,
            "data": base64.urlsafe_b64encode(body).rstrip(b"=").decode("ascii"),
            "headers": {"encoding": headers.get("content-encoding", "aes128gcm")},
        }
        try:
            connection.send(json.dumps(notification))
        except ConnectionClosed:
            return 410
        return 201

    # --- HTTP: the endpoint and the reports -----------------------------------------

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - http.server's name
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                if self.path == "/report":
                    with server._changed:
                        server.reports.append(json.loads(body or b"{}"))
                        server._changed.notify_all()
                    status = 204
                elif self.path.startswith("/wpush/"):
                    headers = {k.lower(): v for k, v in self.headers.items()}
                    status = server._deliver(self.path.removeprefix("/wpush/"), headers, body)
                else:
                    status = 404
                self.send_response(status)
                self.send_header("Access-Control-Allow-Origin", "*")
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        return Handler

    def wait_for_report(
        self, matches: Callable[[dict[str, Any]], bool], timeout: float
    ) -> dict[str, Any]:
        """The first report ``matches`` accepts (AssertionError with what came instead)."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while True:
                found = next((r for r in self.reports if matches(r)), None)
                left = deadline - time.monotonic()
                if found is not None or left <= 0:
                    break
                self._changed.wait(left)
        assert found is not None, (
            f"no such report after {timeout} s; reports {self.reports}, pushes {self.pushes}, "
            f"protocol {self.log[-20:]}"
        )
        return found

    def close(self) -> None:
        self.ws.shutdown()
        self.http.shutdown()
        self.http.server_close()
