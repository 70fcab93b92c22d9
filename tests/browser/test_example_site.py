"""The example project's set-up, without a browser: settings, the demo command, credentials.

Each test runs ``manage.py`` in a subprocess with its own environment and SQLite file,
so the example settings are read exactly as ``make demo`` reads them.
"""

from __future__ import annotations

import sqlite3
import subprocess
import sys
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from .server import MANAGE, PROJECT, ExampleServer

pytestmark = pytest.mark.slow

sys.path.insert(0, str(PROJECT))
from example_project.sandbox_credentials import derive_credentials  # noqa: E402


def test_credentials_are_derived_deterministically_from_the_secret_key() -> None:
    key, secret = derive_credentials("one secret key")
    assert (key, secret) == derive_credentials("one secret key")
    assert len(key) == 20 and len(secret) == 40
    assert key not in secret
    other_key, other_secret = derive_credentials("another secret key")
    assert other_key != key and other_secret != secret
    with pytest.raises(ValueError, match="SECRET_KEY is empty"):
        derive_credentials("")


def test_demo_command_sets_up_everything_and_is_idempotent(tmp_path: Path) -> None:
    server = ExampleServer(tmp_path)
    first = server.manage("demo", "--port", str(server.port), "--no-serve")
    base = f"http://127.0.0.1:{server.port}"
    assert f"{base}/" in first
    assert f"{base}/sandbox/phone/" in first
    assert f"{base}/sandbox/app/" in first
    assert f"{base}/admin/" in first
    assert "demo / toopher-demo" in first
    assert f"{base}/sandbox/v1" in first

    # Again, on the same database: no error, the same single user.
    server.manage("demo", "--port", str(server.port), "--no-serve")
    out = server.manage(
        "shell",
        "-v",
        "0",
        "-c",
        "from django.contrib.auth import get_user_model as g; "
        "u = g().objects.get(username='demo'); "
        "print(g().objects.filter(username='demo').count(), u.is_staff, u.is_superuser, "
        "u.check_password('toopher-demo'))",
    )
    assert out.split() == ["1", "True", "True", "True"]


def test_demo_command_points_the_api_at_the_port_it_serves(tmp_path: Path) -> None:
    server = ExampleServer(tmp_path)
    out = server.manage("demo", "--port", "8123", "--no-serve")
    assert "http://127.0.0.1:8123/sandbox/v1" in out


def test_demo_command_rejects_a_bad_port(tmp_path: Path) -> None:
    server = ExampleServer(tmp_path)
    with pytest.raises(RuntimeError, match="--port must be between 1 and 65535"):
        server.manage("demo", "--port", "70000", "--no-serve")
    assert not (tmp_path / "db.sqlite3").exists()


