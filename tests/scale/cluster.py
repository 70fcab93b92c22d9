"""A small production-like cluster for the scale-out test.

Pieces, all on 127.0.0.1:

- a fresh PostgreSQL database on the server of ``DATABASE_URL`` (one per test run,
  migrated once, dropped at the end);
- several gunicorn instances (threads workers) of the example project sharing that
  database, one Redis (cache *and* sessions, one key prefix per run) and one
  ``SECRET_KEY``, with the mounted sandbox switched off (``TOOPHER_API_URL`` set);
- a :class:`Browser`: one user's cookie jar whose every request goes to a random
  instance, as behind a load balancer without sticky sessions.

No Django import here: the test process talks to the cluster over HTTP and to
PostgreSQL through psycopg, as an operator would.
"""

from __future__ import annotations

import json
import os
import random
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import psycopg
import requests

from tests.browser.server import (  # noqa: F401 (ROOT: re-exported)
    MANAGE,
    PROJECT,
    ROOT,
    gunicorn_command,
)
from tests.processes import ServerProcess, free_port
from tests.waiting import wait_until

#: Bounded waits, in seconds.
START_TIMEOUT = 60
COMMAND_TIMEOUT = 180
HTTP_TIMEOUT = 30


# --------------------------------------------------------------------------- PostgreSQL


def _with_database(url: str, name: str) -> str:
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, "/" + name, parts.query, ""))


def _conninfo(url: str) -> str:
    """A libpq URL (psycopg does not know Django's ``postgres://`` aliases)."""
    parts = urlsplit(url)
    return urlunsplit(("postgresql", parts.netloc, parts.path, parts.query, ""))


class FreshDatabase:
    """``CREATE DATABASE <prefix>_<pid>`` on the server of ``base_url``; dropped by drop()."""

    def __init__(self, base_url: str, prefix: str = "toopher_scale") -> None:
        self.base_url = base_url
        self.name = f"{prefix}_{os.getpid()}"
        self.url = _with_database(base_url, self.name)

    def _admin(self) -> psycopg.Connection:
        return psycopg.connect(_conninfo(self.base_url), autocommit=True)

    def create(self) -> FreshDatabase:
        with self._admin() as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)')
            conn.execute(f'CREATE DATABASE "{self.name}"')
        return self

    def drop(self) -> None:
        with self._admin() as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)')

    def query(self, sql: str, params: Iterable[Any] = ()) -> list[tuple[Any, ...]]:
        """Rows of one read-only query on the fresh database."""
        with psycopg.connect(_conninfo(self.url)) as conn:
            return conn.execute(sql, tuple(params)).fetchall()

    def scalar(self, sql: str, params: Iterable[Any] = ()) -> Any:
        return self.query(sql, params)[0][0]


# --------------------------------------------------------------------------- instances


#: TOOPHER["PUSH_RATE_LIMIT"] of the cluster's instances: the app's default.
PUSH_RATE_LIMIT = 5


