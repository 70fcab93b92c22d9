"""The client and the sandbox, against the standalone sandbox on 127.0.0.1.

* ``get_authentication_status`` calls per second with connection reuse (one client,
  one keep-alive session) against a new connection per call (the session's
  connections closed after every call);
* the client's own overhead: the same call through ``ToopherApi`` against a bare
  requests-oauthlib call (one ``requests.Session`` + ``OAuth1``, ``.json()``);
* the sandbox: verified API calls per second from several threads, p50 and p99.
"""

from __future__ import annotations

import cProfile
import pstats
from collections.abc import Callable
from typing import Any

import requests
from requests_oauthlib import OAuth1

import toopher

from . import loadgen
from .config import Counts
from .report import Report, Row
from .servers import Environment
from .stats import median

TIMEOUT = (5.0, 15.0)


def _pending_request(env: Environment, creds: dict[str, str], username: str) -> str:
    """A pending authentication request of a freshly paired phone, for ``creds``."""
    assert env.control is not None
    phone = env.control.new_phone(f"{username}'s phone")
    with toopher.ToopherApi(creds["key"], creds["secret"], creds["api_url"]) as api:
        pairing = api.pair(phone["pairing_phrase"], username)
        env.control.respond_pairing(pairing.id, allow=True)
        auth = api.authenticate(pairing.id, "Benchmark terminal", "Log in")
        if not auth.pending:
            raise RuntimeError("the benchmark's authentication request is not pending")
        return auth.id


def _client_call(creds: dict[str, str], request_id: str, *, reuse: bool) -> Callable[[], Any]:
    api = toopher.ToopherApi(creds["key"], creds["secret"], creds["api_url"], timeout=TIMEOUT)
    api.session.trust_env = False

    def call() -> Any:
        status = api.get_authentication_status(request_id)
        if not reuse:
            api.session.close()  # the next call opens a new TCP connection
        return status

    call.api = api  # type: ignore[attr-defined]
    return call


def _bare_call(creds: dict[str, str], request_id: str) -> Callable[[], Any]:
    session = requests.Session()
    session.trust_env = False
    auth = OAuth1(
        creds["key"],
        client_secret=creds["secret"],
        signature_method="HMAC-SHA1",
        signature_type="AUTH_HEADER",
    )
    url = f"{creds['api_url']}/authentication_requests/{request_id}"

    def call() -> Any:
        response = session.get(url, auth=auth, timeout=TIMEOUT)
        response.raise_for_status()
        return response.json()

    call.api = session  # type: ignore[attr-defined]
    return call


def _close(call: Callable[[], Any]) -> None:
    getattr(call, "api").close()  # noqa: B009


def _function_calls(make: Callable[[], Callable[[], Any]], calls: int = 20) -> float:
    """cProfile's count of Python function calls per call (after a warm-up)."""
    call = make()
    try:
        for _ in range(5):
            call()
        profile = cProfile.Profile()
        profile.enable()
        for _ in range(calls):
            call()
        profile.disable()
    finally:
        _close(call)
    return pstats.Stats(profile).total_calls / calls  # type: ignore[attr-defined]


def _sequential(counts: Counts, variants: dict[str, Callable[[], Callable[[], Any]]]) -> Any:
    """Alternate the variants over ``client_rounds`` rounds; one thread, one client each."""
    names = list(variants)
    results: dict[str, list[loadgen.CallResult]] = {name: [] for name in names}
    for name in names:  # warm-up
        loadgen.run_calls(variants[name], total=10, teardown=_close)
    for index in range(counts.client_rounds):
        for name in names if index % 2 == 0 else list(reversed(names)):
            result = loadgen.run_calls(
                variants[name], total=counts.client_calls, time_cap=counts.time_cap,
                teardown=_close,
            )
            if result.errors:
                raise RuntimeError(f"client benchmark '{name}': {result.errors} errors")
            results[name].append(result)
    return results


