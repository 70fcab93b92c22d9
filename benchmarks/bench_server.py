"""The service as operators run it: verified API calls against a bare Django JSON view.

Two ``toopher-server serve`` instances (gunicorn, 2 workers x 8 threads each, the
production settings module with the yardstick's URL added and the rate limits given
room: ``benchmarks/service_site``) on one fresh PostgreSQL database and one Redis (those
of ``scripts/services.sh``). The load generator is the balancer: request k goes to
instance k mod 2. ``server_concurrency`` keep-alive client threads send, in rounds of
the same duration, each kind in turn (the order reversed every other round):

* verified: API v1 calls, each OAuth 1.0a signed beforehand with a fresh nonce (so
  each is checked against the nonce record every instance shares) for the instance it
  goes to: ``GET authentication_requests/{id}`` and ``GET pairings/{id}`` (two each)
  and ``POST authentication_requests/initiate`` (one), in turn;
* reads: ``GET authentication_requests/{id}`` alone, signed the same way (the call the
  sandbox's figure, ``bench_sandbox``, is measured with);
* bare: ``GET /bench/bare`` on the same instances: a plain ``JsonResponse`` through the
  same middleware, with no OAuth and no query;
* floor: ``GET /bench/floor``: the two statements every verified read must make (a
  nonce INSERT, a one-row SELECT) in a plain view, without OAuth or the ORM: what no
  verified call can go below on this stack.

The pairing was made by a :class:`~toopher_server.testing.TestPhone` (a device that
enrols and signs like the authenticator). Each figure is the median of the rounds'
ratios (a kind's calls/s over the bare rate of the same round), with a bootstrap 95 %
interval; the target (at least 0.5) is the verified mix's; p50/p99 of each kind over
all rounds.
"""

from __future__ import annotations

import http.client
import itertools
import math
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlencode

from oauthlib.oauth1 import Client

from tests.faults.service_cluster import ServiceCluster

from .bench_cluster import services
from .config import Counts
from .loadgen import REQUEST_TIMEOUT
from .report import Report, Row
from .servers import Environment, process_tree_cpu
from .service_site import BARE_PATH, FLOOR_PATH
from .stats import bootstrap_median_ci, median, percentile

RATIO_TARGET = 0.5
SETTINGS = "benchmarks.service_site.settings"
#: The kinds of request a round sends, the mix (the figure with the target) first.
KINDS = ("verified", "reads", "bare", "floor")
#: Requests prepared for a round, in multiples of the verified mix's rate (a kind that
#: runs out ends its round early, and the report says so).
PREPARED_FACTOR = {"verified": 1, "reads": 2, "bare": 4, "floor": 3}
FORM = "application/x-www-form-urlencoded"

#: One request as sent: method, path, headers, body.
Prepared = tuple[str, str, dict[str, str], bytes]


@dataclass
class RoundResult:
    """One round of one kind: what was answered, how fast."""

    kind: str
    elapsed: float
    latencies: list[float] = field(repr=False)
    statuses: Counter
    errors: int = 0
    exhausted: bool = False
    #: CPU seconds the instances (gunicorn masters and workers) used in the round.
    server_cpu: float = 0.0

    @property
    def ok(self) -> int:
        return self.statuses.get(200, 0)

    @property
    def rps(self) -> float:
        return self.ok / self.elapsed if self.elapsed > 0 else 0.0


