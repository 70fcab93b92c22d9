"""The console command ``toopher-server``: set up, run and look after the service.

``toopher-server init`` migrates the database, makes the keys the service needs (when
the environment has none) and a first requester; ``serve`` runs the production server;
every other word is a Django management command run with the service's settings
(``createrequester``, ``rotatesecret``, ``reencryptsecrets``, ``check --deploy``,
``migrate``, ``createsuperuser``, ``verifyaudit``, ...).

``DJANGO_SETTINGS_MODULE`` is ``toopher_server.settings`` unless it is set. ``--env-file
PATH`` (anywhere on the line, or ``TOOPHER_SERVER_ENV_FILE``) reads variables from a file
first; variables already in the environment win.
"""

from __future__ import annotations

import argparse
import os
import secrets
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

SETTINGS = "toopher_server.settings"
ENV_FILE_VAR = "TOOPHER_SERVER_ENV_FILE"
DEFAULT_BIND = "127.0.0.1:8000"
#: Seconds ``serve`` keeps an idle connection: longer than a proxy's idle timeout
#: (nginx's keepalive_timeout is 75 s), so the proxy, not the service, closes it first.
DEFAULT_KEEP_ALIVE = 75

USAGE = """\
usage: toopher-server [--env-file PATH] COMMAND [ARGS]

The Toopher service (API v1), run by a site's own operators.

commands:
  init [--name NAME] [--host HOST]
                            migrate; make SECRET_KEY, TOOPHER_SECRET_KEYS and
                            TOOPHER_AUDIT_KEY if the environment has none (printed
                            once, or written to --env-file with mode 0600); create a
                            first requester and print its key and secret once;
                            --host: the public name behind a TLS proxy
  makevapidkey [--force]    the VAPID key of Web Push (init makes it); --force
                            replaces it and orphans every push subscription
  createrequester --name NAME [--json]
                            a new requester; its key and secret, shown once
  rotatesecret KEY --overlap DURATION [--json]
                            a new secret; the old one stays valid for DURATION
                            (3600s, 90m, 1h, 1d)
  reencryptsecrets          re-encrypt every secret under the first key of
                            TOOPHER_SECRET_KEYS (after adding a new key first)
  serve [--bind ADDR] [--workers N] [--threads N]
                            the production server: gunicorn on Linux, waitress on
                            other systems (see toopher-server serve --help)
  check --deploy, migrate, createsuperuser, verifyaudit, collectstatic, ...
                            any Django management command, with the service's settings

--env-file PATH             read variables from PATH first (NAME=value lines); the
                            environment wins. Default: $TOOPHER_SERVER_ENV_FILE.
"""


def main(argv: list[str] | None = None) -> int:
    """Run ``toopher-server``; the exit status."""
    args = list(sys.argv[1:] if argv is None else argv)
    try:
        env_file, args = take_env_file(args)
    except ValueError as exc:
        print(f"toopher-server: {exc}", file=sys.stderr)
        return 2
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", SETTINGS)
    if not args or args[0] in {"-h", "--help", "help"}:
        sys.stdout.write(USAGE)
        return 0
    from django.core.exceptions import ImproperlyConfigured

    try:
        return _run(args[0], args[1:], env_file)
    except ImproperlyConfigured as exc:
        print(
            f"toopher-server: {exc}.\n`toopher-server init --env-file PATH` makes the keys; "
            "--env-file PATH reads them.",
            file=sys.stderr,
        )
        return 2


def _run(command: str, rest: list[str], env_file: Path | None) -> int:
    if command == "init":
        return init(rest, env_file)
    if env_file is not None:
        if not env_file.is_file():
            print(f"toopher-server: no env file at {env_file}", file=sys.stderr)
            return 2
        read_env_file(env_file)
    if command == "serve":
        return serve(rest)
    return manage([command, *rest])


def take_env_file(args: list[str]) -> tuple[Path | None, list[str]]:
    """``--env-file PATH`` (or ``--env-file=PATH``) taken out of ``args``."""
    rest: list[str] = []
    found = os.environ.get(ENV_FILE_VAR) or None
    items = iter(args)
    for item in items:
        if item == "--env-file":
            found = next(items, None)
            if not found:
                raise ValueError("--env-file needs a path")
        elif item.startswith("--env-file="):
            found = item.split("=", 1)[1]
        else:
            rest.append(item)
    return (Path(found).expanduser() if found else None), rest


def read_env_file(path: Path) -> dict[str, str]:
    """Put the ``NAME=value`` lines of ``path`` in ``os.environ`` (set ones win); them.

    Warns on stderr when others than its owner may read it (it holds the keys).
    """
    if path.stat().st_mode & 0o077:
        print(f"toopher-server: warning: {path} is readable by others; it holds the "
              f"service's keys: chmod 600 {path}", file=sys.stderr)
    values: dict[str, str] = {}
    for raw in path.read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if not line or line.startswith("#") or "=" not in line:
            continue
        name, value = line.removeprefix("export ").split("=", 1)
        name, value = name.strip(), value.strip()
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
            value = value[1:-1]
        values[name] = value
        os.environ.setdefault(name, value)
    return values