def client_figures(env: Environment, counts: Counts, report: Report) -> None:
    assert env.control is not None
    creds = env.control.new_requester("client benchmark")
    request_id = _pending_request(env, creds, "client-bench")

    conn = _sequential(
        counts,
        {
            "reuse": lambda: _client_call(creds, request_id, reuse=True),
            "new": lambda: _client_call(creds, request_id, reuse=False),
        },
    )
    reuse = median([r.rate for r in conn["reuse"]])
    new = median([r.rate for r in conn["new"]])
    ratios = [a.rate / b.rate for a, b in zip(conn["reuse"], conn["new"], strict=True)]
    report.raw["client_connections"] = {
        "reuse_rate": [r.rate for r in conn["reuse"]],
        "new_rate": [r.rate for r in conn["new"]],
        "ratios": ratios,
    }
    report.add(
        Row(
            "Client",
            "get_authentication_status calls/s: connection reuse / new connection per call",
            f"{reuse:.0f} / {new:.0f} (x{median(ratios):.2f})",
            note=f"{counts.client_rounds} rounds x {counts.client_calls} calls per variant, "
            "one thread, against the standalone sandbox",
        )
    )

    over = _sequential(
        counts,
        {
            "client": lambda: _client_call(creds, request_id, reuse=True),
            "bare": lambda: _bare_call(creds, request_id),
        },
    )
    client_rate = median([r.rate for r in over["client"]])
    bare_rate = median([r.rate for r in over["bare"]])
    ratios = [a.rate / b.rate for a, b in zip(over["client"], over["bare"], strict=True)]
    ratio = median(ratios)
    overhead_us = (1 / client_rate - 1 / bare_rate) * 1e6
    report.raw["client_overhead"] = {
        "client_rate": [r.rate for r in over["client"]],
        "bare_rate": [r.rate for r in over["bare"]],
        "ratios": ratios,
        "overhead_us": overhead_us,
    }
    report.add(
        Row(
            "Client",
            "ToopherApi / bare requests-oauthlib call: calls/s ratio (median of rounds)",
            f"{ratio:.3f} ({client_rate:.0f} / {bare_rate:.0f} calls/s, "
            f"{overhead_us:+.0f} us per call)",
            note="wall-clock, dominated by the sandbox's answer time; the CPU and call "
            "counts below isolate the client's own work",
        )
    )
    cpu = {
        name: sum(r.cpu for r in over[name]) / sum(r.calls for r in over[name])
        for name in ("client", "bare")
    }
    calls = {
        "client": _function_calls(lambda: _client_call(creds, request_id, reuse=True)),
        "bare": _function_calls(lambda: _bare_call(creds, request_id)),
    }
    report.raw["client_overhead"].update(cpu_us_per_call=cpu, function_calls_per_call=calls)
    report.add(
        Row(
            "Client",
            "Client-side CPU per call: bare requests-oauthlib / ToopherApi",
            f"{cpu['bare'] * 1e6:.0f} / {cpu['client'] * 1e6:.0f} us "
            f"({cpu['client'] / cpu['bare']:.2f}x)",
        )
    )
    report.add(
        Row(
            "Client",
            "Python function calls per call: bare requests-oauthlib / ToopherApi",
            f"{calls['bare']:.0f} / {calls['client']:.0f} ({calls['client'] - calls['bare']:+.0f})",
        )
    )


def sandbox_figures(env: Environment, counts: Counts, report: Report) -> None:
    assert env.control is not None
    creds = env.control.new_requester("sandbox benchmark")
    request_id = _pending_request(env, creds, "sandbox-bench")
    before = env.api_mark()
    result = loadgen.run_calls(
        lambda: _client_call(creds, request_id, reuse=True),
        total=counts.sandbox_calls,
        concurrency=counts.sandbox_concurrency,
        time_cap=counts.time_cap,
        teardown=_close,
    )
    verified = env.api_calls_since(before, creds["key"])
    report.raw["sandbox"] = {
        "calls": result.calls,
        "errors": result.errors,
        "elapsed_s": result.elapsed,
        "rate": result.rate,
        "p50_ms": result.p50 * 1000,
        "p99_ms": result.p99 * 1000,
        "verified_at_sandbox": verified,
    }
    report.add(
        Row(
            "Sandbox",
            f"Verified API calls/s (OAuth checked, {counts.sandbox_concurrency} client threads, "
            "keep-alive)",
            f"{result.rate:.0f}",
            note=f"{result.calls} calls, {result.errors} errors, {verified} nonces recorded "
            "at the sandbox",
        )
    )
    report.add(
        Row(
            "Sandbox",
            "Latency per call p50 / p99",
            f"{result.p50 * 1000:.1f} / {result.p99 * 1000:.1f} ms",
        )
    )
    if result.errors or verified != result.calls:
        report.problems.append(
            f"sandbox run: {result.errors} errors; {verified} calls verified at the sandbox "
            f"for {result.calls} answered"
        )
