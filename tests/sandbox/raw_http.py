"""HTTP/1.1 by hand over one socket, to test the sandbox's transport (no client library)."""

from __future__ import annotations

import json
import socket
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from oauthlib.oauth1 import Client

FORM = "application/x-www-form-urlencoded"


@dataclass
class Answer:
    """One parsed HTTP response."""

    status: int
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""

    def json(self) -> Any:
        assert self.headers.get("content-type", "").startswith("application/json"), self
        return json.loads(self.body)


class Connection:
    """One kept-alive TCP connection to the sandbox."""

    def __init__(self, base_url: str, timeout: float = 10.0) -> None:
        host, port = base_url.removeprefix("http://").split(":")
        self.host = f"{host}:{port}"
        self.sock = socket.create_connection((host, int(port)), timeout=timeout)
        self.reader = self.sock.makefile("rb")

    def send(self, data: bytes) -> None:
        """Send bytes as they are, but for a ``Host: HOST`` header: the sandbox's address."""
        host = f"\r\nHost: {self.host}\r\n".encode()
        self.sock.sendall(data.replace(b"\r\nHost: HOST\r\n", host))

    def read(self) -> Answer:
        """Read exactly one response from the connection."""
        line = self.reader.readline()
        assert line.startswith(b"HTTP/1."), f"no status line: {line!r}"
        answer = Answer(int(line.split()[1]))
        while (header := self.reader.readline()) not in (b"\r\n", b"\n", b""):
            name, _, value = header.decode("latin-1").partition(":")
            answer.headers[name.strip().lower()] = value.strip()
        if answer.headers.get("transfer-encoding", "").lower() == "chunked":
            chunks = []
            while (size := int(self.reader.readline().split(b";")[0], 16)) > 0:
                chunks.append(self.reader.read(size))
                self.reader.readline()
            self.reader.readline()
            answer.body = b"".join(chunks)
        else:
            answer.body = self.reader.read(int(answer.headers.get("content-length", "0")))
        return answer

    def closed_by_peer(self) -> bool:
        """True once the server has closed its side."""
        return self.reader.read(1) == b""

    def close(self) -> None:
        self.reader.close()
        self.sock.close()

    def __enter__(self) -> Connection:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


def signed_head(
    conn: Connection,
    creds: dict[str, str],
    method: str,
    path: str,
    params: dict[str, str] | None = None,
    extra: str = "",
) -> tuple[bytes, bytes]:
    """The request head (without the framing headers) and the form body, OAuth-signed."""
    body = urlencode(params or {}).encode()
    client = Client(creds["key"], client_secret=creds["secret"])
    headers = {"Content-Type": FORM} if body else {}
    _, signed, _ = client.sign(
        f"http://{conn.host}{path}", http_method=method, body=body.decode() or None,
        headers=headers,
    )
    if method == "POST":
        signed["Content-Type"] = FORM
    head = f"{method} {path} HTTP/1.1\r\nHost: {conn.host}\r\n"
    head += "".join(f"{k}: {v}\r\n" for k, v in signed.items()) + extra
    return head.encode(), body


def chunked(body: bytes, size: int = 7) -> bytes:
    """``body`` in chunked transfer coding, ``size`` bytes a chunk."""
    parts = [b"%x\r\n%s\r\n" % (len(body[i:i + size]), body[i:i + size])
             for i in range(0, len(body), size)]
    return b"".join(parts) + b"0\r\n\r\n"
