"""The standalone sandbox: ``python -m toopher_sandbox [--port 8765] [--json]``.

It configures Django itself (its own SQLite file, DEBUG off, the sandbox mounted at the
root), migrates, makes sure a requester exists and serves it with waitress (see
``transport``) on 127.0.0.1. It prints the requester's key and secret and the control
token of this instance.
With ``--json`` it prints exactly one JSON line on stdout, then serves quietly.
"""

from __future__ import annotations

import argparse
import importlib
import json
import re
import secrets
import shutil
import signal
import sqlite3
import sys
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

from toopher_server.tokens import token

if TYPE_CHECKING:
    from toopher_server.models import Requester

DEFAULT_PORT = 8765
DEFAULT_HOST = "127.0.0.1"
DEFAULT_REQUEST_EXPIRY = 300
CONTROL_TOKEN_SHAPE = re.compile(r"^[A-Za-z0-9_-]{16,200}$")
#: ``TOOPHER_SERVER_RATE_LIMITS`` of the standalone server (``toopher_server.ratelimit``):
#: generous, because test suites and benchmarks log one user in many times a minute.
RATE_LIMITS = {
    kind: {"user": (100_000, 60), "requester": (1_000_000, 60)}
    for kind in ("push", "code", "pairing")
}
#: The modules of the ``sandbox`` extra the standalone server needs, and how to get them.
EXTRA_MODULES = ("segno", "waitress")
INSTALL_EXTRA = 'pip install "django-toopher[sandbox]"'


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m toopher_sandbox",
        description="Run a local Toopher service (API v1, phone simulator, control API).",
    )
    parser.add_argument("--port", type=int, default=DEFAULT_PORT, help="0 picks a free port")
    parser.add_argument("--host", default=DEFAULT_HOST, help="interface to listen on")
    parser.add_argument("--db", help="SQLite file to keep state in (default: a temporary file)")
    parser.add_argument("--json", action="store_true", help="print one JSON line, then serve")
    parser.add_argument("--key", help="consumer key of the requester to create or update")
    parser.add_argument("--secret", help="consumer secret of that requester")
    parser.add_argument("--name", default="Sandbox requester", help="the requester's name")
    parser.add_argument(
        "--control-token", help="token the control API requires (default: a random one)"
    )
    parser.add_argument(
        "--request-expiry",
        type=int,
        default=DEFAULT_REQUEST_EXPIRY,
        help=f"seconds a pending authentication request lives (default {DEFAULT_REQUEST_EXPIRY})",
    )
    args = parser.parse_args(argv)
    if not 0 <= args.port <= 65535:
        parser.error("--port must be between 0 and 65535")
    if bool(args.key) != bool(args.secret):
        parser.error("--key and --secret go together")
    if args.request_expiry < 1:
        parser.error("--request-expiry must be at least 1 second")
    if args.control_token is not None and not CONTROL_TOKEN_SHAPE.match(args.control_token):
        parser.error("--control-token is 16 to 200 letters, digits, '-' or '_'")
    args.control_token = args.control_token or token(24)
    return args


def configure(db_path: Path, args: argparse.Namespace) -> None:
    """Configure Django for the standalone sandbox."""
    from django.conf import settings

    host = args.host
    loopback = host in {"127.0.0.1", "localhost", "::1"}
    settings.configure(
        # Off: a debug page would show this instance's settings to whoever reaches it
        # (--host may open it to a network), and DEBUG's query log would cost every
        # API call an extra SQLite statement per query.
        DEBUG=False,
        # W001 warns a project that installs the sandbox with DEBUG off; here the
        # sandbox is the whole server, which is exactly what it is for.
        SILENCED_SYSTEM_CHECKS=["toopher_sandbox.W001"],
        SECRET_KEY=secrets.token_urlsafe(50),
        ALLOWED_HOSTS=["127.0.0.1", "localhost", "[::1]"] if loopback else ["*"],
        ROOT_URLCONF="toopher_sandbox.standalone_urls",
        INSTALLED_APPS=["django.contrib.staticfiles", "toopher_server", "toopher_sandbox"],
        TOOPHER_SANDBOX_CONTROL_TOKEN=args.control_token,
        TOOPHER_SERVER_SECRET_KEYS=sandbox_secret_keys(db_path, durable=bool(args.db)),
        TOOPHER_SANDBOX_REQUEST_EXPIRY=args.request_expiry,
        TOOPHER_SERVER_RATE_LIMITS=RATE_LIMITS,
        MIDDLEWARE=[
            "toopher_sandbox.middleware.JsonApiErrorsMiddleware",
            "django.middleware.security.SecurityMiddleware",
            # The phone pages follow the browser's language (Accept-Language).
            "django.middleware.locale.LocaleMiddleware",
            "django.middleware.common.CommonMiddleware",
            "django.middleware.csrf.CsrfViewMiddleware",
            "django.middleware.clickjacking.XFrameOptionsMiddleware",
        ],
        DATABASES={
            "default": {
                "ENGINE": "django.db.backends.sqlite3",
                "NAME": str(db_path),
                # One connection, kept (shared by the server's threads, see _Serialized).
                "CONN_MAX_AGE": None,
                "OPTIONS": _sqlite_options(durable=bool(args.db)),
            }
        },
        TEMPLATES=[
            {
                "BACKEND": "django.template.backends.django.DjangoTemplates",
                "APP_DIRS": True,
                "OPTIONS": {"context_processors": ["django.template.context_processors.request"]},
            }
        ],
        STATIC_URL="/static/",
        LANGUAGES=[("en", "English"), ("de", "Deutsch"), ("es", "Español"),
                   ("fr", "Français"), ("ja", "日本語"), ("pt-br", "Português (Brasil)")],
        USE_TZ=True,
        TIME_ZONE="UTC",
        DEFAULT_AUTO_FIELD="django.db.models.BigAutoField",
        WSGI_APPLICATION=None,
        LOGGING={
            "version": 1,
            "disable_existing_loggers": False,
            "handlers": {"stderr": {"class": "logging.StreamHandler", "stream": sys.stderr}},
            "loggers": {
                "django": {"handlers": ["stderr"], "level": "WARNING"},
                "django.server": {"handlers": ["stderr"], "level": "ERROR", "propagate": False},
                "django.request": {"handlers": ["stderr"], "level": "ERROR", "propagate": False},
            },
        },
    )


