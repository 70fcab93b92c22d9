"""Run the example project as a real server for the browser tests.

Each :class:`ExampleServer` gets its own temporary SQLite files (the site's, and the
mounted sandbox's ``sandbox.sqlite3`` beside it) and a free port on 127.0.0.1, is
migrated like ``make demo`` does (which also creates its sandbox requester), and is served by
gunicorn with threads (or by uvicorn), because the site calls its own mounted sandbox
over HTTP while it serves a request.
"""

from __future__ import annotations

import fcntl
import json
import os
import sqlite3
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from tests.processes import ServerProcess, free_port

ROOT = Path(__file__).resolve().parents[2]
PROJECT = ROOT / "example_project"
MANAGE = PROJECT / "manage.py"

#: Bounded wait for a management command, in seconds.
COMMAND_TIMEOUT = 120
#: The example servers' password hasher (the example reads ``PASSWORD_HASHERS``).
FAST_PASSWORD_HASHER = "django.contrib.auth.hashers.MD5PasswordHasher"
#: The mounted sandbox's push limit for one user (the example reads
#: ``TOOPHER_SERVER_RATE_LIMITS``): a minute of a module's tests, not a person's logins.
BROWSER_RATE_LIMITS = '{"push": {"user": [60, 60]}}'
#: ``manage.py shell -c``: ``migrate`` (its system checks included) of each database
#: named in ``$BROWSER_TEST_DATABASES``, as ``manage.py migrate --database NAME`` does.
MIGRATE = """
import os
from django.core.management import call_command
for database in os.environ["BROWSER_TEST_DATABASES"].split(","):
    call_command("migrate", database=database, interactive=False, skip_checks=False)
"""
#: ``manage.py shell -c``: superusers named in ``$BROWSER_TEST_USERS`` (``[[username,
#: email], ...]``), the password ``$BROWSER_TEST_PASSWORD`` hashed once for them all.
CREATE_USERS = """
import json, os
from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
encoded = make_password(os.environ["BROWSER_TEST_PASSWORD"])
for username, email in json.loads(os.environ["BROWSER_TEST_USERS"]):
    user = get_user_model().objects.create_superuser(username, email)
    user.password = encoded
    user.save(update_fields=["password"])
"""

#: The database files of each database alias, in a server's working directory.
DATABASE_FILES = {"default": "db.sqlite3", "sandbox": "sandbox.sqlite3"}
#: What a migration leaves behind that belongs to one server: the sandbox requester the
#: example project's ``post_migrate`` makes with credentials derived from the server's
#: ``SECRET_KEY`` (each server's own migrate run makes its own again).
SERVER_OWN_ROWS = {"sandbox": ("toopher_server_requester",)}


def copy_database(source: Path, target: Path) -> None:
    """Copy a SQLite database file (with SQLite's backup, whatever its journal)."""
    with sqlite3.connect(source) as src, sqlite3.connect(target) as dst:
        src.backup(dst)
    src.close()  # sqlite3's context manager commits, it does not close
    dst.close()


class MigratedTemplates:
    """Databases migrated once per test run (per set of aliases migrated), that later
    servers start from: their own ``migrate`` run then finds nothing to apply.

    A migration from nothing costs about 3.4 s of CPU, a run that finds nothing to do
    1.4 s (the Django start, the system checks, ``post_migrate``), and the browser tests
    start a dozen servers. The first server migrates from nothing as before, and its
    files, less :data:`SERVER_OWN_ROWS`, become the template: a copy holds what a fresh
    migration holds. ``folder`` is shared by the run's processes (the browser tests'
    conftest sets it; a lock file makes one of them migrate while the others wait);
    unset, each process keeps templates of its own.
    """

    def __init__(self) -> None:
        self.folder: Path | None = None
        self._own: tempfile.TemporaryDirectory[str] | None = None

    def _root(self) -> Path:
        if self.folder is None:
            if self._own is None:
                self._own = tempfile.TemporaryDirectory(prefix="example-templates-")
            self.folder = Path(self._own.name)
        self.folder.mkdir(parents=True, exist_ok=True)
        return self.folder

    @contextmanager
    def migrating(self, server: ExampleServer, databases: list[str]) -> Iterator[None]:
        """Around ``server``'s migrate run: its files start as copies of the template of
        ``databases`` when there is one, else they become it."""
        root = self._root()
        template = root / "-".join(databases)
        lock = open(root / f"{template.name}.lock", "w")  # noqa: SIM115 (released below)
        try:
            fcntl.flock(lock, fcntl.LOCK_EX)  # released when the file closes
            made = (template / "done").exists()
            if made:  # copied: the migrate run needs the lock no more (others start too)
                for alias in databases:
                    copy_database(template / DATABASE_FILES[alias],
                                  server.workdir / DATABASE_FILES[alias])
                lock.close()
            yield
            if not made:  # the others wait for the template: cheaper than their own
                self._keep(server.workdir, template, databases)
        finally:
            lock.close()

    @staticmethod
    def _keep(workdir: Path, template: Path, databases: list[str]) -> None:
        template.mkdir(exist_ok=True)
        for alias in databases:
            copied = template / DATABASE_FILES[alias]
            copy_database(workdir / DATABASE_FILES[alias], copied)
            with sqlite3.connect(copied) as db:
                for table in SERVER_OWN_ROWS.get(alias, ()):
                    db.execute(f"DELETE FROM {table}")  # noqa: S608 (names of ours)
            db.close()
        (template / "done").touch()


