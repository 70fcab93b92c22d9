"""Helpers for tests and benchmarks that talk to a sandbox in another process.

No Django import here: the test process need not configure Django for the sandbox
it starts. Typical use::

    with SandboxProcess() as proc:
        control = SandboxControl(proc.base_url)   # finds the instance's control token
        creds = control.new_requester()
        phone = control.new_phone()
        ...
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from typing import IO, Any

import requests

DEFAULT_TIMEOUT = 10.0
#: The header that carries the control token.
TOKEN_HEADER = "X-Sandbox-Token"
#: Environment variable read for the token of a sandbox this process did not start.
TOKEN_ENV = "TOOPHER_SANDBOX_CONTROL_TOKEN"

#: Control tokens of the sandboxes started in this process, by base URL.
_tokens: dict[str, str] = {}


def known_token(base_url: str) -> str:
    """The control token for ``base_url``: of a sandbox started here, else ``$TOOPHER_...``."""
    return _tokens.get(base_url.rstrip("/")) or os.environ.get(TOKEN_ENV, "")


class SandboxError(RuntimeError):
    """The sandbox did not start, or the control API answered with an error."""

    def __init__(self, message: str, status_code: int | None = None, body: Any = None) -> None:
        super().__init__(message)
        self.status_code = status_code
        self.body = body


class SandboxProcess:
    """``python -m toopher_sandbox --port 0 --json`` in a subprocess, as a context manager.

    After ``start()`` (or entering the ``with`` block) the facts the sandbox printed are
    available as ``info`` and as attributes: ``base_url``, ``api_url``, ``phone_url``,
    ``control_url``, ``control_token``, ``key`` and ``secret`` (of the requester it
    created). A :class:`SandboxControl` made for its ``base_url`` uses its token.

    ``key`` and ``secret`` make the requester with these credentials (``--key``,
    ``--secret``), ``control_token`` fixes the control token: a sandbox started again
    with the ``db``, ``port`` and these of a stopped one is the same service.
    """

    def __init__(
        self,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        db: str | None = None,
        key: str | None = None,
        secret: str | None = None,
        control_token: str | None = None,
        extra_args: tuple[str, ...] = (),
        startup_timeout: float = 60.0,
        python: str | None = None,
    ) -> None:
        self.host = host
        self.port = port
        self.db = db
        self.key_arg = key
        self.secret_arg = secret
        self.control_token_arg = control_token
        self.extra_args = tuple(extra_args)
        self.startup_timeout = startup_timeout
        self.python = python or sys.executable
        self.process: subprocess.Popen | None = None
        self.info: dict[str, Any] = {}
        self._stderr: IO[bytes] | None = None

    @property
    def base_url(self) -> str:
        return self.info["base_url"]

    @property
    def api_url(self) -> str:
        return self.info["api_url"]

    @property
    def phone_url(self) -> str:
        return self.info["phone_url"]

    @property
    def control_url(self) -> str:
        return self.info["control_url"]

    @property
    def control_token(self) -> str:
        return self.info["control_token"]

    @property
    def key(self) -> str:
        return self.info["key"]

    @property
    def secret(self) -> str:
        return self.info["secret"]

    def command(self) -> list[str]:
        """The command line; every value as ``--option=value``, so a key, secret or
        token that begins with ``-`` is not taken for an option."""
        cmd = [self.python, "-m", "toopher_sandbox", f"--host={self.host}",
               f"--port={self.port}", "--json"]
        for option, value in (("--db", self.db), ("--key", self.key_arg),
                              ("--secret", self.secret_arg),
                              ("--control-token", self.control_token_arg)):
            if value:
                cmd.append(f"{option}={value}")
        return cmd + list(self.extra_args)

    def _stderr_text(self) -> str:
        if self._stderr is None:
            return ""
        self._stderr.flush()
        self._stderr.seek(0)
        return self._stderr.read().decode("utf-8", "replace")[-4000:]

    def start(self) -> SandboxProcess:
        """Start the sandbox, read its JSON line and wait until it answers."""
        self._stderr = tempfile.TemporaryFile()  # noqa: SIM115 (closed in stop())
        process = subprocess.Popen(  # noqa: S603 (our own interpreter and module)
            self.command(), stdout=subprocess.PIPE, stderr=self._stderr, stdin=subprocess.DEVNULL
        )
        self.process = process
        stdout = process.stdout
        assert stdout is not None
        line: list[bytes] = []
        reader = threading.Thread(target=lambda: line.append(stdout.readline()), daemon=True)
        reader.start()
        reader.join(self.startup_timeout)
        if not line or not line[0].strip():
            if self.process.poll() is None:
                self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                pass
            stderr = self._stderr_text()
            self.stop()
            raise SandboxError(f"the sandbox did not start:\n{stderr}")
        try:
            self.info = json.loads(line[0])
        except ValueError as exc:
            self.stop()
            raise SandboxError(f"the sandbox printed something else: {line[0]!r}") from exc
        _tokens[self.base_url.rstrip("/")] = self.control_token
        self._wait_until_ready()
        return self

    def _wait_until_ready(self) -> None:
        deadline = time.monotonic() + self.startup_timeout
        while True:
            try:
                if requests.get(self.api_url, timeout=2).status_code == 200:
                    return
            except requests.RequestException:
                pass
            if self.process is None or self.process.poll() is not None or (
                time.monotonic() > deadline
            ):
                stderr = self._stderr_text()
                self.stop()
                raise SandboxError(f"the sandbox does not answer:\n{stderr}")
            time.sleep(0.05)

    def stop(self) -> None:
        """Terminate the sandbox (SIGTERM, then SIGKILL after 10 s)."""
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(10)
        if self.process is not None and self.process.stdout is not None:
            self.process.stdout.close()
        if self._stderr is not None:
            self._stderr.close()
            self._stderr = None

    def __enter__(self) -> SandboxProcess:
        return self.start()

    def __exit__(self, *exc_info: Any) -> None:
        self.stop()


class SandboxControl:
    """A client for the sandbox control API (``<base_url>/control/...``).

    ``token`` is the sandbox's control token; by default the one of the
    :class:`SandboxProcess` at ``base_url`` (or ``$TOOPHER_SANDBOX_CONTROL_TOKEN``).
    """

    def __init__(
        self,
        base_url: str,
        *,
        token: str | None = None,
        session: requests.Session | None = None,
        timeout: float = DEFAULT_TIMEOUT,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.api_url = self.base_url + "/v1"
        self.control_url = self.base_url + "/control"
        self.phone_url = self.base_url + "/phone/"
        self.session = session or requests.Session()
        self.timeout = timeout
        self.token = known_token(self.base_url) if token is None else token
        self.session.headers[TOKEN_HEADER] = self.token  # also for callers of .session

    def _call(self, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
        response = self.session.request(
            method,
            f"{self.control_url}/{path}",
            json=body,
            timeout=self.timeout,
        )
        try:
            data = response.json()
        except ValueError:
            data = response.text
        if response.status_code >= 400:
            raise SandboxError(
                f"{method} control/{path} answered {response.status_code}: {data}",
                status_code=response.status_code,
                body=data,
            )
        return data

    def new_requester(
        self, name: str = "Sandbox requester", key: str | None = None, secret: str | None = None
    ) -> dict[str, str]:
        """A fresh requester: ``{"key", "secret", "api_url"}``.

        With ``key`` and ``secret``, the requester with exactly these credentials
        (created, or updated if the key exists).
        """
        body: dict[str, str | None] = {"name": name}
        if key is not None or secret is not None:
            body.update(key=key, secret=secret)
        data = self._call("POST", "requesters", body)
        return {"key": data["key"], "secret": data["secret"], "api_url": data["api_url"]}

    def new_phone(
        self, name: str = "Test phone", phone_number: str = "", pairing_phrase: str | None = None
    ) -> dict[str, str]:
        """A fresh phone: ``{"phone_id", "pairing_phrase"}`` (plus ``phone_url``).

        ``pairing_phrase`` chooses the phrase the phone shows (two words of letters).
        """
        body = {"name": name, "phone_number": phone_number}
        if pairing_phrase is not None:
            body["pairing_phrase"] = pairing_phrase
        data = self._call("POST", "phones", body)
        return {
            "phone_id": data["phone_id"],
            "pairing_phrase": data["pairing_phrase"],
            "phone_url": data["phone_url"],
        }

    def new_phrase(self, phone_id: str, pairing_phrase: str | None = None) -> str:
        """Another pairing phrase on the phone (random, or the one given)."""
        body = {"pairing_phrase": pairing_phrase} if pairing_phrase is not None else None
        return self._call("POST", f"phones/{phone_id}/phrases", body)["pairing_phrase"]

    def pending(self, phone_id: str) -> dict[str, list[dict[str, Any]]]:
        """``{"pairings": [...], "authentication_requests": [...]}`` pending on the phone."""
        return self._call("GET", f"phones/{phone_id}/requests")

    def wait_for_pending(
        self,
        phone_id: str,
        kind: str = "authentication_requests",
        timeout: float = 10.0,
        interval: float = 0.05,
    ) -> dict[str, Any]:
        """Poll until a pending item of ``kind`` shows on the phone; return the first."""
        if kind not in {"authentication_requests", "pairings"}:
            raise ValueError("kind is 'authentication_requests' or 'pairings'")
        deadline = time.monotonic() + timeout
        while True:
            items = self.pending(phone_id)[kind]
            if items:
                return items[0]
            if time.monotonic() > deadline:
                raise SandboxError(f"nothing pending ({kind}) on phone {phone_id}")
            time.sleep(interval)

    def respond_pairing(self, pairing_id: str, allow: bool = True) -> dict[str, Any]:
        """Allow or deny a pending pairing; returns the pairing JSON."""
        return self._call("POST", f"pairings/{pairing_id}/respond", {"allow": allow})

    def respond_authentication(
        self,
        request_id: str,
        grant: bool = True,
        reason: str = "",
        automate: bool = False,
        code: str | None = None,
    ) -> dict[str, Any]:
        """Grant or deny a pending authentication request; returns its JSON. ``code``:
        the number picked (number matching: a wrong one denies); without it, ``grant``
        approves even a request that offers numbers."""
        body: dict[str, Any] = {"grant": grant, "reason": reason, "automate": automate}
        if code is not None:
            body["code"] = code
        return self._call("POST", f"authentication_requests/{request_id}/respond", body)

    def automate(
        self, pairing_id: str, terminal_id: str, action_name: str = "Log in", grant: bool = True
    ) -> dict[str, Any]:
        """Make the phone answer this pairing, terminal and action by itself."""
        return self._call(
            "POST",
            "automations",
            {
                "pairing_id": pairing_id,
                "terminal_id": terminal_id,
                "action_name": action_name,
                "grant": grant,
            },
        )

    def deactivate_pairing(self, pairing_id: str) -> dict[str, Any]:
        """Remove the pairing from the phone (the API then answers 707)."""
        return self._call("POST", f"pairings/{pairing_id}/deactivate")

    def otp(self, pairing_id: str) -> str:
        """The pairing's current one-time password."""
        return self._call("GET", f"pairings/{pairing_id}/otp")["otp"]

    def set_faults(
        self,
        latency_ms: int = 0,
        status: int | None = None,
        malformed: bool = False,
        rate: float = 1.0,
        key: str | None = None,
    ) -> dict[str, Any]:
        """Inject faults into API v1 responses (for one consumer key, or for all)."""
        body: dict[str, Any] = {
            "latency_ms": latency_ms,
            "status": status,
            "malformed": malformed,
            "rate": rate,
        }
        if key is not None:
            body["key"] = key
        return self._call("POST", "faults", body)

    def clear_faults(self, key: str | None = None) -> None:
        """Remove every fault (or only the faults of one consumer key)."""
        self._call("DELETE", "faults", {"key": key} if key is not None else None)

    def messages(self) -> list[dict[str, Any]]:
        """The SMS and emails the sandbox 'sent', newest first."""
        return self._call("GET", "messages")["messages"]
