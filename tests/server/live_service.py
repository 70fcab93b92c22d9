"""``toopher_server`` under gunicorn on loopback ports, as operators run it.

:class:`LiveService` migrates a fresh SQLite file, creates one requester (its key and
secret printed once, as at creation) and starts instances of the service on that file,
each a gunicorn process on its own free port. No Django import in the test process: it
talks to the instances over HTTP.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
START_TIMEOUT = 60
COMMAND_TIMEOUT = 120

_CREATE_REQUESTER = (
    "import json, django; django.setup(); "
    "from toopher_server.requesters import create_requester; "
    "r = create_requester('Compat Shop'); "
    "print(json.dumps({'key': r.key, 'secret': r.current_secret()}))"
)


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nobody listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Instance:
    """One gunicorn process serving the service."""

    def __init__(self, env: dict[str, str], log_path: Path) -> None:
        self.port = free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        self.log_path = log_path
        with log_path.open("ab") as log:
            self.process = subprocess.Popen(  # noqa: S603
                [
                    sys.executable, "-m", "gunicorn",
                    "--bind", f"127.0.0.1:{self.port}",
                    "--worker-class", "gthread", "--workers", "1", "--threads", "4",
                    "--timeout", "60", "--no-control-socket",
                    "tests.server.live_wsgi:application",
                ],
                cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
            )  # fmt: skip
        self._wait_until_up()

    def _wait_until_up(self) -> None:
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"gunicorn exited: {self.log_path.read_text()[-2000:]}")
            try:
                with urllib.request.urlopen(f"{self.base_url}/v1", timeout=2) as response:  # noqa: S310
                    if response.status == 200:
                        return
            except (urllib.error.URLError, OSError):
                time.sleep(0.2)
        raise RuntimeError(f"gunicorn did not answer: {self.log_path.read_text()[-2000:]}")

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


class LiveService:
    """A database, one requester, and the instances serving them."""

    def __init__(self, workdir: Path) -> None:
        self.workdir = workdir
        self.env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "tests.server.live_settings",
            "TOOPHER_LIVE_DB": str(workdir / "service.sqlite3"),
            "PYTHONPATH": str(ROOT),
        }
        self._run([sys.executable, "-m", "django", "migrate", "--noinput", "-v", "0"])
        self.requester = json.loads(self._run([sys.executable, "-c", _CREATE_REQUESTER]))
        self.instances: list[Instance] = []

    def _run(self, command: list[str]) -> str:
        done = subprocess.run(  # noqa: S603
            command, cwd=ROOT, env=self.env, capture_output=True, text=True,
            timeout=COMMAND_TIMEOUT, check=False,
        )  # fmt: skip
        if done.returncode:
            raise RuntimeError(f"{command[2:4]} failed: {done.stderr[-2000:]}")
        return done.stdout

    def start(self) -> Instance:
        """One more instance on the same database."""
        instance = Instance(self.env, self.workdir / f"gunicorn-{len(self.instances)}.log")
        self.instances.append(instance)
        return instance

    def stop(self) -> None:
        for instance in self.instances:
            instance.stop()
