"""Keys, secrets and tokens on the sandbox's command line, and the missing extra.

The sandbox draws its keys, secrets and control tokens from ``secrets.token_urlsafe``,
whose alphabet has ``-``: about one in 64 began with it, and ``--key -abc`` is refused
by argparse (an option, not a value), so a harness that started a sandbox again with
the credentials of the first failed now and then (the fault run's sandbox restart).
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator

import pytest
import requests
from requests_oauthlib import OAuth1

from toopher_sandbox import server
from toopher_sandbox.testing import SandboxControl, SandboxProcess
from toopher_server import tokens


def _draws(*values: str) -> Iterator[str]:
    yield from values
    raise AssertionError("drew more often than expected")


def test_a_token_never_begins_with_a_dash(monkeypatch):
    draws = _draws("-first", "-second", "third-")
    monkeypatch.setattr(tokens.secrets, "token_urlsafe", lambda nbytes: next(draws))
    assert tokens.token(15) == "third-"


def test_tokens_have_the_length_and_alphabet_of_token_urlsafe():
    drawn = [tokens.token(15) for _ in range(300)]
    assert all(len(value) == 20 and not value.startswith("-") for value in drawn)
    assert len(set(drawn)) == 300
    assert any("-" in value for value in drawn)  # '-' is still drawn, just not first


@pytest.mark.django_db
def test_new_requesters_and_control_tokens_use_it(monkeypatch):
    from toopher_server.requesters import create_requester

    draws = _draws("-key-drawn-first", "the-key", "-secret-drawn-first", "the-secret",
                   "-token", "the-control-token")
    monkeypatch.setattr(tokens.secrets, "token_urlsafe", lambda nbytes: next(draws))
    requester = create_requester("Dash test")
    assert (requester.key, requester.current_secret()) == ("the-key", "the-secret")
    assert server.parse_args([]).control_token == "the-control-token"


def test_a_value_beginning_with_a_dash_needs_the_equals_form(capsys):
    with pytest.raises(SystemExit) as refused:
        server.parse_args(["--key", "-abc", "--secret", "s"])
    assert refused.value.code == 2
    assert "expected one argument" in capsys.readouterr().err
    args = server.parse_args(["--key=-abc", "--secret=-def",
                              "--control-token=-0123456789abcdef"])
    assert (args.key, args.secret, args.control_token) == ("-abc", "-def", "-0123456789abcdef")


def test_sandbox_process_passes_values_in_the_equals_form():
    command = SandboxProcess(key="-k", secret="-s", control_token="-t", db="/x/-y").command()
    assert {"--key=-k", "--secret=-s", "--control-token=-t", "--db=/x/-y"} <= set(command)


def test_a_sandbox_started_again_with_dashed_credentials(tmp_path):
    """What the fault run does: stop the sandbox, start it again with its file, port,
    credentials and control token; here all of them begin with '-'."""
    key, secret, token = "-dash-key", "-dash-secret", "-dash-control-token"
    db = str(tmp_path / "sandbox.sqlite3")
    with SandboxProcess(db=db, key=key, secret=secret, control_token=token) as first:
        assert (first.key, first.secret, first.control_token) == (key, secret, token)
        phone = SandboxControl(first.base_url).new_phone()
        port = int(first.base_url.rsplit(":", 1)[1])
    with SandboxProcess(port=port, db=db, key=key, secret=secret, control_token=token) as again:
        assert again.base_url == first.base_url
        assert SandboxControl(again.base_url, token=token).pending(phone["phone_id"]) == {
            "pairings": [], "authentication_requests": []}
        response = requests.post(f"{again.api_url}/users/create", data={"name": "d"},
                                 auth=OAuth1(key, secret), timeout=10)
        assert response.status_code == 200


MISSING = """
import runpy, sys
sys.modules[{module!r}] = None  # import {module} raises ImportError, as if not installed
sys.argv = ["toopher_sandbox", "--port", "0", "--json"]
runpy.run_module("toopher_sandbox", run_name="__main__", alter_sys=True)
"""


@pytest.mark.parametrize("module", ["waitress", "segno"])
def test_without_the_sandbox_extra_it_says_what_to_install(module):
    result = subprocess.run([sys.executable, "-c", MISSING.format(module=module)],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 2, result.stderr
    assert result.stdout == ""
    assert "Traceback" not in result.stderr
    assert 'pip install "django-toopher[sandbox]"' in result.stderr
    assert module in result.stderr