def sandbox_secret_keys(db_path: Path, *, durable: bool) -> str | None:
    """The key ring that encrypts the requesters' secrets in this sandbox's file.

    ``TOOPHER_SECRET_KEYS`` from the environment when set (None: the service reads it).
    Otherwise a kept ``--db`` file gets a key file beside it (``<db>.key``, mode 0600),
    made on the first run, so the requester kept in the file decrypts on the next runs
    (this instance's ``SECRET_KEY`` is new at every start); a temporary file gets a
    key that lives as long as the process.
    """
    import os

    from toopher_server.secretbox import ENV_VAR, generate_key

    if os.environ.get(ENV_VAR, "").strip():
        return None
    if not durable:
        return generate_key()
    key_file = db_path.with_name(db_path.name + ".key")
    try:
        descriptor = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        pass  # made by an earlier run
    else:
        with os.fdopen(descriptor, "w") as out:
            out.write(generate_key() + "\n")
    return key_file.read_text().strip()


def _requester(args: argparse.Namespace, persistent: bool) -> Requester:
    from toopher_server.models import Requester
    from toopher_server.requesters import create_requester, ensure_requester

    if args.key:
        return ensure_requester(args.key, args.secret, args.name)
    if persistent:
        existing = Requester.objects.filter(name=args.name).order_by("created").first()
        if existing is not None:
            return _readable(existing)
    return create_requester(args.name)


def _readable(requester: Requester) -> Requester:
    """The kept requester, with a new secret if its key file was lost (said on stderr)."""
    from datetime import timedelta

    from toopher_server.requesters import rotate_secret
    from toopher_server.secretbox import DecryptError

    try:
        requester.current_secret()
    except DecryptError:
        print("toopher_sandbox: the requester's secret does not decrypt (its key file is "
              "gone?): it gets a new secret.", file=sys.stderr)
        requester, _ = rotate_secret(requester.key, timedelta(0))
    return requester


def facts(base_url: str, requester: Requester, control_token: str = "") -> dict[str, Any]:
    """What the sandbox prints: where it is, the requester's credentials, the control token."""
    return {
        "api_url": f"{base_url}/v1",
        "key": requester.key,
        "secret": requester.current_secret(),
        "base_url": base_url,
        "phone_url": f"{base_url}/phone/",
        "control_url": f"{base_url}/control",
        "control_token": control_token,
    }


def _url_host(host: str) -> str:
    if host in {"", "0.0.0.0"}:  # noqa: S104 (a display name, not a bind)
        return "127.0.0.1"
    if host == "::":
        return "[::1]"
    return f"[{host}]" if ":" in host else host


def _announce(
    args: argparse.Namespace, port: int, requester: Requester, db_path: Path, persistent: bool
) -> None:
    info = facts(f"http://{_url_host(args.host)}:{port}", requester, args.control_token)
    if args.json:
        sys.stdout.write(json.dumps(info) + "\n")
    else:
        sys.stdout.write(
            "Toopher sandbox is running.\n"
            f"  API URL:      {info['api_url']}\n"
            f"  Consumer key: {info['key']}\n"
            f"  Secret:       {info['secret']}\n"
            f"  Phone:        {info['phone_url']}\n"
            f"  Control API:  {info['control_url']}\n"
            f"  Control token: {info['control_token']} (header X-Sandbox-Token)\n"
            f"  Requests expire after {args.request_expiry} s.\n"
            f"  Database:     {db_path}{'' if persistent else ' (temporary)'}\n"
            "Press Ctrl-C to stop.\n"
        )
    sys.stdout.flush()