def _check(tmp_path: Path, **env: str) -> subprocess.CompletedProcess[str]:
    server = ExampleServer(tmp_path, **env)
    return subprocess.run(
        [sys.executable, str(MANAGE), "check"],
        cwd=tmp_path,
        env=server.env,
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.mark.parametrize(
    "env",
    [
        {},
        {"TOOPHER_MODE": "zero_storage"},
        {
            "TOOPHER_API_URL": "http://127.0.0.1:9/v1",
            "TOOPHER_CONSUMER_KEY": "k",
            "TOOPHER_CONSUMER_SECRET": "s",
        },
    ],
)
def test_system_checks_pass(tmp_path: Path, env: dict[str, str]) -> None:
    proc = _check(tmp_path, **env)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "System check identified no issues" in proc.stdout


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"TOOPHER_MODE": "sometimes"}, "TOOPHER_MODE must be 'stored' or 'zero_storage'"),
        ({"TOOPHER_FAIL_MODE": "ajar"}, "TOOPHER_FAIL_MODE must be 'closed' or 'open'"),
        ({"DEBUG": "false", "SECRET_KEY": ""}, "Set SECRET_KEY in the environment"),
    ],
)
def test_bad_settings_are_refused_clearly(
    tmp_path: Path, env: dict[str, str], message: str
) -> None:
    # Import the settings module itself: `manage.py` may report a broken settings module
    # through whichever system check happens to run first.
    server = ExampleServer(tmp_path, **env)
    proc = subprocess.run(
        [sys.executable, "-c", "import example_project.settings"],
        cwd=PROJECT,
        env=server.env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode != 0
    assert f"ImproperlyConfigured: {message}" in proc.stderr


def test_with_a_configured_service_the_sandbox_is_not_mounted(tmp_path: Path) -> None:
    server = ExampleServer(
        tmp_path,
        TOOPHER_API_URL="http://127.0.0.1:9/v1",
        TOOPHER_CONSUMER_KEY="k",
        TOOPHER_CONSUMER_SECRET="s",
    )
    out = server.manage(
        "shell",
        "-v",
        "0",
        "-c",
        "from django.conf import settings; from django.urls import resolve, Resolver404\n"
        "try:\n    resolve('/sandbox/phone/'); print('mounted')\n"
        "except Resolver404:\n    print('absent')\n"
        "print('toopher_sandbox' in settings.INSTALLED_APPS, settings.TOOPHER['API_URL'])",
    )
    assert out.split() == ["absent", "False", "http://127.0.0.1:9/v1"]


def _tables(path: Path) -> set[str]:
    with sqlite3.connect(path) as db:
        return {row[0] for row in db.execute("SELECT name FROM sqlite_master WHERE type='table'")}


def test_the_mounted_sandbox_keeps_its_tables_in_a_database_of_its_own(tmp_path: Path) -> None:
    server = ExampleServer(tmp_path)
    server.manage("demo", "--port", str(server.port), "--no-serve")
    site, sandbox = _tables(tmp_path / "db.sqlite3"), _tables(tmp_path / "sandbox.sqlite3")
    assert "django_toopher_toopherprofile" in site and "auth_user" in site
    assert any(name.startswith("toopher_server_") for name in sandbox)
    assert any(name.startswith("toopher_sandbox_") for name in sandbox)
    assert not any(name.startswith(("toopher_server_", "toopher_sandbox_")) for name in site)
    assert not any(name.startswith(("auth_", "django_toopher_")) for name in sandbox)
    # The demo's requester was created where the sandbox reads it.
    with sqlite3.connect(tmp_path / "sandbox.sqlite3") as db:
        assert db.execute("SELECT count(*) FROM toopher_server_requester").fetchone() == (1,)
    out = server.manage(
        "shell", "-v", "0", "-c",
        "from django.db import router; from toopher_server.models import Requester; "
        "from django_toopher.models import Terminal; "
        "print(router.db_for_write(Requester), router.db_for_write(Terminal))",
    )
    assert out.split() == ["sandbox", "default"]


def test_error_pages_of_the_example_hide_the_apps_cookies(stored_server: ExampleServer) -> None:
    """DEBUG is on in the demo: a 400 for an oversized POST shows Django's error page,
    which lists the cookies. The terminal, hint and session cookies show as stars."""
    secrets = {
        "toopher_terminal": "terminal-id-0123456789abcdefghijklmnopqrstuv:signature",
        "toopher_pending": "1-hint-value",
        "sessionid": "session-key-abcdefghijklmnopqrstuvwxyz0123",
    }
    # A well-formed CSRF cookie, so that Django's CSRF check reads the (too big) body.
    # (Its value is also a local variable of that check's frame, which the page shows.)
    cookie = "; ".join(f"{name}={value}" for name, value in secrets.items())
    cookie += "; csrftoken=AbCdEfGhIjKlMnOpQrStUvWxYz012345"
    body = b"x=" + b"a" * (3 * 1024 * 1024)  # above DATA_UPLOAD_MAX_MEMORY_SIZE
    request = urllib.request.Request(  # noqa: S310 - loopback test server
        stored_server.url("/accounts/login/"), data=body, method="POST",
        headers={"Cookie": cookie, "Content-Type": "application/x-www-form-urlencoded"},
    )
    with pytest.raises(urllib.error.HTTPError) as caught:
        urllib.request.urlopen(request, timeout=30)  # noqa: S310
    page = caught.value.read().decode("utf-8", "replace")
    assert caught.value.code == 400
    assert "toopher_terminal" in page  # the error page does list the cookies
    for value in secrets.values():
        assert value not in page
