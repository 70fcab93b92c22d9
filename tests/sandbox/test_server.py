"""``python -m toopher_sandbox``: the standalone server and ``SandboxProcess``."""

from __future__ import annotations

import json
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
import requests
from requests_oauthlib import OAuth1

from tests.waiting import wait_until
from toopher_sandbox.testing import SandboxControl, SandboxError, SandboxProcess

KEYS = {"api_url", "key", "secret", "base_url", "phone_url", "control_url", "control_token"}


def test_json_line_and_quiet_serving():
    with SandboxProcess() as proc:
        assert set(proc.info) == KEYS
        base = proc.base_url
        assert re.fullmatch(r"http://127\.0\.0\.1:\d+", base)
        assert proc.api_url == f"{base}/v1"
        assert proc.phone_url == f"{base}/phone/"
        assert proc.control_url == f"{base}/control"
        auth = OAuth1(proc.key, proc.secret)
        response = requests.post(f"{proc.api_url}/users/create", data={"name": "a"}, auth=auth,
                                 timeout=10)
        assert response.status_code == 200
        requests.get(f"{proc.api_url}/users", params={"name": "a"}, timeout=10)  # a 401
        process = proc.process
    assert process.returncode == 0  # SIGTERM from SandboxProcess.stop() is a clean stop


