"""The sandbox as a server: verified API calls against a bare Django JSON view.

Both are served in one run by the same standalone sandbox (waitress, the same
middleware and the same one-at-a-time database lock), from ``ratio_concurrency``
keep-alive client threads, in alternating rounds:

* verified: ``GET v1/authentication_requests/{id}``, OAuth 1.0a checked (HMAC-SHA1,
  nonce recorded, owner checked), each request signed beforehand with its own nonce
  so that the load generator's signing is not timed;
* bare: ``GET v1``, the sandbox's unsigned index, a plain ``JsonResponse``.

The figure is the median of the rounds' ratios (each round's verified rate over the
bare rate measured next to it, so that a slow spell of the machine slows both), with a
bootstrap 95 % interval (target: median at least 0.5), plus p50/p99.
"""

from __future__ import annotations

from oauthlib.oauth1 import Client

from . import loadgen
from .bench_client import _pending_request
from .config import Counts
from .report import Report, Row
from .servers import Environment
from .stats import bootstrap_median_ci, median

RATIO_TARGET = 0.5
BARE_PATH = "/v1"


def _signed(creds: dict[str, str], port: int, path: str, n: int) -> list[tuple[str, dict]]:
    """``n`` GETs of ``path``, each signed with a fresh nonce (valid for minutes)."""
    client = Client(creds["key"], client_secret=creds["secret"])
    host = f"127.0.0.1:{port}"
    prepared = []
    for _ in range(n):
        _, headers, _ = client.sign(f"http://{host}{path}", http_method="GET")
        prepared.append((path, {**headers, "Host": host, "Accept": "application/json"}))
    return prepared


def _checked(result: loadgen.LoadResult, what: str) -> loadgen.LoadResult:
    if result.errors or result.statuses.get(200, 0) != result.sent:
        raise RuntimeError(f"{what}: {result.errors} errors, statuses {dict(result.statuses)}")
    return result


def sandbox_ratio(env: Environment, counts: Counts, report: Report) -> None:
    assert env.control is not None and env.sandbox_process is not None
    creds = env.control.new_requester("sandbox ratio benchmark")
    request_id = _pending_request(env, creds, "ratio-bench")
    port = int(env.sandbox_process.base_url.rsplit(":", 1)[1])
    path = f"/v1/authentication_requests/{request_id}"
    bare_headers = {"Host": f"127.0.0.1:{port}", "Accept": "application/json"}
    n, threads = counts.ratio_requests, counts.ratio_concurrency

    def verified() -> loadgen.LoadResult:
        prepared = _signed(creds, port, path, n)
        return _checked(loadgen.run_prepared(port, prepared, concurrency=threads,
                                             time_cap=counts.time_cap), "verified")

    def bare() -> loadgen.LoadResult:
        prepared = [(BARE_PATH, bare_headers)] * n
        return _checked(loadgen.run_prepared(port, prepared, concurrency=threads,
                                             time_cap=counts.time_cap), "bare")

    loadgen.run_prepared(port, [(BARE_PATH, bare_headers)] * threads * 4, concurrency=threads)
    runs: dict[str, list[loadgen.LoadResult]] = {"verified": [], "bare": []}
    before = env.api_mark()
    for index in range(counts.ratio_rounds):
        order = (verified, bare) if index % 2 == 0 else (bare, verified)
        for run in order:
            runs[run.__name__].append(run())
    recorded = env.api_calls_since(before, creds["key"])
    rate = {name: median([r.rps for r in results]) for name, results in runs.items()}
    per_round = [v.rps / b.rps for v, b in zip(runs["verified"], runs["bare"], strict=True)]
    ratio, low, high = bootstrap_median_ci(per_round)
    latency = {
        name: (median([r.p50 for r in results]) * 1000, median([r.p99 for r in results]) * 1000)
        for name, results in runs.items()
    }
    sent = sum(r.sent for r in runs["verified"])
    report.raw["sandbox_ratio"] = {
        "concurrency": threads,
        "rates": rate,
        "ratio": ratio,
        "ratio_ci95": [low, high],
        "per_round_ratios": per_round,
        "p50_p99_ms": latency,
        "verified_sent": sent,
        "verified_at_sandbox": recorded,
    }
    report.add(
        Row(
            "Sandbox",
            f"Verified API calls/s / bare Django JSON view, same server, {threads} clients",
            f"{ratio:.2f} [{low:.2f}, {high:.2f}] ({rate['verified']:.0f} / "
            f"{rate['bare']:.0f} req/s)",
            target=f">= {RATIO_TARGET}",
            met=ratio >= RATIO_TARGET,
            note="waitress, one run; median of paired rounds [95 % interval]; "
            "requests signed beforehand",
        )
    )
    report.add(
        Row(
            "Sandbox",
            f"Latency p50 / p99, verified and bare, {threads} clients",
            f"{latency['verified'][0]:.1f} / {latency['verified'][1]:.1f} ms; "
            f"{latency['bare'][0]:.1f} / {latency['bare'][1]:.1f} ms",
        )
    )
    if recorded != sent:
        report.problems.append(f"sandbox ratio: {recorded} nonces recorded for {sent} calls")