def manage(argv: list[str]) -> int:
    """A Django management command with the service's settings."""
    from django.core.management import execute_from_command_line

    execute_from_command_line(["toopher-server", *argv])
    return 0


# ---------------------------------------------------------------------------- init

def _generators() -> dict[str, Callable[[], str]]:
    """What ``init`` makes when the environment lacks it, and how."""
    from . import auditchain, secretbox

    return {
        "SECRET_KEY": lambda: secrets.token_urlsafe(50),
        "TOOPHER_SECRET_KEYS": secretbox.generate_key,
        "TOOPHER_AUDIT_KEY": auditchain.generate_key,
    }


def init(argv: list[str], env_file: Path | None) -> int:
    """``toopher-server init``: keys, database, a first requester."""
    parser = argparse.ArgumentParser(
        prog="toopher-server init",
        description="Migrate the database, make the keys the service needs when the "
        "environment has none, and create a first requester (its key and secret are "
        "printed once).",
    )
    parser.add_argument("--name", default="My site", help="the first requester's name")
    parser.add_argument(
        "--host",
        help="the service's public host name behind a TLS proxy (toopher.example.com): "
        "sets ALLOWED_HOSTS, CSRF_TRUSTED_ORIGINS and TOOPHER_SERVER_BEHIND_TLS_PROXY "
        "when the environment has none",
    )
    parser.add_argument(
        "--no-requester", action="store_true", help="do not create a first requester"
    )
    options = parser.parse_args(argv)
    if env_file is not None and env_file.is_file():
        read_env_file(env_file)
    generated = {
        name: make() for name, make in _generators().items() if not os.environ.get(name, "").strip()
    }
    settings = {
        name: value for name, value in _host_settings(options.host).items()
        if not os.environ.get(name, "").strip()
    }
    os.environ.update(generated)
    os.environ.update(settings)
    if env_file is not None and (generated or settings):
        write_env_file(env_file, {**generated, **settings})

    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", interactive=False, verbosity=0)
    out = sys.stdout
    out.write(f"Database ready: {_database_name()}\n")
    out.write(_vapid_text())
    new = None if options.no_requester else _first_requester(options.name)
    if generated:
        out.write(_keys_text(generated, env_file))
    if settings and env_file is None:
        out.write("Settings for the TLS proxy, for the environment too:\n")
        out.write("".join(f"  {name}={value}\n" for name, value in settings.items()))
    if new is not None:
        from .management.commands.createrequester import describe_new_requester

        out.write(describe_new_requester(*new, as_json=False) + "\n")
    elif not options.no_requester:
        out.write("Requesters exist already: `toopher-server createrequester --name NAME` "
                  "makes another.\n")
    out.write("Next: toopher-server serve (behind a TLS proxy), see docs/server.md.\n")
    return 0


def _vapid_text() -> str:
    """Make the VAPID key of Web Push if there is none (never replaced here)."""
    from .push.vapid import make_key

    _, new = make_key()
    if new:
        return ("Made the VAPID key of Web Push (sealed in the database under "
                "TOOPHER_SECRET_KEYS; see docs/push.md).\n")
    return "Kept the VAPID key of Web Push (makevapidkey --force replaces it).\n"


def _host_settings(host: str | None) -> dict[str, str]:
    """What ``init --host NAME`` sets: the host, its HTTPS origin, the TLS proxy flag."""
    if not host:
        return {}
    host = host.strip().lower()
    return {
        "ALLOWED_HOSTS": host,
        "CSRF_TRUSTED_ORIGINS": f"https://{host}",
        "TOOPHER_SERVER_BEHIND_TLS_PROXY": "true",
    }


def _database_name() -> str:
    from django.db import connection

    settings = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"SQLite file {settings['NAME']} (a one-machine trial; PostgreSQL in production)"
    return f"{connection.vendor} database {settings.get('NAME')} on {settings.get('HOST')}"


def _first_requester(name: str) -> tuple[str, str, str] | None:
    from .models import Requester
    from .requesters import create_requester

    if Requester.objects.exists():
        return None
    requester = create_requester(name)
    return requester.name, requester.key, requester.current_secret()


def _keys_text(generated: dict[str, str], env_file: Path | None) -> str:
    names = ", ".join(generated)
    if env_file is not None:
        return (
            f"Generated {names} into {env_file} (mode 0600).\n"
            "Give that file to the service on every instance (systemd EnvironmentFile=, "
            "or --env-file)\nand keep a copy apart from the database's backups: a backup "
            "together with its keys gives away every secret.\n"
        )
    lines = "".join(f"  {name}={value}\n" for name, value in generated.items())
    return (
        f"Generated keys, shown this once:\n{lines}"
        "Put them in the service's environment, the same on every instance (a systemd\n"
        "EnvironmentFile= readable by root only, or your secret store), and keep a copy\n"
        "apart from the database's backups: a backup together with its keys gives away\n"
        "every secret. Without TOOPHER_SECRET_KEYS the secrets made now do not decrypt.\n"
    )


