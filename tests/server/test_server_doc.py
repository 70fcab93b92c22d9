"""docs/server.md, run as written: the shell blocks marked ``<!-- doc-test: run -->``,
in a temporary directory with a temporary SQLite ``DATABASE_URL``; ``toopher-server
serve`` on a free loopback port; then one signed API call with the ``toopher`` client,
with the key and secret ``init`` printed, through a stand-in for the TLS proxy of the
page (it sets ``Host`` and ``X-Forwarded-Proto`` as the nginx block does)."""

from __future__ import annotations

import os
import re
import shlex
import signal
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from requests.adapters import HTTPAdapter

import toopher
from tests.waiting import wait_until

pytestmark = pytest.mark.slow

DOC = Path(__file__).resolve().parents[2] / "docs" / "server.md"
MARK = "<!-- doc-test: run -->"
PUBLIC = "toopher.example.com"
DROPPED = ("DJANGO_SETTINGS_MODULE", "DATABASE_URL", "CACHE_URL", "SECRET_KEY",
           "TOOPHER_SECRET_KEYS", "TOOPHER_AUDIT_KEY", "TOOPHER_SERVER_ENV_FILE",
           "ALLOWED_HOSTS", "TOOPHER_SERVER_BIND", "WEB_CONCURRENCY")


def doc_commands(text: str) -> list[str]:
    """The commands of the marked ``sh`` blocks, in order (comments and blanks dropped)."""
    commands = []
    for block in re.findall(re.escape(MARK) + r"\s*```sh\n(.*?)```", text, re.S):
        joined = block.replace("\\\n", " ")
        for line in joined.splitlines():
            line = line.split(" #", 1)[0].strip()
            if line and not line.startswith("#"):
                commands.append(line)
    return commands


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class TlsProxy(HTTPAdapter):
    """What nginx does in the page: https://toopher.example.com -> http://127.0.0.1:port,
    the ``Host`` kept, ``X-Forwarded-Proto: https`` set."""

    def __init__(self, port: int) -> None:
        super().__init__()
        self.port = port

    def send(self, request: requests.PreparedRequest, **kwargs: Any) -> requests.Response:
        assert request.url is not None
        request.url = request.url.replace(f"https://{PUBLIC}", f"http://127.0.0.1:{self.port}", 1)
        request.headers["Host"] = PUBLIC
        request.headers["X-Forwarded-Proto"] = "https"
        return super().send(request, **kwargs)


@pytest.fixture
def workdir(tmp_path: Path) -> Iterator[tuple[Path, dict[str, str], int]]:
    port = free_port()
    env = {k: v for k, v in os.environ.items() if k not in DROPPED}
    env.update(
        HOME=str(tmp_path),
        PATH=f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}",
        DATABASE_URL=f"sqlite:///{tmp_path / 'toopher.sqlite3'}",
        TOOPHER_SERVER_BIND=f"127.0.0.1:{port}",
        WEB_CONCURRENCY="1",
        TOOPHER_SERVER_THREADS="4",
    )
    yield tmp_path, env, port


def _wait_healthy(port: int, server: subprocess.Popen[str]) -> dict[str, Any]:
    def health() -> dict[str, Any] | None:
        if server.poll() is not None:
            raise AssertionError(f"serve exited: {server.communicate()[1][-3000:]}")
        try:
            answer = requests.get(f"http://127.0.0.1:{port}/health", timeout=2)
        except requests.ConnectionError:
            return None
        return answer.json() if answer.status_code == 200 else None

    return wait_until(health, 60, interval=0.1, message="serve did not answer /health")


def test_the_commands_of_docs_server_md_protect_a_site(
    workdir: tuple[Path, dict[str, str], int],
) -> None:
    where, env, port = workdir
    commands = doc_commands(DOC.read_text())
    assert [c.split()[:2] for c in commands] == [
        ["toopher-server", "init"], ["toopher-server", "check"], ["toopher-server", "serve"]
    ]
    outputs: list[str] = []
    server = None
    try:
        for command in commands:
            assert shlex.split(command)[0] == "toopher-server"
            if shlex.split(command)[1] == "serve":
                server = subprocess.Popen(
                    ["bash", "-c", command], cwd=where, env=env, text=True,
                    stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True,
                )
                continue
            done = subprocess.run(["bash", "-c", command], cwd=where, env=env,
                                  capture_output=True, text=True, timeout=180)
            assert done.returncode == 0, f"{command}\n{done.stdout}\n{done.stderr}"
            outputs.append(done.stdout)
        assert server is not None
        health = _wait_healthy(port, server)
        assert health["status"] == "ok" and health["pending_requests"] == 0

        key = re.search(r"TOOPHER_CONSUMER_KEY=(\S+)", outputs[0])
        secret = re.search(r"TOOPHER_CONSUMER_SECRET=(\S+)", outputs[0])
        assert key and secret, outputs[0]
        env_file = (where / "toopher.env").read_text()
        assert secret.group(1) not in env_file  # the key ring is there, the secret is not

        session = requests.Session()
        session.mount(f"https://{PUBLIC}/", TlsProxy(port))
        api = toopher.ToopherApi(key.group(1), secret.group(1),
                                 api_url=f"https://{PUBLIC}/v1", session=session)
        with api:
            user = api.create_user("ann@example.com")  # a signed call, verified
            assert user.name == "ann@example.com"
            assert api.get_user_by_name("ann@example.com").id == user.id
        wrong = toopher.ToopherApi(key.group(1), "not-the-secret",
                                   api_url=f"https://{PUBLIC}/v1", session=session)
        with pytest.raises(toopher.ToopherApiError) as refused:
            wrong.get_user_by_name("ann@example.com")
        assert refused.value.status_code == 401
        # Plain HTTP to the public name is redirected to HTTPS (behind the proxy).
        plain = requests.get(f"http://127.0.0.1:{port}/v1", headers={"Host": PUBLIC},
                             allow_redirects=False, timeout=5)
        assert plain.status_code == 301 and plain.headers["Location"].startswith("https://")
    finally:
        if server is not None and server.poll() is None:
            os.killpg(server.pid, signal.SIGTERM)  # its own session: this test's processes
            try:
                server.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(server.pid, signal.SIGKILL)
                server.wait(timeout=10)


def test_the_quick_path_is_at_most_ten_commands() -> None:
    text = DOC.read_text()
    section = text.split("## From a fresh machine to a protected site", 1)[1].split("\n## ", 1)[0]
    numbers = [int(n) for n in re.findall(r"#\s*(\d+)\.|\((\d+)\)", section) for n in n if n]
    numbered = sorted(set(numbers))
    assert numbered and max(numbered) <= 10
    assert 'pip install "django-toopher[server]"' in section