#: The templates of this test run.
TEMPLATES = MigratedTemplates()


def gunicorn_command(
    port: int, *, workers: int = 1, threads: int = 16, extra: tuple[str, ...] = (),
    fd: int | None = None,
) -> list[str]:
    """gunicorn serving the example project on 127.0.0.1:``port`` with thread workers
    (or on the inherited listening socket ``fd``)."""
    return [
        sys.executable, "-m", "gunicorn",
        "--chdir", str(PROJECT),
        "--bind", f"fd://{fd}" if fd is not None else f"127.0.0.1:{port}",
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


def uvicorn_command(port: int, fd: int | None = None) -> list[str]:
    """uvicorn serving the example project's ASGI application on 127.0.0.1:``port``
    (or on the inherited listening socket ``fd``).

    One process: Django runs each request's sync code in a thread of its own, so the
    site answers its own sandbox's calls while it serves a request.
    """
    bind = ["--fd", str(fd)] if fd is not None else ["--host", "127.0.0.1", "--port", str(port)]
    return [
        sys.executable, "-m", "uvicorn",
        "--app-dir", str(PROJECT),
        *bind,
        "--lifespan", "off",  # Django speaks no lifespan protocol
        "--timeout-keep-alive", "75",
        "example_project.asgi:application",
    ]


class ExampleServer(ServerProcess):
    """The example site, served on a free loopback port with a private database, by
    gunicorn (WSGI, the default) or by uvicorn (``asgi=True``)."""

    #: The servers started and not yet stopped (a failed test prints their logs).
    running: list[ExampleServer] = []

    def __init__(self, workdir: Path, *, asgi: bool = False, **environment: str) -> None:
        self.asgi = asgi
        self.workdir = workdir
        self.workdir.mkdir(parents=True, exist_ok=True)
        env = {
            k: v
            for k, v in os.environ.items()
            if not k.startswith("TOOPHER_")
            and k not in ("DJANGO_SETTINGS_MODULE", "DATABASE_URL", "CACHE_URL", "PYTHONPATH")
        }
        env.update(
            {
                "DJANGO_SETTINGS_MODULE": "example_project.settings",
                "DATABASE_URL": f"sqlite:///{workdir / 'db.sqlite3'}",
                "CACHE_URL": "locmemcache://browser-tests",
                "SECRET_KEY": f"browser-tests-{os.urandom(8).hex()}",
                "DEBUG": "true",
                "ALLOWED_HOSTS": "127.0.0.1,localhost",
                "PYTHONUNBUFFERED": "1",
                # Django's default hasher spends half a second of CPU on each login;
                # what a test checks of a login does not depend on the hash.
                "PASSWORD_HASHERS": FAST_PASSWORD_HASHER,
                # A module's tests share a user and ask more than the service's 10
                # pushes a minute of one user; no browser test is about the limits.
                "TOOPHER_SERVER_RATE_LIMITS": BROWSER_RATE_LIMITS,
            }
        )
        env.update(environment)
        super().__init__(
            "the example server",
            self._command,
            env=env,
            cwd=workdir,
            log_path=workdir / "server.log",
        )
        # A port for management commands run before start() (which takes a port of its
        # own, held until the server has it).
        self.port = free_port()
        self.env["PORT"] = str(self.port)

    def _command(self, port: int, fd: int) -> list[str]:
        return uvicorn_command(port, fd) if self.asgi else gunicorn_command(port, fd=fd)

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
        self.create_users([username], password, {username: email} if email else None)

    def create_users(
        self, usernames: list[str], password: str, emails: dict[str, str] | None = None
    ) -> None:
        """Users like :meth:`create_user`'s, all with ``password``, in one ``manage.py``
        run and with one password hash (a Django start and a hash cost about a second
        of CPU each); an address is ``<username>@example.com`` unless ``emails`` says."""
        emails = emails or {}
        users = [[name, emails.get(name) or f"{name}@example.com"] for name in usernames]
        self.manage(
            "shell", "-c", CREATE_USERS,
            extra_env={"BROWSER_TEST_USERS": json.dumps(users),
                       "BROWSER_TEST_PASSWORD": password},
        )

    # -- the server ----------------------------------------------------------------
    def migrate(self) -> None:
        """Migrate the site's database and, when the sandbox is mounted, the sandbox's
        (in one ``manage.py`` run: a Django start costs about a second of CPU), from
        copies of databases migrated once per run (:data:`TEMPLATES`)."""
        databases = ["default"] if self.env.get("TOOPHER_API_URL") else ["default", "sandbox"]
        with TEMPLATES.migrating(self, databases):
            self.manage("shell", "-c", MIGRATE,
                        extra_env={"BROWSER_TEST_DATABASES": ",".join(databases)})

    def start(self, wait: bool = True) -> ExampleServer:
        # The site's own URL (its mounted sandbox's) names the port: take it first.
        self.port = None
        self.reserve_port()
        self.migrate()
        super().start(wait)
        ExampleServer.running.append(self)
        return self

    def stop(self) -> None:
        if self in ExampleServer.running:
            ExampleServer.running.remove(self)
        super().stop()