def write_env_file(path: Path, values: dict[str, str]) -> None:
    """Add ``values`` to the env file ``path`` (made if missing), mode 0600, atomically."""
    path = path.expanduser()
    path.parent.mkdir(parents=True, exist_ok=True)
    kept = path.read_text(encoding="utf-8") if path.is_file() else ""
    if kept and not kept.endswith("\n"):
        kept += "\n"
    text = kept + "".join(f"{name}={value}\n" for name, value in values.items())
    descriptor, temporary = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        os.fchmod(descriptor, 0o600)
        with os.fdopen(descriptor, "w", encoding="utf-8") as out:
            out.write(text)
            out.flush()
            os.fsync(out.fileno())
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


# ---------------------------------------------------------------------------- serve


def _serve_parser() -> argparse.ArgumentParser:
    env = os.environ
    parser = argparse.ArgumentParser(
        prog="toopher-server serve",
        description="Run the service's production server. On Linux: gunicorn with gthread "
        "workers (a thread per request in flight, several processes). On other systems "
        "(macOS, Windows, where gunicorn does not run or is not supported): waitress, one "
        "process with threads. Put a TLS proxy in front (docs/server.md). The deploy "
        "checks run first; an error stops the start.",
    )
    parser.add_argument(
        "--bind", default=env.get("TOOPHER_SERVER_BIND", DEFAULT_BIND),
        help=f"address:port to listen on ($TOOPHER_SERVER_BIND, default {DEFAULT_BIND})",
    )
    parser.add_argument(
        "--workers", type=int, default=int(env.get("WEB_CONCURRENCY", "2")),
        help="gunicorn worker processes ($WEB_CONCURRENCY, default 2; about 2 per core)",
    )
    parser.add_argument(
        "--threads", type=int, default=int(env.get("TOOPHER_SERVER_THREADS", "8")),
        help="threads per process ($TOOPHER_SERVER_THREADS, default 8)",
    )
    parser.add_argument(
        "--timeout", type=int, default=60, help="seconds before a stuck worker is restarted"
    )
    parser.add_argument(
        "--keep-alive", type=int, default=DEFAULT_KEEP_ALIVE,
        help="seconds an idle connection is kept (longer than the proxy's idle timeout)",
    )
    parser.add_argument(
        "--server", choices=("auto", "gunicorn", "waitress"), default="auto",
        help="auto: gunicorn on Linux, waitress elsewhere",
    )
    parser.add_argument("--skip-checks", action="store_true", help="do not run the checks")
    return parser


def serve(argv: list[str]) -> int:
    """``toopher-server serve``: the checks, then gunicorn (Linux) or waitress."""
    options = _serve_parser().parse_args(argv)
    if options.workers < 1 or options.threads < 1:
        print("toopher-server serve: --workers and --threads are at least 1", file=sys.stderr)
        return 2
    import django

    django.setup()
    if not options.skip_checks:
        from django.core.management import call_command
        from django.core.management.base import SystemCheckError

        try:
            call_command("check", deploy=True, fail_level="ERROR", stdout=sys.stderr)
        except SystemCheckError as exc:
            print(f"toopher-server serve: not started.\n{exc}", file=sys.stderr)
            return 1
    from django.db import connections

    connections.close_all()  # no connection crosses a fork
    server = options.server
    if server == "auto":
        server = "gunicorn" if sys.platform.startswith("linux") else "waitress"
    print(f"toopher-server: serving on http://{options.bind} with {server}", file=sys.stderr)
    if server == "gunicorn":
        return _gunicorn(options)
    return _waitress(options)


def _gunicorn(options: argparse.Namespace) -> int:
    from gunicorn.app.base import BaseApplication

    config: dict[str, Any] = {
        "bind": [options.bind],
        "workers": options.workers,
        "threads": options.threads,
        "worker_class": "gthread",
        "timeout": options.timeout,
        "keepalive": options.keep_alive,
        "accesslog": "-",
        "errorlog": "-",
        # Several gunicorns on one host would fight over one default control socket.
        "control_socket_disable": True,
    }

    class Server(BaseApplication):
        def load_config(self) -> None:
            for name, value in config.items():
                if name in self.cfg.settings:
                    self.cfg.set(name, value)

        def load(self) -> Any:
            from .wsgi import application

            return application

    Server().run()
    return 0


def _waitress(options: argparse.Namespace) -> int:
    import waitress

    from .wsgi import application

    waitress.serve(
        application,
        listen=options.bind,
        threads=options.threads,
        channel_timeout=options.keep_alive,
        ident="toopher-server",
    )
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
