"""A bounded HTTP load generator: threads, keep-alive ``http.client`` connections.

Every run sends a fixed number of requests, stops at a time cap whichever comes
first, and talks to 127.0.0.1 only. It measures wall time for the whole run and
the latency of each request.
"""

from __future__ import annotations

import http.client
import itertools
import threading
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from .stats import percentile

#: Seconds a single request may take before the connection is dropped.
REQUEST_TIMEOUT = 10.0


@dataclass
class LoadResult:
    """What one run measured."""

    sent: int
    elapsed: float
    latencies: list[float] = field(repr=False)
    statuses: Counter
    errors: int = 0
    session_writes: int = 0
    capped: bool = False
    #: CPU seconds the server used during the run (set by callers that measure it).
    server_cpu: float = 0.0

    @property
    def ok(self) -> int:
        return sum(count for status, count in self.statuses.items() if 200 <= status < 400)

    @property
    def rps(self) -> float:
        return self.ok / self.elapsed if self.elapsed > 0 else 0.0

    @property
    def p50(self) -> float:
        return percentile(self.latencies, 50)

    @property
    def p99(self) -> float:
        return percentile(self.latencies, 99)


class Connection:
    """One keep-alive connection to 127.0.0.1 that reconnects once if the server
    closed it between two requests."""

    def __init__(self, port: int, host: str = "127.0.0.1") -> None:
        if host not in ("127.0.0.1", "localhost"):
            raise ValueError("the benchmarks talk to 127.0.0.1 only")
        self.host = host
        self.port = port
        self.conn: http.client.HTTPConnection | None = None

    def _connect(self) -> http.client.HTTPConnection:
        if self.conn is None:
            self.conn = http.client.HTTPConnection(self.host, self.port, timeout=REQUEST_TIMEOUT)
        return self.conn

    def get(self, path: str, headers: dict[str, str]) -> tuple[int, dict[str, str], bytes]:
        """GET ``path``; returns (status, lower-cased headers joined, body)."""
        for attempt in (0, 1):
            conn = self._connect()
            try:
                conn.request("GET", path, headers=headers)
                response = conn.getresponse()
                body = response.read()
            except (http.client.RemoteDisconnected, ConnectionError, http.client.BadStatusLine):
                self.close()
                if attempt:
                    raise
                continue
            head = {}
            for name, value in response.getheaders():
                key = name.lower()
                head[key] = f"{head[key]}\n{value}" if key in head else value
            if response.will_close:
                self.close()
            return response.status, head, body
        raise AssertionError("unreachable")

    def close(self) -> None:
        if self.conn is not None:
            self.conn.close()
            self.conn = None


def cookie_header(cookies: dict[str, str]) -> str:
    return "; ".join(f"{name}={value}" for name, value in cookies.items())


def run(
    port: int,
    path: str,
    *,
    total: int,
    concurrency: int,
    cookies: dict[str, str] | None = None,
    time_cap: float = 60.0,
    session_cookie: str = "sessionid",
) -> LoadResult:
    """Send ``total`` GETs of ``path`` from ``concurrency`` threads (or stop at ``time_cap``)."""
    headers = {"Host": f"127.0.0.1:{port}", "Accept": "*/*"}
    if cookies:
        headers["Cookie"] = cookie_header(cookies)
    return run_prepared(port, [(path, headers)] * total, concurrency=concurrency,
                        time_cap=time_cap, session_cookie=session_cookie)


