"""Fixtures for the client tests: no Django, no network beyond 127.0.0.1."""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import responses

import toopher

API_URL = "https://api.toopher.test/v1"
KEY = "test-consumer-key"
SECRET = "test consumer secret/with+odd&chars"


def user_json(**overrides):
    data = {"id": "1c3e9a1e-8d3f-4a4b-9c1d-2f3e4a5b6c7d", "name": "jdoe",
            "toopher_authentication_enabled": True, "disable_toopher_auth": False}
    data.update(overrides)
    return data


def pairing_json(**overrides):
    data = {"id": "5a0b1c2d-3e4f-4a5b-8c6d-7e8f9a0b1c2d", "enabled": True, "pending": False,
            "deactivated": False, "user": user_json(), "totp_length": 6,
            "reason": "", "reason_code": 0}
    data.update(overrides)
    return data


def terminal_json(**overrides):
    data = {"id": "7d6c5b4a-3f2e-4d1c-9b0a-8f7e6d5c4b3a", "name": "my computer",
            "requester_specified_id": "abc123", "name_extra": "abc123", "user": user_json()}
    data.update(overrides)
    return data


def auth_json(**overrides):
    data = {"id": "0f1e2d3c-4b5a-4697-a8b9-cadbecfd0e1f", "pending": False, "granted": True,
            "automated": False, "reason": "it is a test", "reason_code": 100,
            "terminal": terminal_json(), "user": user_json(),
            "action": {"id": "9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d", "name": "Log in"},
            "totp_valid": False}
    data.update(overrides)
    return data


@pytest.fixture
def mocked() -> Iterator[responses.RequestsMock]:
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        yield mock


@pytest.fixture
def api() -> Iterator[toopher.ToopherApi]:
    client = toopher.ToopherApi(KEY, SECRET, API_URL)
    yield client
    client.close()


# ---------------------------------------------------------------- real local sockets


class _JsonHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, so connection reuse is observable

    def _answer(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        if length:
            self.rfile.read(length)
        self.server.peers.append(self.client_address)  # type: ignore[attr-defined]
        body = json.dumps(pairing_json()).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_GET = _answer
    do_POST = _answer

    def log_message(self, format, *args):  # noqa: A002 - silence the test output
        pass


@pytest.fixture
def json_server() -> Iterator[ThreadingHTTPServer]:
    """A keep-alive HTTP server on 127.0.0.1 that answers every call with a Pairing
    and records the client address of each request in ``.peers``."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _JsonHandler)
    server.peers = []  # type: ignore[attr-defined]
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


@pytest.fixture
def silent_port() -> Iterator[int]:
    """A port on 127.0.0.1 that accepts connections and never answers."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    sock.listen(8)
    yield sock.getsockname()[1]
    sock.close()


@pytest.fixture
def refused_port() -> int:
    """A port on 127.0.0.1 with nothing listening (connections are refused)."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()
    return port