def round_robin(
    ports: list[int], prepared: list[Prepared], *, concurrency: int, duration: float, kind: str
) -> RoundResult:
    """Send ``prepared[k]`` to ``ports[k % len(ports)]`` from ``concurrency`` threads,
    each request once, until ``duration`` seconds have passed or none is left."""
    tickets = itertools.count()
    lock = threading.Lock()
    latencies: list[float] = []
    statuses: Counter = Counter()
    totals: dict[str, int | bool] = {"errors": 0, "exhausted": False}
    gate = threading.Barrier(concurrency + 1)
    deadline = [0.0]

    def worker() -> None:
        conns: dict[int, http.client.HTTPConnection] = {}
        mine: list[float] = []
        seen: Counter = Counter()
        errors = 0
        gate.wait()
        try:
            while True:
                ticket, now = next(tickets), time.perf_counter()
                if now > deadline[0]:
                    break
                if ticket >= len(prepared):  # the time is not up: the round ends early
                    totals["exhausted"] = True
                    break
                port = ports[ticket % len(ports)]
                method, path, headers, body = prepared[ticket]
                conn = conns.get(port) or conns.setdefault(
                    port, http.client.HTTPConnection("127.0.0.1", port, timeout=REQUEST_TIMEOUT)
                )
                try:
                    # Never sent twice: a signed request again is a replay.
                    conn.request(method, path, body=body or None, headers=headers)
                    response = conn.getresponse()
                    response.read()
                except (OSError, http.client.HTTPException):
                    errors += 1
                    conn.close()
                    conns.pop(port, None)
                    continue
                mine.append(time.perf_counter() - now)
                seen[response.status] += 1
                if response.will_close:
                    conn.close()
                    conns.pop(port, None)
        finally:
            for conn in conns.values():
                conn.close()
            with lock:
                latencies.extend(mine)
                statuses.update(seen)
                totals["errors"] = int(totals["errors"]) + errors

    threads = [threading.Thread(target=worker, daemon=True) for _ in range(concurrency)]
    for thread in threads:
        thread.start()
    started = time.perf_counter()
    deadline[0] = started + duration
    gate.wait()
    for thread in threads:
        thread.join(duration + REQUEST_TIMEOUT + 5)
    elapsed = time.perf_counter() - started
    return RoundResult(kind, elapsed, latencies, statuses, int(totals["errors"]),
                       bool(totals["exhausted"]))


class Signer:
    """The verified mix, signed for the instance each request will go to."""

    def __init__(self, creds: dict[str, str], request_id: str, pairing_id: str) -> None:
        self.client = Client(creds["key"], client_secret=creds["secret"])
        self.gets = [f"/v1/authentication_requests/{request_id}", f"/v1/pairings/{pairing_id}"]
        self.initiate = urlencode({"pairing_id": pairing_id, "terminal_name": "Bench terminal"})

    def one(self, index: int, port: int) -> Prepared:
        """Request ``index`` of the mix (two GETs of each kind, then an initiate)."""
        host = f"127.0.0.1:{port}"
        turn = index % 5
        if turn == 4:
            path = "/v1/authentication_requests/initiate"
            _, headers, _ = self.client.sign(
                f"http://{host}{path}", http_method="POST", body=self.initiate,
                headers={"Content-Type": FORM},
            )  # fmt: skip
            body = self.initiate.encode()
        else:
            path = self.gets[turn % 2]
            _, headers, _ = self.client.sign(f"http://{host}{path}", http_method="GET")
            body = b""
        return "POST" if body else "GET", path, {
            **headers, "Host": host, "Accept": "application/json"
        }, body

    def many(self, n: int, ports: list[int]) -> list[Prepared]:
        return [self.one(i, ports[i % len(ports)]) for i in range(n)]

    def reads(self, n: int, ports: list[int]) -> list[Prepared]:
        """``n`` request status reads (turn 0 of the mix), for ``ports`` in turn."""
        return [self.one(0, ports[i % len(ports)]) for i in range(n)]


def _gets(path: str, n: int, ports: list[int]) -> list[Prepared]:
    """``n`` unsigned ``GET path`` requests, for ``ports`` in turn."""
    return [
        ("GET", path, {"Host": f"127.0.0.1:{ports[i % len(ports)]}",
                       "Accept": "application/json"}, b"")
        for i in range(n)
    ]


def _checked(result: RoundResult) -> RoundResult:
    if result.errors or set(result.statuses) != {200}:
        raise RuntimeError(
            f"{result.kind}: {result.errors} errors, statuses {dict(result.statuses)}"
        )
    return result


