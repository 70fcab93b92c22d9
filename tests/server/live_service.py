"""``toopher_server`` under gunicorn on loopback ports, as operators run it.

:class:`LiveService` migrates a fresh database (an SQLite file; on PostgreSQL, when the
suite runs there, a database of its own on that server), creates one requester (its
key and secret printed once, as at creation) and starts instances of the service on
it, each a gunicorn process (:class:`tests.processes.ServerProcess`) on its own port.
No Django import in the test process: it talks to the instances over HTTP.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import toopher
from tests.processes import ServerProcess
from tests.scale.cluster import FreshDatabase
from toopher_server.cli import DEFAULT_KEEP_ALIVE

ROOT = Path(__file__).resolve().parents[2]
COMMAND_TIMEOUT = 120

_CREATE_REQUESTER = (
    "import json, django; django.setup(); "
    "from toopher_server.requesters import create_requester; "
    "r = create_requester('Compat Shop'); "
    "print(json.dumps({'key': r.key, 'secret': r.current_secret()}))"
)


class Instance(ServerProcess):
    """One gunicorn process serving the service (a :class:`tests.processes.ServerProcess`)."""

    def __init__(self, env: dict[str, str], log_path: Path) -> None:
        super().__init__(
            "toopher_server",
            lambda port, fd: [
                sys.executable, "-m", "gunicorn", "--bind", f"fd://{fd}",
                "--worker-class", "gthread", "--workers", "1", "--threads", "4",
                # As `toopher-server serve`: with gunicorn's own 2 s, a client reusing a
                # connection just as the server closed it got no answer (a benchmark
                # burst lost a request that way).
                "--keep-alive", str(DEFAULT_KEEP_ALIVE),
                "--timeout", "60", "--no-control-socket",
                "tests.server.live_wsgi:application",
            ],
            env=env, cwd=ROOT, log_path=log_path, ready_path="/v1",
        )  # fmt: skip
        self.start()


class LiveService:
    """A database, one requester, and the instances serving them."""

    def __init__(self, workdir: Path, settings: str = "tests.server.live_settings") -> None:
        """``settings``: the instances' settings module (``live_settings`` or one built on it)."""
        self.workdir = workdir
        self.env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": settings,
            "TOOPHER_LIVE_DB": str(workdir / "service.sqlite3"),
            "PYTHONPATH": str(ROOT),
        }
        # On PostgreSQL (make test-postgres) the instances share a database of their
        # own there, as instances behind a balancer do in production.
        self.database: FreshDatabase | None = None
        suite_database = os.environ.get("DATABASE_URL", "")
        if suite_database.startswith(("postgres://", "postgresql://")):
            self.database = FreshDatabase(suite_database, prefix="toopher_live").create()
            self.env["TOOPHER_LIVE_DATABASE_URL"] = self.database.url
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

    def api(self, instance: Instance) -> toopher.ToopherApi:
        """The requester's API v1 client of ``instance`` (the caller closes it)."""
        key, secret = self.requester["key"], self.requester["secret"]
        return toopher.ToopherApi(key, secret, api_url=f"{instance.base_url}/v1")

    def stop(self) -> None:
        for instance in self.instances:
            instance.stop()
        if self.database is not None:
            self.database.drop()
