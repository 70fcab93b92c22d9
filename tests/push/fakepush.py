"""A push service on loopback for tests: an RFC 8030 endpoint that records what it gets,
and browser-side subscription keys to decrypt it with (``http_ece``)."""

from __future__ import annotations

import base64
import json
import os
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import http_ece
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def unb64url(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


@dataclass
class BrowserKeys:
    """What a browser keeps of a subscription: its ECDH key and auth secret."""

    private: ec.EllipticCurvePrivateKey = field(
        default_factory=lambda: ec.generate_private_key(ec.SECP256R1())
    )
    auth_secret: bytes = field(default_factory=lambda: os.urandom(16))

    @property
    def p256dh(self) -> str:
        return b64url(
            self.private.public_key().public_bytes(
                serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
            )
        )

    def subscription(self, endpoint: str) -> dict[str, Any]:
        """``PushSubscription.toJSON()`` of this browser for ``endpoint``."""
        return {
            "endpoint": endpoint,
            "expirationTime": None,
            "keys": {"p256dh": self.p256dh, "auth": b64url(self.auth_secret)},
        }

    def decrypt(self, body: bytes) -> Any:
        """The JSON the service encrypted to this browser."""
        clear = http_ece.decrypt(
            body, private_key=self.private, auth_secret=self.auth_secret, version="aes128gcm"
        )
        return json.loads(clear)


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes
    at: float


class FakePushService:
    """An HTTP server in a thread: every POST is recorded as it arrives and answered
    ``status`` (201) after ``hold`` seconds (a slow push service, the benchmark's), with
    ``location`` as its Location header when set (a push service that redirects)."""

    def __init__(self) -> None:
        self.received: list[Received] = []
        self.status = 201
        self.hold = 0.0
        self.location: str | None = None
        self._changed = threading.Condition()
        service = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - http.server's name
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length)
                got = Received(self.path, {k.lower(): v for k, v in self.headers.items()},
                               body, time.monotonic())
                with service._changed:  # recorded as it arrives, answered after the hold
                    service.received.append(got)
                    service._changed.notify_all()
                if service.hold:
                    time.sleep(service.hold)
                self.send_response(service.status)
                if service.location:
                    self.send_header("Location", service.location)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def endpoint(self, name: str = "device") -> str:
        return f"http://127.0.0.1:{self.port}/push/{name}"

    def wait_for(self, count: int, timeout: float = 10.0) -> list[Received]:
        """The first ``count`` pushes received (AssertionError if they do not come)."""
        with self._changed:
            arrived = self._changed.wait_for(lambda: len(self.received) >= count, timeout)
        assert arrived, f"{len(self.received)} push(es) of {count} after {timeout} s"
        return self.received[:count]

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