def _instances_cpu(cluster: ServiceCluster) -> float:
    """CPU seconds used so far by the instances' processes (masters and workers)."""
    return sum(
        process_tree_cpu(instance.process.pid)
        for instance in cluster.instances if instance.process is not None
    )  # fmt: skip


def _nonces(cluster: ServiceCluster) -> int:
    """OAuth nonces of the requester recorded in the service's database (one per
    verified call; the floor's are under a key of their own)."""
    return int(cluster.database.scalar(
        "SELECT count(*) FROM toopher_server_nonce WHERE key = %s", [cluster.requester["key"]]
    ))


def _paired(base_url: str, creds: dict[str, str]) -> tuple[str, str]:
    """A pairing allowed on a device that signs like the authenticator, and one
    authentication request on it: their ids."""
    import toopher
    from toopher_server.testing import TestPhone

    phone = TestPhone(base_url, label="Benchmark phone")
    api = toopher.ToopherApi(creds["key"], creds["secret"], api_url=f"{base_url}/v1")
    try:
        phone.enrol()
        pairing = api.pair(phone.new_phrase(), "bench-user")
        phone.allow_pairing(pairing.id)
        request = api.authenticate(pairing.id, "Bench terminal")
        return str(request.id), str(pairing.id)
    finally:
        api.close()
        phone.close()


def server_ratio(env: Environment, counts: Counts, report: Report) -> None:
    """Verified API calls/s of two service instances on PostgreSQL over a bare view's."""
    database_url, cache_url = services()
    threads, duration = counts.server_concurrency, counts.server_round_s
    with tempfile.TemporaryDirectory(prefix="toopher-bench-server-") as tmp:
        cluster = ServiceCluster(Path(tmp), database_url=database_url, cache_url=cache_url,
                                 settings=SETTINGS, prefix="toopher_bench_server")
        try:
            ports = [instance.port for instance in cluster.instances if instance.port]
            request_id, pairing_id = _paired(cluster.urls[0], cluster.requester)
            signer = Signer(cluster.requester, request_id, pairing_id)
            make: dict[str, Callable[[int], list[Prepared]]] = {
                "verified": lambda n: signer.many(n, ports),
                "reads": lambda n: signer.reads(n, ports),
                "bare": lambda n: _gets(BARE_PATH, n, ports),
                "floor": lambda n: _gets(f"{FLOOR_PATH}?id={request_id}", n, ports),
            }
            # Warm-up (connections, imports, caches) and the rate that sizes the rounds.
            warm = _checked(round_robin(ports, make["verified"](threads * 20),
                                        concurrency=threads, duration=30, kind="verified"))
            for kind in KINDS[1:]:
                _checked(round_robin(ports, make[kind](threads * 20), concurrency=threads,
                                     duration=30, kind=kind))
            room = max(warm.rps, 100.0) * duration * 2.5
            nonces_before = _nonces(cluster)
            runs: dict[str, list[RoundResult]] = {kind: [] for kind in KINDS}
            for index in range(counts.server_rounds):
                for kind in KINDS if index % 2 == 0 else KINDS[::-1]:
                    prepared = make[kind](math.ceil(room * PREPARED_FACTOR[kind]))
                    cpu = _instances_cpu(cluster)
                    result = _checked(round_robin(
                        ports, prepared, concurrency=threads, duration=duration, kind=kind))
                    result.server_cpu = _instances_cpu(cluster) - cpu
                    runs[kind].append(result)
            nonces = _nonces(cluster) - nonces_before
            problems = [line for i in cluster.instances for line in i.tracebacks()]
        finally:
            cluster.stop()
    _report(report, runs, counts, nonces, problems)


def _ratios(runs: dict[str, list[RoundResult]], kind: str) -> list[float]:
    """Each round's calls/s of ``kind`` over the bare view's in the same round."""
    return [r.rps / b.rps for r, b in zip(runs[kind], runs["bare"], strict=True)]


