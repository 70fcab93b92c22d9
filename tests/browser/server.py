"""Run the example project as a real server for the browser tests.

Each :class:`ExampleServer` gets its own temporary SQLite files (the site's, and the
mounted sandbox's ``sandbox.sqlite3`` beside it) and a free port on 127.0.0.1, is
migrated like ``make demo`` does (which also creates its sandbox requester), and is served by
gunicorn with threads (or by uvicorn), because the site calls its own mounted sandbox
over HTTP while it serves a request.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PROJECT = ROOT / "example_project"
MANAGE = PROJECT / "manage.py"

#: Bounded waits, in seconds.
START_TIMEOUT = 60
COMMAND_TIMEOUT = 120


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nobody listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def gunicorn_command(
    port: int, *, workers: int = 1, threads: int = 16, extra: tuple[str, ...] = ()
) -> list[str]:
    """gunicorn serving the example project on 127.0.0.1:``port`` with thread workers."""
    return [
        sys.executable, "-m", "gunicorn",
        "--chdir", str(PROJECT),
        "--bind", f"127.0.0.1:{port}",
        "--worker-class", "gthread",
        "--workers", str(workers),
        "--threads", str(threads),
        "--timeout", "60",
        # gunicorn's control socket has one default path per user: servers on one
        # machine would fight over it.
        "--no-control-socket",
        "--access-logfile", "-",
        *extra,
        "example_project.wsgi:application",
    ]


def uvicorn_command(port: int) -> list[str]:
    """uvicorn serving the example project's ASGI application on 127.0.0.1:``port``.

    One process: Django runs each request's sync code in a thread of its own, so the
    site answers its own sandbox's calls while it serves a request.
    """
    return [
        sys.executable, "-m", "uvicorn",
        "--app-dir", str(PROJECT),
        "--host", "127.0.0.1",
        "--port", str(port),
        "--lifespan", "off",  # Django speaks no lifespan protocol
        "--timeout-keep-alive", "75",
        "example_project.asgi:application",
    ]


class ExampleServer:
    """The example site, served on a free loopback port with a private database, by
    gunicorn (WSGI, the default) or by uvicorn (``asgi=True``)."""

    #: The servers started and not yet stopped (a failed test prints their logs).
    running: list[ExampleServer] = []

    def __init__(self, workdir: Path, *, asgi: bool = False, **environment: str) -> None:
        self.asgi = asgi
        self.workdir = workdir
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.port = free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        self.log_path = workdir / "server.log"
        self.env = {
            k: v
            for k, v in os.environ.items()
            if not k.startswith("TOOPHER_")
            and k not in ("DJANGO_SETTINGS_MODULE", "DATABASE_URL", "CACHE_URL", "PYTHONPATH")
        }
        self.env.update(
            {
                "DJANGO_SETTINGS_MODULE": "example_project.settings",
                "DATABASE_URL": f"sqlite:///{workdir / 'db.sqlite3'}",
                "CACHE_URL": "locmemcache://browser-tests",
                "SECRET_KEY": f"browser-tests-{self.port}-{os.urandom(8).hex()}",
                "DEBUG": "true",
                "PORT": str(self.port),
                "ALLOWED_HOSTS": "127.0.0.1,localhost",
                "PYTHONUNBUFFERED": "1",
            }
        )
        self.env.update(environment)
        self.process: subprocess.Popen[bytes] | None = None

    # -- management commands -------------------------------------------------------
    def manage(self, *args: str, extra_env: dict[str, str] | None = None) -> str:
        """Run ``manage.py <args>`` against this server's database; return stdout."""
        env = dict(self.env, **(extra_env or {}))
        proc = subprocess.run(
            [sys.executable, str(MANAGE), *args],
            cwd=self.workdir,
            env=env,
            capture_output=True,
            text=True,
            timeout=COMMAND_TIMEOUT,
        )
        if proc.returncode != 0:
            raise RuntimeError(
                f"manage.py {' '.join(args)} failed ({proc.returncode}):\n"
                f"{proc.stdout}\n{proc.stderr}"
            )
        return proc.stdout

    def create_user(self, username: str, password: str, email: str = "") -> None:
        """A user who can log in (a superuser, so the admin is reachable too)."""
        self.manage(
            "createsuperuser",
            "--noinput",
            "--username",
            username,
            "--email",
            email or f"{username}@example.com",
            extra_env={"DJANGO_SUPERUSER_PASSWORD": password},
        )

    # -- the server ----------------------------------------------------------------
    def migrate(self) -> None:
        """Migrate the site's database and, when the sandbox is mounted, the sandbox's."""
        self.manage("migrate", "--noinput")
        if not self.env.get("TOOPHER_API_URL"):
            self.manage("migrate", "--database", "sandbox", "--noinput")

    def start(self) -> ExampleServer:
        self.migrate()
        log = self.log_path.open("wb")
        self.process = subprocess.Popen(  # noqa: S603
            uvicorn_command(self.port) if self.asgi else gunicorn_command(self.port),
            cwd=self.workdir,
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        log.close()
        self._wait_until_up()
        ExampleServer.running.append(self)
        return self

    def _wait_until_up(self) -> None:
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            assert self.process is not None
            if self.process.poll() is not None:
                raise RuntimeError(f"the example server exited early:\n{self.log_tail()}")
            try:
                with urllib.request.urlopen(self.base_url + "/", timeout=2) as response:  # noqa: S310
                    if response.status == 200:
                        return
            except (urllib.error.URLError, OSError):
                pass
            time.sleep(0.2)
        self.stop()
        raise RuntimeError(
            f"the example server did not answer in {START_TIMEOUT}s:\n{self.log_tail()}"
        )

    def log_tail(self, lines: int = 60) -> str:
        try:
            text = self.log_path.read_text(errors="replace")
        except OSError:
            return "(no log)"
        return "\n".join(text.splitlines()[-lines:])

    def stop(self) -> None:
        if self in ExampleServer.running:
            ExampleServer.running.remove(self)
        if self.process is None or self.process.poll() is not None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=15)

    def url(self, path: str) -> str:
        return self.base_url + path