def _interrupt(signum: int, frame: Any) -> None:
    raise KeyboardInterrupt


def missing_extra() -> list[str]:
    """The modules of :data:`EXTRA_MODULES` that cannot be imported."""
    missing = []
    for name in EXTRA_MODULES:
        try:
            importlib.import_module(name)
        except ImportError:
            missing.append(name)
    return missing


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    missing = missing_extra()
    if missing:
        print(
            f"toopher_sandbox: the standalone sandbox needs the 'sandbox' extra "
            f"({', '.join(missing)} missing): {INSTALL_EXTRA}",
            file=sys.stderr,
        )
        return 2
    tmpdir = None
    if args.db:
        db_path = Path(args.db).expanduser().resolve()
        db_path.parent.mkdir(parents=True, exist_ok=True)
    else:
        tmpdir = tempfile.mkdtemp(prefix="toopher-sandbox-")
        db_path = Path(tmpdir) / "sandbox.sqlite3"
    signal.signal(signal.SIGTERM, _interrupt)
    signal.signal(signal.SIGINT, _interrupt)
    try:
        return _serve(args, db_path, persistent=bool(args.db))
    except KeyboardInterrupt:  # Ctrl-C or SIGTERM before serving: a clean stop
        return 0
    finally:
        if tmpdir:
            shutil.rmtree(tmpdir, ignore_errors=True)


def _serve(args: argparse.Namespace, db_path: Path, persistent: bool) -> int:
    configure(db_path, args)
    import django

    django.setup()
    from django.core.management import call_command
    from django.core.wsgi import get_wsgi_application
    from django.db import connections

    from .speedups import NonceWriter, SerializedApp, keep_nonces_in_memory
    from .transport import make_server

    call_command("migrate", verbosity=0, interactive=False)
    requester = _requester(args, persistent)
    connections.close_all()
    # The request threads share one Django connection (see ``SerializedApp``), which may
    # be closed and opened again (after a database error). Keeping one more connection
    # open for the server's life stops SQLite from checkpointing and deleting the WAL
    # (with fsyncs) every time the last connection closes: requests stay fast.
    keeper = sqlite3.connect(db_path)
    # fetchall() ends the statement: an open read would pin the WAL and make every commit
    # try (and fail) to checkpoint it, with an fsync each time.
    keeper.execute("SELECT COUNT(*) FROM sqlite_master").fetchall()  # attach to the WAL
    keep_nonces_in_memory()  # the only process on this file
    app = SerializedApp(get_wsgi_application())
    try:
        server = make_server(app, args.host, args.port)
    except OSError as exc:
        print(f"toopher_sandbox: cannot listen on {args.host}:{args.port}: {exc}", file=sys.stderr)
        keeper.close()
        return 2
    writer = NonceWriter(app)
    writer.start()
    try:
        _announce(args, int(server.effective_port), requester, db_path, persistent)
        server.run()  # returns on KeyboardInterrupt (Ctrl-C, SIGTERM)
    finally:
        server.close()
        writer.stop()
        keeper.close()
    return 0


def _sqlite_options(*, durable: bool) -> dict[str, Any]:
    """SQLite options for the sandbox's own file: WAL, and IMMEDIATE transactions.

    ``durable``: the file is kept (``--db``), so SQLite syncs it to disk at each WAL
    checkpoint (``synchronous=NORMAL``). A temporary file, deleted when the server
    stops, needs no syncs at all (``synchronous=OFF``): a crash of this process loses
    nothing it would have kept, and the checkpoints' syncs, which cost each signed
    call about a tenth of a millisecond (every call writes its nonce), are saved.

    ``transaction_mode`` and ``init_command`` exist from Django 5.1; on older Django the
    pragmas are set from the ``connection_created`` signal instead.
    """
    import django

    synchronous = "NORMAL" if durable else "OFF"
    if django.VERSION >= (5, 1):
        return {
            "timeout": 30,
            "transaction_mode": "IMMEDIATE",
            "init_command": f"PRAGMA journal_mode=WAL; PRAGMA synchronous={synchronous};",
        }
    from django.db.backends.signals import connection_created

    def set_pragmas(sender: Any, connection: Any, **kwargs: Any) -> None:  # pragma: no cover
        if connection.vendor == "sqlite":
            with connection.cursor() as cursor:
                cursor.execute("PRAGMA journal_mode=WAL")
                cursor.execute(f"PRAGMA synchronous={synchronous}")

    connection_created.connect(set_pragmas, weak=False)
    return {"timeout": 30}