def site_environment(
    *,
    database_url: str,
    cache_url: str,
    key_prefix: str,
    api_url: str,
    key: str,
    secret: str,
    session_engine: str = "django.contrib.sessions.backends.cache",
) -> dict[str, str]:
    """The environment every instance shares: one database, one Redis, one secret key."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("TOOPHER_")
        and k not in ("DJANGO_SETTINGS_MODULE", "DATABASE_URL", "CACHE_URL", "PYTHONPATH")
    }
    env.update(
        {
            "DJANGO_SETTINGS_MODULE": "example_project.settings",
            "DATABASE_URL": database_url,
            "CACHE_URL": cache_url,
            "CACHE_KEY_PREFIX": key_prefix,
            "SESSION_ENGINE": session_engine,
            "SECRET_KEY": f"scale-test-{os.urandom(24).hex()}",
            "DEBUG": "false",
            # Plain HTTP on loopback: a real site sets these cookies Secure behind TLS.
            "SECURE_COOKIES": "false",
            "ALLOWED_HOSTS": "127.0.0.1",
            "SERVE_STATIC": "false",
            # The sandbox runs as its own service: not mounted in the site.
            "TOOPHER_API_URL": api_url,
            "TOOPHER_CONSUMER_KEY": key,
            "TOOPHER_CONSUMER_SECRET": secret,
            # The app's own push limit, as a real site keeps it (the demo allows more,
            # for exploring); tests/faults checks it holds after Redis lost its counters.
            "TOOPHER_PUSH_RATE_LIMIT": str(PUSH_RATE_LIMIT),
            "LOG_LEVEL": "WARNING",
            "PYTHONUNBUFFERED": "1",
            # The checkout these tests run from is the code the instances serve (not
            # whichever one the virtualenv's editable install points at: a worktree).
            "PYTHONPATH": str(ROOT),
        }
    )
    return env


def manage(env: dict[str, str], *args: str, stdin: str | None = None) -> str:
    """``manage.py <args>`` of the example project; stdout, or RuntimeError with the output."""
    proc = subprocess.run(  # noqa: S603
        [sys.executable, str(MANAGE), *args],
        cwd=PROJECT,
        env=env,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=COMMAND_TIMEOUT,
    )
    if proc.returncode != 0:
        raise RuntimeError(
            f"manage.py {' '.join(args)} failed ({proc.returncode}):\n{proc.stdout}\n{proc.stderr}"
        )
    return proc.stdout


_CREATE_USERS = """
import json, sys
from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django_toopher.models import ToopherProfile
data = json.load(sys.stdin)
User = get_user_model()
encoded = make_password(data["password"])  # one hash for all: the users differ by name
users = User.objects.bulk_create(
    [User(username=u["username"], password=encoded) for u in data["users"]]
)
ToopherProfile.objects.bulk_create(
    [ToopherProfile(user=user, pairing_id=u["pairing_id"]) for user, u in zip(users, data["users"])]
)
print(len(users))
"""


def create_users(env: dict[str, str], password: str, users: list[dict[str, str]]) -> int:
    """Users ``[{"username", "pairing_id"}]`` with the same password, paired (stored mode)."""
    out = manage(
        env,
        "shell",
        "-v",
        "0",
        "-c",
        _CREATE_USERS,
        stdin=json.dumps({"password": password, "users": users}),
    )
    return int(out.strip().splitlines()[-1])


class Instance(ServerProcess):
    """One gunicorn (gthread) instance of the example project on its own port, in a
    process group of its own (:meth:`kill` reaches its workers, and nothing else)."""

    def __init__(
        self, name: str, env: dict[str, str], workdir: Path, *, workers: int = 2, threads: int = 8
    ) -> None:
        self.workers = workers
        self.threads = threads
        super().__init__(
            name,
            self._command,
            env=env,
            cwd=PROJECT,
            # Appended: an instance started again (after kill()) keeps its earlier log.
            log_path=workdir / f"gunicorn-{name}.log",
            new_session=True,
        )
        self.reserve_port()  # the cluster's URLs are known before the instances start

    def _command(self, port: int, fd: int) -> list[str]:
        return gunicorn_command(
            port,
            workers=self.workers,
            threads=self.threads,
            # Longer than a client's pause between two polls (2 s), as behind a load
            # balancer: an idle connection is never closed under a request.
            extra=("--keep-alive", "75", "--access-logformat", "%(s)s %(m)s %(U)s"),
            fd=fd,
        )

    def start(self, wait: bool = False) -> Instance:
        """Start (or start again, on the same port); :meth:`wait_until_up` waits."""
        super().start(wait)
        return self

    def server_errors(self, pattern: str = r"^5\d\d ") -> list[str]:
        """Access-log lines with a status matching ``pattern`` (5xx), and any traceback
        the instance printed."""
        bad = []
        for line in self.log_text().splitlines():
            if re.match(pattern, line) or re.search(r"Traceback|\[ERROR\]|\[CRITICAL\]", line):
                bad.append(line)
        return bad

    def log_problems(self) -> list[str]:
        """Every log line but the boot messages and the 2xx/3xx/404 access lines."""
        return [
            f"{self.name}: {line}"
            for line in self.log_text().splitlines()
            if not re.match(r"^([23]\d\d|404) ", line) and "[INFO]" not in line
        ]


# --------------------------------------------------------------------------- a browser

_CSRF = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')
_USERNAME = re.compile(r'<th scope="row">Username</th><td>([^<]*)</td>')


class FlowError(AssertionError):
    """A step of a login did not go as it should (carries what the site answered)."""


@dataclass
class Browser:
    """One user's cookie jar; each request goes to one of ``instances`` at random."""

    instances: list[str]
    rng: random.Random
    session: requests.Session = field(default_factory=requests.Session)
    trail: list[str] = field(default_factory=list)
    #: False: a 5xx is returned to the caller (the fault tests judge it) instead of raising.
    raise_5xx: bool = True
    #: Called with every response (the fault tests count and inspect them).
    observe: Callable[[requests.Response], None] | None = None

    def pick(self) -> str:
        return self.rng.choice(self.instances)

    def request(self, method: str, path: str, base: str | None = None, **kwargs: Any):
        chosen = base or self.pick()
        kwargs.setdefault("timeout", HTTP_TIMEOUT)
        kwargs.setdefault("allow_redirects", False)
        try:
            response = self.session.request(method, chosen + path, **kwargs)
        except requests.ConnectionError:
            # A load balancer sends a request that found no listener to another instance.
            others = [url for url in self.instances if url != chosen]
            if base is not None or not others:
                raise
            self.trail.append(f"{method} {chosen}{path} -> refused, sent elsewhere")
            chosen = self.rng.choice(others)
            response = self.session.request(method, chosen + path, **kwargs)
        self.trail.append(f"{method} {chosen}{path} -> {response.status_code}")
        if self.observe is not None:
            self.observe(response)
        if response.status_code >= 500 and self.raise_5xx:
            raise FlowError(f"{method} {path} on {chosen}: {response.status_code}\n{self.trail}")
        return response

    def csrf_from(self, response: requests.Response) -> str:
        match = _CSRF.search(response.text)
        if not match:
            raise FlowError(f"no CSRF token in {response.url}: {response.text[:500]}")
        return match.group(1)

    def log_in(self, username: str, password: str, base: str | None = None) -> None:
        """The password step: the login becomes pending (redirected, not logged in)."""
        page = self.request("GET", "/accounts/login/", base)
        if page.status_code != 200:
            raise FlowError(f"login page: {page.status_code}")
        answer = self.request(
            "POST",
            "/accounts/login/",
            base,
            data={
                "username": username,
                "password": password,
                "csrfmiddlewaretoken": self.csrf_from(page),
            },
        )
        if answer.status_code != 302:
            raise FlowError(f"password step: {answer.status_code} {answer.text[:300]}")

    def pending(self, base: str | None = None) -> requests.Response:
        page = self.request("GET", "/toopher/pending/", base)
        if page.status_code != 200:
            raise FlowError(f"pending page: {page.status_code} {page.headers.get('Location')}")
        return page

    def name_terminal(self, page: requests.Response, name: str, base: str | None = None) -> None:
        if 'name="name"' not in page.text:
            raise FlowError(f"expected the terminal-naming form: {page.text[:500]}")
        answer = self.request(
            "POST",
            "/toopher/pending/terminal/",
            base,
            data={"name": name, "csrfmiddlewaretoken": self.csrf_from(page)},
        )
        if answer.status_code != 302:
            raise FlowError(f"naming the terminal: {answer.status_code} {answer.text[:300]}")

    def status(self, base: str | None = None) -> dict[str, Any]:
        answer = self.request("GET", "/toopher/pending/status/", base)
        if answer.status_code != 200:
            raise FlowError(f"status: {answer.status_code} {answer.text[:300]}")
        return answer.json()

    def racing_polls(self, timeout: float) -> list[str]:
        """Two tabs: poll every instance at once until one poll is final.

        Returns every status seen in the last round (one per instance); a 404 (no
        pending login left in the session) counts as ``"none"``.
        """
        deadline = time.monotonic() + timeout

        def one(base: str) -> str:
            answer = self.request("GET", "/toopher/pending/status/", base)
            if answer.status_code == 404:
                return "none"
            if answer.status_code != 200:
                raise FlowError(f"status: {answer.status_code} {answer.text[:300]}")
            data = answer.json()
            return data["status"] if data["final"] else "pending:" + data["status"]

        with ThreadPoolExecutor(max_workers=len(self.instances)) as pool:
            while True:
                seen = list(pool.map(one, self.instances))
                if any(not status.startswith("pending:") for status in seen):
                    return seen
                if time.monotonic() > deadline:
                    raise FlowError(f"still {seen} after {timeout}s")
                time.sleep(1.0)

    def poll_until_final(self, timeout: float, base: str | None = None) -> dict[str, Any]:
        """Poll the status endpoint as pending.js does: at the interval it asks for."""
        deadline = time.monotonic() + timeout
        while True:
            data = self.status(base)
            if data["final"]:
                return data
            if time.monotonic() > deadline:
                raise FlowError(f"still {data['status']} after {timeout}s: {data}")
            time.sleep(max(0.2, float(data.get("interval") or 2)))

    def account_username(self, base: str | None = None) -> str | None:
        """The user name the account page shows, or None when not logged in."""
        answer = self.request("GET", "/account/", base)
        if answer.status_code != 200:
            return None
        match = _USERNAME.search(answer.text)
        return match.group(1) if match else None


