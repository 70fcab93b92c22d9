"""One way to run a site in another process: :class:`ServerProcess`.

The browser tests' example servers (tests/browser/server.py), the scale and fault
tests' cluster instances (tests/scale/cluster.py) and the benchmarks' sites
(benchmarks/servers.py) are all a :class:`ServerProcess`: a command that serves HTTP
on 127.0.0.1, its output in a log file, started, waited for, stopped or killed. The
sandbox has its own, shipped one: :class:`toopher_sandbox.testing.SandboxProcess`.

The port is a listening socket this process binds (port 0: the kernel picks a free
one) and the server inherits (gunicorn ``--bind fd://N``, uvicorn ``--fd N``): no other
process, another xdist worker or another run on the machine, can take the port
between the moment it is chosen and the moment the server listens. Started again (after
:meth:`ServerProcess.kill`), a server binds the same port again.

No Django import here.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import urllib.error
import urllib.request
from collections.abc import Callable, Sequence
from pathlib import Path

from tests.waiting import wait_until

#: Seconds a server has to answer after it was started.
START_TIMEOUT = 60.0
#: Seconds a server has to exit after SIGTERM (then SIGKILL).
STOP_TIMEOUT = 15.0

#: ``command(port, fd)``: the command line serving on 127.0.0.1:port, or on the
#: inherited listening socket ``fd``.
Command = Callable[[int, int], Sequence[str]]


def listening_socket(port: int = 0) -> socket.socket:
    """A socket listening on 127.0.0.1:``port`` (0: a free one), for a server to inherit."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", port))
    sock.listen(128)
    return sock


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nobody listens on right now (for a server that
    cannot inherit a socket: another process may take it before the server does)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class ServerProcess:
    """``command`` serving HTTP on a port of 127.0.0.1, in a subprocess.

    :param name: for messages and the default log file name.
    :param command: see :data:`Command`.
    :param env: the subprocess's environment (``PORT`` is set to the port).
    :param cwd: its working directory.
    :param log_path: where its stdout and stderr go (appended: a server started again
        keeps its earlier log).
    :param ready_path: :meth:`start` waits until a GET of this path gets an HTTP answer
        below 500.
    :param new_session: a process group of its own, so :meth:`kill` reaches its workers.
    """

    def __init__(
        self,
        name: str,
        command: Command,
        *,
        env: dict[str, str],
        cwd: Path,
        log_path: Path,
        ready_path: str = "/",
        new_session: bool = False,
        start_timeout: float = START_TIMEOUT,
    ) -> None:
        self.name = name
        self.command = command
        self.env = dict(env)
        self.cwd = cwd
        self.log_path = log_path
        self.ready_path = ready_path
        self.new_session = new_session
        self.start_timeout = start_timeout
        self.port: int | None = None
        self.process: subprocess.Popen[bytes] | None = None
        self._listener: socket.socket | None = None

    @property
    def base_url(self) -> str:
        if self.port is None:
            raise RuntimeError(f"{self.name}: no port yet (see reserve_port())")
        return f"http://127.0.0.1:{self.port}"

    def url(self, path: str) -> str:
        return self.base_url + path

    def reserve_port(self) -> int:
        """Bind the server's port now (a free one the first time) and keep it until
        :meth:`start`, for work that needs to know it first (``PORT`` in the
        environment); the port."""
        if self._listener is None:
            self._listener = listening_socket(self.port or 0)
            self.port = self._listener.getsockname()[1]
            self.env["PORT"] = str(self.port)
        assert self.port is not None
        return self.port

    # -- running -------------------------------------------------------------------
    def start(self, wait: bool = True) -> ServerProcess:
        """Start the server on its port (a free one the first time); wait until it answers."""
        self.reserve_port()
        listener, self._listener = self._listener, None
        assert listener is not None and self.port is not None
        try:
            fd = listener.fileno()
            with self.log_path.open("ab") as log:
                self.process = subprocess.Popen(  # noqa: S603 (our own interpreter and modules)
                    list(self.command(self.port, fd)),
                    cwd=self.cwd,
                    env=self.env,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    stdin=subprocess.DEVNULL,
                    pass_fds=(fd,),
                    start_new_session=self.new_session,
                )
        finally:
            listener.close()  # the server holds it now
        if wait:
            self.wait_until_up()
        return self

    def answers(self) -> bool:
        """Whether a GET of ``ready_path`` gets an HTTP answer below 500 now."""
        try:
            with urllib.request.urlopen(self.url(self.ready_path), timeout=2) as response:  # noqa: S310
                return response.status < 500
        except urllib.error.HTTPError as error:
            return error.code < 500
        except (urllib.error.URLError, OSError):
            return False

    def wait_until_up(self) -> None:
        """Wait until the server answers; RuntimeError with its log if it exits first or
        does not answer within ``start_timeout`` seconds."""

        def up() -> bool:
            if self.answers():
                return True
            if not self.alive:
                raise RuntimeError(f"{self.name} exited early:\n{self.log_tail()}")
            return False

        try:
            wait_until(up, self.start_timeout, interval=0.1)
        except AssertionError:
            self.stop()
            raise RuntimeError(
                f"{self.name} did not answer in {self.start_timeout:.0f} s:\n{self.log_tail()}"
            ) from None

    @property
    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def stop(self) -> None:
        """SIGTERM, then SIGKILL if it has not exited after :data:`STOP_TIMEOUT` s."""
        if self._listener is not None:  # reserved, never started
            self._listener.close()
            self._listener = None
        if not self.alive:
            return
        assert self.process is not None
        self.process.terminate()
        try:
            self.process.wait(timeout=STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=STOP_TIMEOUT)

    def kill(self) -> None:
        """SIGKILL the server (and, with ``new_session``, its workers) at once: a crashed
        machine, an OOM kill."""
        if not self.alive:
            return
        assert self.process is not None
        try:
            if self.new_session:
                os.killpg(self.process.pid, signal.SIGKILL)
            else:
                self.process.kill()
        except ProcessLookupError:
            pass
        self.process.wait(timeout=20)

    # -- its log -------------------------------------------------------------------
    def log_text(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")
        except OSError:
            return ""

    def log_tail(self, lines: int = 60) -> str:
        return "\n".join(self.log_text().splitlines()[-lines:]) or "(no log)"