def _report(
    report: Report, runs: dict[str, list[RoundResult]], counts: Counts, nonces: int,
    problems: list[str],
) -> None:
    threads = counts.server_concurrency
    rate = {kind: median([r.rps for r in rounds]) for kind, rounds in runs.items()}
    figures = {kind: bootstrap_median_ci(_ratios(runs, kind)) for kind in KINDS if kind != "bare"}
    ratio, low, high = figures["verified"]
    latency = {
        kind: (percentile([x for r in rounds for x in r.latencies], 50) * 1000,
               percentile([x for r in rounds for x in r.latencies], 99) * 1000)
        for kind, rounds in runs.items()
    }  # fmt: skip
    answered = sum(r.ok for kind in ("verified", "reads") for r in runs[kind])
    cpu_ms = {
        kind: 1000 * sum(r.server_cpu for r in rounds) / max(1, sum(r.ok for r in rounds))
        for kind, rounds in runs.items()
    }
    short = [r.kind for rounds in runs.values() for r in rounds if r.exhausted]
    report.raw["server_ratio"] = {
        "concurrency": threads,
        "round_s": counts.server_round_s,
        "rates": rate,
        "ratio": ratio,
        "ratio_ci95": [low, high],
        "per_round_ratios": _ratios(runs, "verified"),
        "ratios_by_kind": {kind: list(figure) for kind, figure in figures.items()},
        "per_round_rates": {k: [r.rps for r in rounds] for k, rounds in runs.items()},
        "p50_p99_ms": latency,
        "server_cpu_ms_per_call": cpu_ms,
        "verified_answered": answered,
        "nonces_recorded": nonces,
        "rounds_out_of_requests": short,
        "server_errors": problems[:20],
    }
    report.add(
        Row(
            "Service",
            f"Verified API calls/s / bare Django JSON view, toopher-server serve x 2 on "
            f"PostgreSQL, {threads} clients",
            f"{ratio:.2f} [{low:.2f}, {high:.2f}] ({rate['verified']:.0f} / "
            f"{rate['bare']:.0f} req/s)",
            target=f">= {RATIO_TARGET}",
            met=ratio >= RATIO_TARGET and not problems,
            note=f"{counts.server_rounds} rounds of {counts.server_round_s:g} s per kind, "
            "in turn; median of the rounds' ratios [95 % bootstrap interval]; mix: "
            "2 request status, 2 pairing status, 1 initiate, each signed beforehand with "
            "its own nonce, request k to instance k mod 2; gunicorn 2 workers x 8 threads "
            "per instance; PostgreSQL and Redis on the same machine"
            + (f"; ran out of prepared requests in {', '.join(short)} rounds" if short else "")
            + (f"; {len(problems)} error lines in the instances' logs" if problems else ""),
        )
    )
    for kind, what, note in (
        ("reads", "Request status reads alone (the sandbox figure's call), same rounds", ""),
        ("floor", "Floor: a plain view making a verified read's two statements (nonce "
                  "INSERT, one-row SELECT), no OAuth, same rounds",
         "no verified call can reach a higher ratio on this stack"),
    ):
        middle, low, high = figures[kind]
        report.add(Row(
            "Service", f"{what} / bare view",
            f"{middle:.2f} [{low:.2f}, {high:.2f}] ({rate[kind]:.0f} req/s)", note=note,
        ))  # fmt: skip
    report.add(
        Row(
            "Service",
            "Server CPU per call, verified / reads / bare / floor (both instances, all rounds)",
            " / ".join(f"{cpu_ms[kind]:.2f}" for kind in KINDS)
            + f" ms (one core: about {1000 / cpu_ms['verified']:.0f} verified calls/s)"
            if cpu_ms["verified"] > 0 else "not measured",
            note="user + system CPU of the gunicorn masters and workers, read from /proc "
            "around each round; PostgreSQL's and Redis's own CPU is not in it",
        )
    )
    report.add(
        Row(
            "Service",
            f"Latency p50 / p99, verified and bare, {threads} clients",
            f"{latency['verified'][0]:.1f} / {latency['verified'][1]:.1f} ms; "
            f"{latency['bare'][0]:.1f} / {latency['bare'][1]:.1f} ms",
        )
    )