def run_prepared(
    port: int,
    prepared: Sequence[tuple[str, dict[str, str]]],
    *,
    concurrency: int,
    time_cap: float = 60.0,
    session_cookie: str = "sessionid",
) -> LoadResult:
    """Send the GETs ``prepared`` (path, headers), each once, from ``concurrency`` threads.

    Requests built beforehand (e.g. OAuth-signed, each with its own nonce) keep the
    load generator's own work out of the measured time.
    """
    total = len(prepared)
    tickets = itertools.count()
    lock = threading.Lock()
    latencies: list[float] = []
    statuses: Counter = Counter()
    totals = {"errors": 0, "writes": 0, "sent": 0}
    start_gate = threading.Barrier(concurrency + 1)
    deadline = [0.0]
    capped = [False]

    def worker() -> None:
        conn = Connection(port)
        mine: list[float] = []
        mine_status: Counter = Counter()
        errors = writes = sent = 0
        start_gate.wait()
        try:
            while (ticket := next(tickets)) < total:
                now = time.perf_counter()
                if now > deadline[0]:
                    capped[0] = True
                    break
                sent += 1
                path, headers = prepared[ticket]
                try:
                    status, head, _body = conn.get(path, headers)
                except (OSError, http.client.HTTPException):
                    errors += 1
                    conn.close()
                    continue
                mine.append(time.perf_counter() - now)
                mine_status[status] += 1
                if f"{session_cookie}=" in head.get("set-cookie", ""):
                    writes += 1
        finally:
            conn.close()
            with lock:
                latencies.extend(mine)
                statuses.update(mine_status)
                totals["errors"] += errors
                totals["writes"] += writes
                totals["sent"] += sent

    threads = [threading.Thread(target=worker, daemon=True) for _ in range(concurrency)]
    for thread in threads:
        thread.start()
    started = time.perf_counter()
    deadline[0] = started + time_cap
    start_gate.wait()
    for thread in threads:
        thread.join(time_cap + REQUEST_TIMEOUT + 5)
    elapsed = time.perf_counter() - started
    return LoadResult(
        sent=totals["sent"],
        elapsed=elapsed,
        latencies=latencies,
        statuses=statuses,
        errors=totals["errors"],
        session_writes=totals["writes"],
        capped=capped[0],
    )


@dataclass
class CallResult:
    """What a run of plain Python calls measured (e.g. API calls through a client)."""

    calls: int
    errors: int
    elapsed: float
    latencies: list[float] = field(repr=False)
    capped: bool = False
    #: CPU seconds this (calling) process used during the run.
    cpu: float = 0.0

    @property
    def rate(self) -> float:
        return self.calls / self.elapsed if self.elapsed > 0 else 0.0

    @property
    def p50(self) -> float:
        return percentile(self.latencies, 50)

    @property
    def p99(self) -> float:
        return percentile(self.latencies, 99)


def run_calls(
    make_call: Callable[[], Callable[[], object]],
    *,
    total: int,
    concurrency: int = 1,
    time_cap: float = 60.0,
    teardown: Callable[[Callable[[], object]], None] | None = None,
) -> CallResult:
    """Make ``total`` calls from ``concurrency`` threads; each thread gets its own
    callable from ``make_call()`` (its own client, so its own connection)."""
    tickets = itertools.count()
    lock = threading.Lock()
    latencies: list[float] = []
    counts = {"calls": 0, "errors": 0}
    gate = threading.Barrier(concurrency + 1)
    deadline = [0.0]
    capped = [False]
    calls = [make_call() for _ in range(concurrency)]

    def worker(call: Callable[[], object]) -> None:
        mine: list[float] = []
        errors = 0
        gate.wait()
        try:
            while next(tickets) < total:
                now = time.perf_counter()
                if now > deadline[0]:
                    capped[0] = True
                    break
                try:
                    call()
                except Exception:  # noqa: BLE001 (counted, reported)
                    errors += 1
                    continue
                mine.append(time.perf_counter() - now)
        finally:
            with lock:
                latencies.extend(mine)
                counts["calls"] += len(mine)
                counts["errors"] += errors

    threads = [threading.Thread(target=worker, args=(c,), daemon=True) for c in calls]
    for thread in threads:
        thread.start()
    started = time.perf_counter()
    cpu_started = time.process_time()
    deadline[0] = started + time_cap
    gate.wait()
    for thread in threads:
        thread.join(time_cap + REQUEST_TIMEOUT + 5)
    elapsed = time.perf_counter() - started
    cpu = time.process_time() - cpu_started
    if teardown is not None:
        for call in calls:
            teardown(call)
    return CallResult(counts["calls"], counts["errors"], elapsed, latencies, capped[0], cpu)
