"""``toopher-server``: init, createrequester, rotatesecret, reencryptsecrets, the checks,
serve's refusal without keys, the env file; and the production settings it loads."""

from __future__ import annotations

import json
import os
import re
import sqlite3
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from toopher_server.cli import read_env_file, take_env_file
from toopher_server.logs import redact
from toopher_server.secretbox import generate_key

pytestmark = pytest.mark.slow

#: Variables of the surrounding run that must not leak into the command's environment.
DROPPED = (
    "DJANGO_SETTINGS_MODULE", "DATABASE_URL", "CACHE_URL", "SECRET_KEY", "TOOPHER_SECRET_KEYS",
    "TOOPHER_AUDIT_KEY", "TOOPHER_SERVER_ENV_FILE", "ALLOWED_HOSTS", "TOOPHER_SERVER_DEBUG",
)


def run(tmp_path: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    """``toopher-server ARGS`` in ``tmp_path`` with a SQLite file there."""
    environment = {k: v for k, v in os.environ.items() if k not in DROPPED}
    environment.update(
        HOME=str(tmp_path), DATABASE_URL=f"sqlite:///{tmp_path / 'db.sqlite3'}", **env
    )
    return subprocess.run(
        [sys.executable, "-m", "toopher_server.cli", *args], cwd=tmp_path,
        capture_output=True, text=True, timeout=120, env=environment,
    )


def credentials(text: str) -> tuple[str, str]:
    key = re.search(r"TOOPHER_CONSUMER_KEY=(\S+)", text)
    secret = re.search(r"TOOPHER_CONSUMER_SECRET=(\S+)", text)
    assert key and secret, text
    return key.group(1), secret.group(1)


def test_init_writes_the_keys_to_a_private_env_file_and_shows_the_secret_once(
    tmp_path: Path,
) -> None:
    env_file = tmp_path / "conf" / "server.env"
    first = run(tmp_path, "init", "--env-file", str(env_file), "--name", "Example site")
    assert first.returncode == 0, first.stderr
    assert stat.S_IMODE(env_file.stat().st_mode) == 0o600
    text = env_file.read_text()
    for name in ("SECRET_KEY", "TOOPHER_SECRET_KEYS", "TOOPHER_AUDIT_KEY"):
        assert re.search(rf"^{name}=\S{{40,}}$", text, re.M), name
        value = re.search(rf"^{name}=(\S+)$", text, re.M).group(1)  # type: ignore[union-attr]
        assert value not in first.stdout  # written, not printed
    key, secret = credentials(first.stdout)
    assert secret not in text
    assert "apart from the database's backups" in first.stdout

    again = run(tmp_path, "init", "--env-file", str(env_file))
    assert again.returncode == 0, again.stderr
    assert env_file.read_text() == text  # nothing new generated
    assert "Requesters exist already" in again.stdout and secret not in again.stdout

    dump = "\n".join(sqlite3.connect(tmp_path / "db.sqlite3").iterdump())
    assert key in dump and secret not in dump


def test_init_without_an_env_file_prints_the_keys_once(tmp_path: Path) -> None:
    done = run(tmp_path, "init")
    assert done.returncode == 0, done.stderr
    assert re.search(r"TOOPHER_SECRET_KEYS=\S{43}", done.stdout)
    assert re.search(r"TOOPHER_AUDIT_KEY=\S{43}", done.stdout)
    assert "shown this once" in done.stdout
    assert (tmp_path / "db.sqlite3").exists()


def test_createrequester_rotatesecret_and_reencryptsecrets(tmp_path: Path) -> None:
    old_key, new_key = generate_key(), generate_key()
    env = {"SECRET_KEY": "k" * 50, "TOOPHER_SECRET_KEYS": old_key}
    assert run(tmp_path, "init", "--no-requester", **env).returncode == 0
    made = run(tmp_path, "createrequester", "--name", "Shop", "--json", **env)
    assert made.returncode == 0, made.stderr
    created = json.loads(made.stdout)
    assert created["name"] == "Shop" and len(created["secret"]) == 40

    rotated = run(tmp_path, "rotatesecret", created["key"], "--overlap", "1h", "--json", **env)
    assert rotated.returncode == 0, rotated.stderr
    answer = json.loads(rotated.stdout)
    assert answer["secret"] != created["secret"] and answer["previous_valid_until"]

    bad = run(tmp_path, "rotatesecret", created["key"], "--overlap", "forever", **env)
    assert bad.returncode != 0 and "not a duration" in bad.stderr
    unknown = run(tmp_path, "rotatesecret", "no-such-key", "--overlap", "1h", **env)
    assert unknown.returncode != 0 and "no requester" in unknown.stderr

    both = {**env, "TOOPHER_SECRET_KEYS": f"{new_key},{old_key}"}
    moved = run(tmp_path, "reencryptsecrets", **both)
    assert moved.returncode == 0 and moved.stdout.startswith("1 requester(s)"), moved.stderr
    # The old key gone, both secrets of the overlap still decrypt.
    script = (
        "from toopher_server.models import Requester;"
        "print(Requester.objects.get().secrets_valid_now())"
    )
    shown = run(tmp_path, "shell", "-c", script, **{**env, "TOOPHER_SECRET_KEYS": new_key})
    assert shown.returncode == 0, shown.stderr
    assert answer["secret"] in shown.stdout and created["secret"] in shown.stdout


def test_check_deploy_and_serve_refuse_a_service_without_its_own_keys(tmp_path: Path) -> None:
    no_keys = {"SECRET_KEY": "k" * 50}
    check = run(tmp_path, "check", "--deploy", **no_keys)
    assert check.returncode != 0 and "toopher_server.E001" in check.stderr
    serve = run(tmp_path, "serve", "--bind", "127.0.0.1:9", **no_keys)
    assert serve.returncode == 1 and "not started" in serve.stderr
    half = run(tmp_path, "check", "--deploy", **no_keys, TOOPHER_SECRET_KEYS=generate_key())
    assert half.returncode != 0 and "toopher_server.E003" in half.stderr  # no audit key
    keyed = run(tmp_path, "check", "--deploy", **no_keys, TOOPHER_SECRET_KEYS=generate_key(),
                TOOPHER_AUDIT_KEY=generate_key())
    assert keyed.returncode == 0, keyed.stderr
    missing = run(tmp_path, "check")
    assert missing.returncode == 2 and "SECRET_KEY" in missing.stderr
    assert "Traceback" not in missing.stderr


def test_help_names_the_commands_and_the_servers(tmp_path: Path) -> None:
    done = run(tmp_path, "--help")
    assert done.returncode == 0 and "rotatesecret" in done.stdout
    serve = run(tmp_path, "serve", "--help")
    assert "gunicorn on Linux" in serve.stdout and "waitress" in serve.stdout


SETTINGS_SCRIPT = """
import json, django
django.setup()
from django.conf import settings as s
import toopher_server.asgi, toopher_server.wsgi  # both entry points load
print(json.dumps({"debug": s.DEBUG, "proxy": s.SECURE_PROXY_SSL_HEADER,
                  "redirect": s.SECURE_SSL_REDIRECT, "hosts": s.ALLOWED_HOSTS,
                  "engine": s.DATABASES["default"]["ENGINE"],
                  "cache": s.CACHES["default"]["BACKEND"],
                  "first": s.MIDDLEWARE[0], "urls": s.ROOT_URLCONF,
                  "cookies": [s.SESSION_COOKIE_SECURE, s.CSRF_COOKIE_SECURE]}))
"""


def _settings(tmp_path: Path, **env: str) -> dict:
    done = run(tmp_path, "shell", "-c", SETTINGS_SCRIPT, SECRET_KEY="k" * 50, **env)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_production_settings_from_the_environment(tmp_path: Path) -> None:
    plain = _settings(tmp_path, DEBUG="true")  # a site's DEBUG does not turn it on
    assert plain["debug"] is False and plain["proxy"] is None and plain["redirect"] is False
    assert plain["engine"].endswith("sqlite3") and plain["cookies"] == [True, True]
    assert plain["first"] == "toopher_server.middleware.JsonApiErrorsMiddleware"
    assert plain["urls"] == "toopher_server.project_urls"
    proxied = _settings(
        tmp_path, TOOPHER_SERVER_BEHIND_TLS_PROXY="true", ALLOWED_HOSTS="toopher.example.com",
        CACHE_URL="redis://127.0.0.1:6379/0", TOOPHER_SERVER_DEBUG="true",
    )
    assert proxied["proxy"] == ["HTTP_X_FORWARDED_PROTO", "https"] and proxied["redirect"]
    assert proxied["hosts"] == ["toopher.example.com"] and proxied["debug"] is True
    assert proxied["cache"].endswith("RedisCache")


def test_env_files_and_the_log_filter(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert take_env_file(["init", "--env-file", "a.env"]) == (Path("a.env"), ["init"])
    assert take_env_file(["--env-file=b.env", "serve"]) == (Path("b.env"), ["serve"])
    with pytest.raises(ValueError):
        take_env_file(["init", "--env-file"])
    path = tmp_path / "x.env"
    path.write_text("# comment\nexport TOOPHER_TEST_A='one'\nTOOPHER_TEST_B=two=2\n")
    path.chmod(0o644)
    try:
        assert read_env_file(path) == {"TOOPHER_TEST_A": "one", "TOOPHER_TEST_B": "two=2"}
        assert "readable by others" in capsys.readouterr().err
        path.chmod(0o600)
        read_env_file(path)
        assert "readable by others" not in capsys.readouterr().err
        assert os.environ["TOOPHER_TEST_A"] == "one"
    finally:
        os.environ.pop("TOOPHER_TEST_A", None)
        os.environ.pop("TOOPHER_TEST_B", None)
    line = 'GET /v1/x?oauth_signature=abc&name=ann "secret": "s3" TOOPHER_SECRET_KEYS=k1,k2'
    cleaned = redact(line)
    for value in ("abc", "s3", "k1", "k2"):
        assert value not in cleaned.replace("name=ann", "")
    assert "name=ann" in cleaned