def test_stdout_has_exactly_one_line():
    process = subprocess.Popen(
        [sys.executable, "-m", "toopher_sandbox", "--port", "0", "--json"],
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
    )
    try:
        info = json.loads(process.stdout.readline())
        control = SandboxControl(info["base_url"], token=info["control_token"])
        control.new_phone()
        requests.get(info["phone_url"], timeout=10)
        requests.get(f"{info['api_url']}/users", timeout=10)
    finally:
        process.send_signal(signal.SIGTERM)
        rest, _ = process.communicate(timeout=15)
    assert process.returncode == 0
    assert rest == ""


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_signals_stop_cleanly(sig):
    process = subprocess.Popen(
        [sys.executable, "-m", "toopher_sandbox", "--port", "0"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    banner = [process.stdout.readline()]
    while banner[-1] and not banner[-1].startswith("Press Ctrl-C"):
        banner.append(process.stdout.readline())
    text = "".join(banner)
    assert "API URL:" in text and "Consumer key:" in text and "Secret:" in text
    assert re.search(r"Control token: [\w-]{16,}", text)
    db = re.search(r"Database:\s+(\S+) \(temporary\)", text)
    assert db, text
    started = time.monotonic()
    process.send_signal(sig)
    process.wait(timeout=15)
    assert process.returncode == 0
    assert time.monotonic() - started < 10
    assert not Path(db.group(1)).exists()  # the temporary database is removed
    assert "Traceback" not in process.stderr.read()


def test_db_keeps_state_and_requester(tmp_path):
    db = str(tmp_path / "sandbox.sqlite3")
    with SandboxProcess(db=db) as first:
        auth = OAuth1(first.key, first.secret)
        user = requests.post(f"{first.api_url}/users/create", data={"name": "kept"}, auth=auth,
                             timeout=10).json()
        key, secret = first.key, first.secret
    with SandboxProcess(db=db) as second:
        assert (second.key, second.secret) == (key, secret)
        found = requests.get(f"{second.api_url}/users/{user['id']}",
                             auth=OAuth1(key, secret), timeout=10)
        assert found.status_code == 200 and found.json()["name"] == "kept"


def test_known_credentials():
    with SandboxProcess(extra_args=("--key", "my-key", "--secret", "my-secret")) as proc:
        assert (proc.key, proc.secret) == ("my-key", "my-secret")
        response = requests.post(f"{proc.api_url}/users/create", data={"name": "k"},
                                 auth=OAuth1("my-key", "my-secret"), timeout=10)
        assert response.status_code == 200


def test_busy_port_fails_with_message():
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        port = taken.getsockname()[1]
        result = subprocess.run(
            [sys.executable, "-m", "toopher_sandbox", "--port", str(port), "--json"],
            capture_output=True, text=True, timeout=60,
        )
        assert result.returncode == 2
        assert result.stdout == ""
        assert "cannot listen" in result.stderr
        with pytest.raises(SandboxError, match="cannot listen"):
            SandboxProcess(port=port, startup_timeout=30).start()


def test_serves_concurrently(toopher_sandbox_process, toopher_sandbox, toopher_requester):
    """A slow API call (latency fault) does not hold up other requests."""
    toopher_sandbox.set_faults(latency_ms=1500, key=toopher_requester["key"])
    auth = OAuth1(toopher_requester["key"], toopher_requester["secret"])
    slow_done = []

    def slow():
        requests.get(f"{toopher_requester['api_url']}/users", params={"name": "x"}, auth=auth,
                     timeout=10)
        slow_done.append(time.monotonic())

    thread = threading.Thread(target=slow)
    thread.start()
    time.sleep(0.2)
    started = time.monotonic()
    toopher_sandbox.new_phone()
    fast_done = time.monotonic()
    thread.join(10)
    assert fast_done - started < 1.0
    assert slow_done and slow_done[0] > fast_done


def test_parallel_api_calls_all_succeed(toopher_sandbox, toopher_requester):
    auth = OAuth1(toopher_requester["key"], toopher_requester["secret"])
    results = []

    def create(i):
        response = requests.post(f"{toopher_requester['api_url']}/users/create",
                                 data={"name": f"parallel {i}"}, auth=auth, timeout=30)
        results.append(response.status_code)

    threads = [threading.Thread(target=create, args=(i,)) for i in range(12)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert results == [200] * 12


def test_a_stalled_client_does_not_block_others(toopher_sandbox_process, toopher_sandbox):
    host, port = toopher_sandbox_process.base_url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=10) as stalled:
        stalled.sendall(b"POST /v1/users/create HTTP/1.1\r\nHost: x\r\n"
                        b"Content-Type: application/x-www-form-urlencoded\r\n"
                        b"Content-Length: 100\r\n\r\nname=")
        time.sleep(0.2)
        started = time.monotonic()
        toopher_sandbox.new_phone()
        assert time.monotonic() - started < 2.0


def test_the_standalone_phone_pages_follow_the_browsers_language(toopher_sandbox_process):
    """The phone simulator speaks the browser's language (Accept-Language)."""
    import requests

    german = requests.get(toopher_sandbox_process.phone_url, headers={"Accept-Language": "de"},
                          timeout=10)
    english = requests.get(toopher_sandbox_process.phone_url, headers={"Accept-Language": "en"},
                           timeout=10)
    assert german.status_code == english.status_code == 200
    assert "Telefone" in german.text and "Telefone" not in english.text


def test_the_standalone_server_serves_its_static_files_and_never_a_debug_page(
    toopher_sandbox_process,
):
    """DEBUG is off in the standalone server: its scripts are still served, and an
    unknown page or a broken request shows no settings, URL list or traceback."""
    base = toopher_sandbox_process.base_url
    script = requests.get(f"{base}/static/toopher_sandbox/phone.js", timeout=10)
    assert script.status_code == 200
    assert "javascript" in script.headers["Content-Type"]
    assert requests.get(f"{base}/static/toopher_sandbox/nope.js", timeout=10).status_code == 404
    unknown = requests.get(f"{base}/no-such-page", timeout=10)
    assert unknown.status_code == 404
    for debug_text in ("URLconf", "Traceback", "DEBUG = True", "SECRET_KEY"):
        assert debug_text not in unknown.text


def test_a_kept_database_is_synced_at_checkpoints_and_a_temporary_one_never():
    """``--db FILE`` keeps state: SQLite syncs it (WAL, synchronous=NORMAL). Without
    it the file is deleted at the end, so nothing is synced (synchronous=OFF)."""
    import sqlite3

    import django

    from toopher_sandbox.server import _sqlite_options

    if django.VERSION < (5, 1):
        pytest.skip("before Django 5.1 the pragmas are set by a connection signal")

    for durable, expected in ((True, 1), (False, 0)):
        options = _sqlite_options(durable=durable)
        db = sqlite3.connect(":memory:")
        db.executescript(options["init_command"])
        assert db.execute("PRAGMA synchronous").fetchone() == (expected,)
        db.close()


def test_a_kept_database_refuses_after_a_restart_a_nonce_used_before_it(tmp_path):
    """The standalone server keeps its nonces in memory and writes them in batches; a
    call answered just before it stops is in the file, so the next server (same
    ``--db``, same port) refuses its replay, and a new nonce still works there."""
    db = str(tmp_path / "sandbox.sqlite3")
    with SandboxProcess(db=db) as first:
        signer = OAuth1(first.key, first.secret)
        call = requests.Request("GET", f"{first.api_url}/users", params={"name": "x"},
                                auth=signer).prepare()
        with requests.Session() as session:
            assert session.send(call, timeout=10).status_code == 200
            assert session.send(call, timeout=10).status_code == 401  # from memory
        key, secret = first.key, first.secret
        port = int(first.base_url.rsplit(":", 1)[1])  # the signature covers host and port
    with SandboxProcess(db=db, port=port) as second, requests.Session() as session:
        replay = session.send(call, timeout=10)
        assert replay.status_code == 401, replay.text
        fresh = requests.get(f"{second.api_url}/users", params={"name": "x"},
                             auth=OAuth1(key, secret), timeout=10)
        assert fresh.status_code == 200, fresh.text


def test_the_nonces_reach_the_database_file_a_moment_after_the_calls(tmp_path):
    """What the benchmarks count the verified calls from: one row per call, written
    within a fraction of a second, while the server keeps running."""
    import sqlite3

    db = str(tmp_path / "sandbox.sqlite3")
    with SandboxProcess(db=db) as sandbox, requests.Session() as session:
        auth = OAuth1(sandbox.key, sandbox.secret)
        for _ in range(25):
            answer = session.get(f"{sandbox.api_url}/users", params={"name": "x"}, auth=auth,
                                 timeout=10)
            assert answer.status_code == 200

        def rows() -> int:
            reader = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=10)
            try:
                return reader.execute(
                    "SELECT COUNT(*) FROM toopher_server_nonce WHERE key = ?", (sandbox.key,)
                ).fetchone()[0]
            finally:
                reader.close()

        wait_until(lambda: rows() == 25, timeout=5, message=lambda: f"{rows()} rows, not 25")
