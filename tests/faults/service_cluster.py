"""``toopher_server`` as its operators run it: ``toopher-server serve`` instances on one
PostgreSQL database and one Redis, for the service's fault run and its benchmark.

Each instance is the production command (``toopher-server serve``: the deploy checks,
then gunicorn with gthread workers) in a process group of its own, on a loopback port
it inherits (``--bind fd://N``), with the production settings module read from the
environment (or one that imports it and changes only what a load test needs). The
database is migrated and a requester created with the same CLI.

No Django import in this process: it talks to the instances over HTTP, as sites and
authenticators do.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from tests.processes import ServerProcess
from tests.scale.cluster import ROOT, FreshDatabase

#: Seconds a CLI command (migrate, createrequester) may take.
COMMAND_TIMEOUT = 180


def service_environment(
    *, database_url: str, cache_url: str, settings: str, key_prefix: str
) -> dict[str, str]:
    """What every instance shares: the database, the cache, the keys (made here once)."""
    from toopher_server import auditchain, secretbox

    env = {
        name: value for name, value in os.environ.items()
        if not name.startswith("TOOPHER_")
        and name not in ("DJANGO_SETTINGS_MODULE", "DATABASE_URL", "CACHE_URL", "PYTHONPATH")
    }  # fmt: skip
    env.update(
        DJANGO_SETTINGS_MODULE=settings,
        DATABASE_URL=database_url,
        CACHE_URL=cache_url,
        CACHE_KEY_PREFIX=key_prefix,
        SECRET_KEY=f"service-run-{os.urandom(24).hex()}",
        TOOPHER_SECRET_KEYS=secretbox.generate_key(),
        TOOPHER_AUDIT_KEY=auditchain.generate_key(),
        ALLOWED_HOSTS="127.0.0.1",
        LOG_LEVEL="WARNING",
        PYTHONUNBUFFERED="1",
        # The checkout these tests run from is the code the instances serve.
        PYTHONPATH=str(ROOT),
    )
    return env


def toopher_server(env: dict[str, str], *args: str) -> str:
    """``toopher-server <args>`` in ``env``; its stdout, or RuntimeError with its output."""
    done = subprocess.run(  # noqa: S603 (our own interpreter and module)
        [sys.executable, "-m", "toopher_server.cli", *args],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=COMMAND_TIMEOUT,
        check=False,
    )  # fmt: skip
    if done.returncode:
        raise RuntimeError(f"toopher-server {' '.join(args)} failed:\n{done.stderr[-2000:]}")
    return done.stdout


class ServeInstance(ServerProcess):
    """One ``toopher-server serve`` (gunicorn, ``workers`` x ``threads``) on its own port."""

    def __init__(
        self, name: str, env: dict[str, str], workdir: Path, *, workers: int = 2, threads: int = 8
    ) -> None:
        super().__init__(
            name,
            lambda port, fd: [
                sys.executable, "-m", "toopher_server.cli", "serve", "--bind", f"fd://{fd}",
                "--workers", str(workers), "--threads", str(threads),
            ],
            env=env, cwd=ROOT, log_path=workdir / f"serve-{name}.log", ready_path="/v1",
            new_session=True,
        )  # fmt: skip
        self.reserve_port()  # the cluster's URLs are known before the instances start

    def tracebacks(self) -> list[str]:
        """Log lines of tracebacks and errors the instance wrote (but Django's line for
        each 503 answered while the database was away: that is the answer)."""
        return [
            f"{self.name}: {line}" for line in self.log_text().splitlines()
            if ("Traceback" in line or " ERROR " in line or "[ERROR]" in line
                or "[CRITICAL]" in line) and "Service Unavailable: " not in line
        ]  # fmt: skip


class ServiceCluster:
    """A fresh database on the PostgreSQL of ``database_url``, migrated, one requester,
    and ``instances`` instances serving it; :meth:`stop` stops them and drops it."""

    def __init__(
        self,
        workdir: Path,
        *,
        database_url: str,
        cache_url: str,
        settings: str = "toopher_server.settings",
        instances: int = 2,
        prefix: str = "toopher_service",
    ) -> None:
        self.workdir = workdir
        self.database = FreshDatabase(database_url, prefix=prefix).create()
        self.env = service_environment(
            database_url=self.database.url, cache_url=cache_url, settings=settings,
            key_prefix=f"{prefix}-{os.getpid()}-{os.urandom(4).hex()}",
        )  # fmt: skip
        self.instances: list[ServeInstance] = []
        try:
            toopher_server(self.env, "migrate", "--noinput", "-v", "0")
            out = toopher_server(self.env, "createrequester", "--name", "Load Shop", "--json")
            self.requester: dict[str, str] = json.loads(out.strip().splitlines()[-1])
            self.instances = [
                ServeInstance(chr(ord("a") + i), self.env, workdir) for i in range(instances)
            ]
            for instance in self.instances:
                instance.start(wait=False)
            for instance in self.instances:
                instance.wait_until_up()
        except BaseException:
            self.stop()
            raise

    @property
    def urls(self) -> list[str]:
        return [instance.base_url for instance in self.instances]

    def stop(self) -> None:
        for instance in self.instances:
            instance.stop()
        self.database.drop()
