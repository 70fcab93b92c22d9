"""``python -m toopher.demo``: the interactive walk-through, driven by scripted input."""

from __future__ import annotations

import io
import subprocess
import sys
from urllib.parse import parse_qsl

import pytest

from toopher import demo

from .conftest import API_URL, auth_json, pairing_json, terminal_json

PID = pairing_json()["id"]
AID = auth_json()["id"]
INITIATE = f"{API_URL}/authentication_requests/initiate"


def run(answers, argv=None):
    script = iter(answers)
    prompts: list[str] = []

    def fake_input(prompt: str) -> str:
        prompts.append(prompt)
        try:
            return next(script)
        except StopIteration:
            raise EOFError from None

    out = io.StringIO()
    code = demo.main(
        argv if argv is not None else ["--api-url", API_URL, "--key", "k", "--secret", "s",
                                       "--user-name", "jdoe", "--poll-timeout", "5"],
        input_fn=fake_input, out=out, sleep=lambda _s: None,
    )
    return code, out.getvalue(), prompts


def test_full_walk_through(mocked):
    mocked.add("POST", f"{API_URL}/pairings/create",
               json=pairing_json(enabled=False, pending=True))
    mocked.add("GET", f"{API_URL}/pairings/{PID}", json=pairing_json(enabled=False, pending=True))
    mocked.add("GET", f"{API_URL}/pairings/{PID}", json=pairing_json())
    # step 2: stored pairing id, answered after two polls
    mocked.add("POST", INITIATE, json=auth_json(pending=True, granted=False))
    mocked.add("GET", f"{API_URL}/authentication_requests/{AID}",
               json=auth_json(pending=True, granted=False))
    mocked.add("GET", f"{API_URL}/authentication_requests/{AID}", json=auth_json())
    # step 3: zero storage: unknown terminal, named, then automated grant
    mocked.add("POST", INITIATE, status=409,
               json={"error_code": 706, "error_message": "No matching terminal exists."})
    mocked.add("POST", f"{API_URL}/user_terminals/create", json=terminal_json())
    mocked.add("POST", INITIATE, json=auth_json(automated=True))

    code, out, prompts = run(["awkward turtle", "", "Kitchen PC"])

    assert code == 0
    assert "Pairing complete." in out
    assert "The request was granted! (reason: it is a test)" in out
    assert "706: this terminal" in out and "create_user_terminal" in out
    assert "The request was automatically granted!" in out
    assert "Demo finished" in out
    assert "Waiting for the phone." in out  # progress dots while pending
    methods = [(c.request.method, c.request.url.split("/v1/")[1]) for c in mocked.calls]
    assert methods[0] == ("POST", "pairings/create")
    stored = dict(parse_qsl(mocked.calls[3].request.body.decode()))
    assert stored["pairing_id"] == PID and stored["terminal_name"] == "my computer"
    assert stored["terminal_name_extra"]
    named = dict(parse_qsl(mocked.calls[7].request.body.decode()))
    assert named["user_name"] == "jdoe" and named["name"] == "Kitchen PC"
    retry = dict(parse_qsl(mocked.calls[8].request.body.decode()))
    assert retry["terminal_name_extra"] == named["name_extra"]


def test_denied_pairing_asks_again_and_otp_fallback(mocked):
    mocked.add("POST", f"{API_URL}/pairings/create",
               json=pairing_json(enabled=False, pending=False))
    mocked.add("POST", f"{API_URL}/pairings/create", json=pairing_json())
    mocked.add("GET", f"{API_URL}/pairings/{PID}", json=pairing_json(enabled=False,
                                                                     pending=False))
    mocked.add("GET", f"{API_URL}/pairings/{PID}", json=pairing_json())
    mocked.add("POST", INITIATE, json=auth_json(pending=True, granted=False, reason_code=708))
    mocked.add("POST", f"{API_URL}/authentication_requests/{AID}/otp_auth",
               json=auth_json(granted=False, reason="bad otp"))
    mocked.add("POST", INITIATE, status=409,
               json={"error_code": 704, "error_message": "The user has disabled Toopher."})

    code, out, prompts = run(["first phrase", "second phrase", "laptop", "123456"])

    assert code == 0
    assert "The pairing has been denied" in out
    assert "one-time password" in out
    assert "The request was denied! (reason: bad otp)" in out
    assert "704: the user has turned Toopher off" in out
    assert "Let the user in" in out
    otp_call = [c for c in mocked.calls if c.request.url.endswith("/otp_auth")][0]
    assert dict(parse_qsl(otp_call.request.body.decode())) == {"otp": "123456"}


@pytest.mark.parametrize(
    ("code", "message", "text"),
    [(705, "No matching user exists.", "Start pairing"),
     (707, "Pairing has been deactivated", "Pair again"),
     (601, "This pairing has not been authorized to authenticate.", "Pair again")],
)
def test_zero_storage_errors_are_explained(mocked, code, message, text):
    mocked.add("POST", f"{API_URL}/pairings/create", json=pairing_json())
    mocked.add("GET", f"{API_URL}/pairings/{PID}", json=pairing_json())
    mocked.add("POST", INITIATE, json=auth_json())
    mocked.add("POST", INITIATE, status=409, json={"error_code": code, "error_message": message})

    exit_code, out, _ = run(["phrase", ""])

    assert exit_code == 0
    assert text in out


def test_bad_api_url_is_a_clear_error():
    code, out, _ = run([], ["--api-url", "http://api.toopher.com/v1", "--key", "k",
                            "--secret", "s"])
    assert code == 2
    assert "allow_insecure_http" in out


def test_end_of_input_exits_cleanly(mocked):
    code, out, _ = run([])
    assert code == 130
    assert "Interrupted" in out


def test_module_runs_as_a_script(refused_port):
    """``python -m toopher.demo`` for real, against a refused port, input from stdin."""
    proc = subprocess.run(
        [sys.executable, "-m", "toopher.demo", "--api-url",
         f"http://127.0.0.1:{refused_port}/v1", "--key", "k", "--secret", "s",
         "--user-name", "jdoe"],
        input="awkward turtle\n", capture_output=True, text=True, timeout=60,
    )
    assert proc.returncode == 130, proc.stderr
    assert "The pairing was not accepted (reason: Could not connect" in proc.stdout
    assert "Traceback" not in proc.stderr