# --------------------------------------------------------------------------- own servers
#
# The fault tests restart PostgreSQL and Redis: they run private servers of their own
# (never the shared ones of scripts/services.sh, which other runs may be using).


def _pg_bin() -> Path:
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"))
    if not found:
        raise RuntimeError("PostgreSQL is not installed: run `bash scripts/services.sh install`")
    return found[-1].parent


class PrivatePostgres:
    """A PostgreSQL server of our own on a free loopback port, data in ``workdir``."""

    def __init__(self, workdir: Path) -> None:
        self.workdir = workdir
        self.data = workdir / "pg"
        self.log_path = workdir / "postgres.log"
        self.port = free_port()
        self.url = f"postgres://toopher@127.0.0.1:{self.port}/toopher"
        # PostgreSQL refuses to run as root: as root, run it as the 'postgres' user.
        self.run_as = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []

    def _run(self, *args: str) -> None:
        subprocess.run(  # noqa: S603
            [*self.run_as, *args], check=True, capture_output=True, timeout=COMMAND_TIMEOUT
        )

    def _ready(self) -> bool:
        try:
            psycopg.connect(_conninfo(self.url), connect_timeout=2).close()
        except psycopg.Error:
            return False
        return True

    def start(self) -> PrivatePostgres:
        bin_dir = _pg_bin()
        if not (self.data / "PG_VERSION").exists():
            self.workdir.mkdir(parents=True, exist_ok=True)
            if self.run_as:
                shutil.chown(self.workdir, "postgres")
            self._run(str(bin_dir / "initdb"), "-D", str(self.data), "-U", "toopher",
                      "--auth=trust", "-E", "UTF8")
        options = (f"-h 127.0.0.1 -p {self.port} -k {self.workdir} -c max_connections=200"
                   " -c fsync=off")
        self._run(str(bin_dir / "pg_ctl"), "-D", str(self.data), "-l", str(self.log_path),
                  "-w", "-o", options, "start")
        wait_until(self._ready_or_create, START_TIMEOUT, interval=0.1, message="PostgreSQL up")
        return self

    def _ready_or_create(self) -> bool:
        try:
            psycopg.connect(_conninfo(_with_database(self.url, "postgres")),
                            connect_timeout=2, autocommit=True).close()
        except psycopg.Error:
            return False
        if not self._ready():
            with psycopg.connect(_conninfo(_with_database(self.url, "postgres")),
                                 autocommit=True) as conn:
                conn.execute('CREATE DATABASE "toopher"')
        return True

    def stop(self, mode: str = "fast") -> None:
        """``pg_ctl stop -m fast`` (sessions ended), or ``immediate`` (a crash)."""
        if (self.data / "postmaster.pid").exists():
            self._run(str(_pg_bin() / "pg_ctl"), "-D", str(self.data), "-m", mode, "-w", "stop")

    def remove(self) -> None:
        self.stop("immediate")
        shutil.rmtree(self.workdir, ignore_errors=True)


class PrivateRedis:
    """A Redis server of our own on a free loopback port, without persistence: a
    restart loses every key, as a Redis without RDB/AOF does."""

    def __init__(self, workdir: Path) -> None:
        self.workdir = workdir
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.log_path = workdir / "redis.log"
        self.process: subprocess.Popen[bytes] | None = None

    def _ready(self) -> bool:
        import redis

        try:
            return bool(redis.Redis(port=self.port, socket_connect_timeout=1).ping())
        except redis.RedisError:
            return False

    def start(self) -> PrivateRedis:
        redis_server = shutil.which("redis-server")
        if redis_server is None:
            raise RuntimeError("Redis is not installed: run `bash scripts/services.sh install`")
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.process = subprocess.Popen(  # noqa: S603
            [redis_server, "--bind", "127.0.0.1", "--port", str(self.port), "--save", "",
             "--appendonly", "no", "--dir", str(self.workdir), "--logfile", str(self.log_path)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        wait_until(self._ready, START_TIMEOUT, interval=0.1, message="Redis up")
        return self

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.kill()  # no persistence anyway: every key is lost
        self.process.wait(timeout=20)
