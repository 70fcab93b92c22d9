"""The processes a benchmark run needs, all on 127.0.0.1, all stopped at the end.

* the standalone sandbox (``python -m toopher_sandbox``) with its own SQLite file, so
  upstream API calls can be counted at the sandbox side (one OAuth nonce row per
  verified call);
* the benchmark site's database, migrated by this (harness) process;
* gunicorn serving the benchmark site, once with django_toopher and once without
  (a :class:`tests.processes.ServerProcess`, like every site the tests start).
"""

from __future__ import annotations

import os
import secrets
import sys
import tempfile
from pathlib import Path
from typing import Any

from tests.processes import ServerProcess
from toopher_sandbox.testing import SandboxControl, SandboxProcess

from . import sandbox_counts

ROOT = Path(__file__).resolve().parent.parent
SETTINGS = "benchmarks.site.settings"
START_TIMEOUT = 60.0
#: One gunicorn process (the poll cache is per process) with threads: the 2-core
#: machine runs the server on one core and the load generator on the other.
GUNICORN_THREADS = 4


def _stat(pid: int) -> list[str] | None:
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return text.rsplit(")", 1)[1].split()


def process_tree_cpu(pid: int) -> float:
    """User + system CPU seconds of ``pid`` and its direct children (Linux /proc)."""
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        fields = _stat(int(entry.name))
        if fields is None:
            continue
        # fields[1] is the parent pid; fields[11], fields[12] are utime, stime.
        if int(entry.name) == pid or int(fields[1]) == pid:
            total += int(fields[11]) + int(fields[12])
    return total / ticks


class Site(ServerProcess):
    """The benchmark site under gunicorn (``with_toopher`` chooses the app)."""

    def __init__(self, env: dict[str, str], workdir: Path, *, with_toopher: bool) -> None:
        self.with_toopher = with_toopher
        super().__init__(
            "with django_toopher" if with_toopher else "without django_toopher",
            self._command,
            env=dict(env, BENCH_TOOPHER="1" if with_toopher else "0"),
            cwd=ROOT,
            log_path=workdir / f"gunicorn-{'toopher' if with_toopher else 'plain'}.log",
            ready_path="/accounts/login/",
            start_timeout=START_TIMEOUT,
        )

    @staticmethod
    def _command(port: int, fd: int) -> list[str]:
        return [
            sys.executable, "-m", "gunicorn",
            "--bind", f"fd://{fd}",
            "--workers", "1",
            "--worker-class", "gthread",
            "--threads", str(GUNICORN_THREADS),
            "--keep-alive", "30",
            "--timeout", "60",
            "--log-level", "warning",
            "--no-control-socket",  # gunicorn 27+: no shared ~/.gunicorn socket
            "benchmarks.site.wsgi:application",
        ]

    def start(self, wait: bool = True) -> Site:
        super().start(wait)
        return self

    def cpu_seconds(self) -> float:
        """CPU time (user + system) used so far by gunicorn and its worker."""
        assert self.process is not None
        return process_tree_cpu(self.process.pid)


class Environment:
    """Sandbox + database + the two gunicorn apps, as a context manager."""

    def __init__(self) -> None:
        self._tmp = tempfile.TemporaryDirectory(prefix="toopher-bench-")
        self.workdir = Path(self._tmp.name)
        self.sandbox_db = self.workdir / "sandbox.sqlite3"
        self.site_db = self.workdir / "site.sqlite3"
        self.sandbox_process: SandboxProcess | None = None
        self.control: SandboxControl | None = None
        self.requester: dict[str, str] = {}
        self.env: dict[str, str] = {}
        self.toopher_site: Site | None = None
        self.plain_site: Site | None = None

    # -- lifecycle -------------------------------------------------------------------
    def __enter__(self) -> Environment:
        try:
            self.start()
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(self, *exc_info: Any) -> None:
        self.stop()

    def start(self) -> None:
        self.sandbox_process = SandboxProcess(db=str(self.sandbox_db)).start()
        self.control = SandboxControl(self.sandbox_process.base_url)
        self.requester = self.control.new_requester("benchmark site")
        keep = {
            k: v
            for k, v in os.environ.items()
            if not k.startswith(("BENCH_", "TOOPHER_"))
            and k not in ("DJANGO_SETTINGS_MODULE", "DATABASE_URL", "CACHE_URL")
        }
        self.env = dict(
            keep,
            DJANGO_SETTINGS_MODULE=SETTINGS,
            BENCH_DB=str(self.site_db),
            BENCH_SECRET_KEY=secrets.token_urlsafe(40),
            BENCH_API_URL=self.requester["api_url"],
            BENCH_KEY=self.requester["key"],
            BENCH_SECRET=self.requester["secret"],
            PYTHONPATH=str(ROOT),
        )
        self._setup_django()

    def _setup_django(self) -> None:
        """Configure Django in this process with the site's settings and migrate."""
        for name in ("DJANGO_SETTINGS_MODULE", "BENCH_DB", "BENCH_SECRET_KEY", "BENCH_API_URL",
                     "BENCH_KEY", "BENCH_SECRET"):
            os.environ[name] = self.env[name]
        os.environ["BENCH_TOOPHER"] = "1"
        import django
        from django.core.management import call_command

        django.setup()
        call_command("migrate", verbosity=0, interactive=False)

    def start_sites(self) -> None:
        """Serve both apps (with and without django_toopher)."""
        from django.db import connections

        connections.close_all()
        self.toopher_site = Site(self.env, self.workdir, with_toopher=True).start()
        self.plain_site = Site(self.env, self.workdir, with_toopher=False).start()

    def stop(self) -> None:
        for site in (self.toopher_site, self.plain_site):
            if site is not None:
                site.stop()
        if self.sandbox_process is not None:
            self.sandbox_process.stop()
        try:
            from django.db import connections

            connections.close_all()
        except Exception:  # noqa: BLE001 (Django may not be configured yet)
            pass
        self._tmp.cleanup()

    # -- counting upstream calls at the sandbox ------------------------------------
    def api_mark(self) -> int:
        """A mark to count upstream calls from (see :meth:`api_calls_since`)."""
        return sandbox_counts.api_mark(self.sandbox_db)

    def api_calls_since(self, mark: int, key: str | None = None) -> int:
        """Verified API v1 calls the sandbox has seen from ``key`` (the site's by default)
        since ``mark`` was taken (see :mod:`benchmarks.sandbox_counts`)."""
        return sandbox_counts.api_calls_since(
            self.sandbox_db, key or self.requester["key"], mark
        )
