"""The HTTP figures, against gunicorn on 127.0.0.1.

* middleware overhead: a minimal page for a logged-in, non-pending session, served
  by the same project with and without django_toopher (alternating runs);
* status poll cost: the pending login's status endpoint against a bare view that
  reads the same session (alternating runs), and the session writes polls cause;
* tabs: 1, 10, 100 threads share one pending login's cookies and poll like
  pending.js; the sandbox counts the upstream API calls.
"""

from __future__ import annotations

import http.client
import json
import subprocess
import sys
import threading
import time
from typing import Any

from . import loadgen
from .accounts import Browser, paired_user, pending_request_ids
from .config import Counts
from .report import Report, Row
from .servers import ROOT, Environment, Site
from .stats import bootstrap_median_ci, median, pair_ratios

HELLO = "/bench/hello/"
PROBE = "/bench/session/"
STATUS = "/toopher/pending/status/"
#: The in-process CPU ratio (without / with): the 95 % interval's lower bound.
MIDDLEWARE_TARGET = 0.99


def _check_page(site: Site, cookies: dict[str, str], expected: str) -> None:
    conn = loadgen.Connection(site.port)
    try:
        status, _head, body = conn.get(
            HELLO, {"Host": f"127.0.0.1:{site.port}", "Cookie": loadgen.cookie_header(cookies)}
        )
    finally:
        conn.close()
    if status != 200 or body.decode() != f"hello {expected}":
        raise RuntimeError(f"{site.name}: {HELLO} answered {status} {body[:80]!r}")


def _alternate(
    counts: Counts, rounds: int, runs: dict[str, Any]
) -> dict[str, list[loadgen.LoadResult]]:
    """Run each named load in turn, ``rounds`` times, the order flipped every round
    so that drift (CPU clock, caches, the other process) falls on both alike."""
    names = list(runs)
    results: dict[str, list[loadgen.LoadResult]] = {name: [] for name in names}
    for name in names:  # warm-up: connections, caches, the session row in the page cache
        runs[name](max(50, counts.concurrency * 10))
    for index in range(rounds):
        order = names if index % 2 == 0 else list(reversed(names))
        for name in order:
            results[name].append(runs[name](None))
    return results


def _load(
    counts: Counts, site: Site, path: str, cookies: dict[str, str], total: int
) -> Any:
    def run(n: int | None) -> loadgen.LoadResult:
        cpu_before = site.cpu_seconds()
        result = loadgen.run(
            site.port,
            path,
            total=n or total,
            concurrency=counts.concurrency,
            cookies=cookies,
            time_cap=counts.time_cap,
        )
        if result.errors or result.ok != result.sent:
            raise RuntimeError(
                f"{site.name} {path}: {result.errors} errors, statuses {dict(result.statuses)}"
            )
        result.server_cpu = site.cpu_seconds() - cpu_before
        return result

    return run


def _cpu_per_request(results: list[loadgen.LoadResult]) -> float:
    requests = sum(r.sent for r in results)
    return sum(r.server_cpu for r in results) / requests if requests else float("nan")


def call_counts(
    env: Environment, path: str, cookies: dict[str, str], *, toopher: bool, **extra: str
) -> dict:
    """Function calls and queries per request of ``path``, in-process (deterministic)."""
    proc = subprocess.run(  # noqa: S603 (our own interpreter and module)
        [sys.executable, "-m", "benchmarks.callcount", "--path", path,
         "--cookie", loadgen.cookie_header(cookies)],
        cwd=ROOT,
        env=dict(env.env, BENCH_TOOPHER="1" if toopher else "0", **extra),
        capture_output=True,
        text=True,
        timeout=120,
    )
    if proc.returncode != 0:
        raise RuntimeError(f"callcount failed:\n{proc.stderr[-2000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def middleware_overhead(env: Environment, counts: Counts, report: Report) -> None:
    """Requests per second of a minimal page, with django_toopher / without it."""
    assert env.toopher_site and env.plain_site
    user = paired_user(env, "mw-user")
    browser = Browser(env.toopher_site)
    browser.verified_login(env, user)  # password, push, approve, granted: not pending
    cookies = {"sessionid": browser.cookies()["sessionid"]}
    for site in (env.plain_site, env.toopher_site):
        _check_page(site, cookies, user.username)
    before = env.api_mark()
    results = _alternate(
        counts,
        counts.middleware_rounds,
        {
            "with": _load(counts, env.toopher_site, HELLO, cookies, counts.middleware_requests),
            "without": _load(counts, env.plain_site, HELLO, cookies, counts.middleware_requests),
        },
    )
    api_calls = env.api_calls_since(before)
    ratios = [w.rps / wo.rps for w, wo in zip(results["with"], results["without"], strict=True)]
    ratio = median(ratios)
    with_rps = median([r.rps for r in results["with"]])
    without_rps = median([r.rps for r in results["without"]])
    report.raw["middleware"] = {
        "ratios": ratios,
        "rps_with": [r.rps for r in results["with"]],
        "rps_without": [r.rps for r in results["without"]],
        "p50_with_ms": median([r.p50 * 1000 for r in results["with"]]),
        "p50_without_ms": median([r.p50 * 1000 for r in results["without"]]),
        "api_calls": api_calls,
    }
    report.add(
        Row(
            "Middleware",
            "Minimal page, logged-in non-pending session: req/s without / with django_toopher",
            f"{without_rps:.0f} / {with_rps:.0f}",
            note=f"{counts.middleware_rounds} rounds x {counts.middleware_requests} requests "
            f"per app, {counts.concurrency} client threads; per-round ratios "
            + ", ".join(f"{r:.3f}" for r in ratios),
        )
    )
    report.add(
        Row(
            "Middleware",
            "Two-process throughput ratio with / without django_toopher (median of "
            "rounds; a sanity check, see the in-process ratio)",
            f"{ratio:.3f}",
        )
    )
    cpu_with = _cpu_per_request(results["with"])
    cpu_without = _cpu_per_request(results["without"])
    report.raw["middleware"]["server_cpu_ms_per_request"] = {
        "with": cpu_with * 1000,
        "without": cpu_without * 1000,
    }
    report.add(
        Row(
            "Middleware",
            "Server CPU per request without / with django_toopher (all rounds)",
            f"{cpu_without * 1000:.2f} / {cpu_with * 1000:.2f} ms "
            f"(throughput-equivalent ratio {cpu_without / cpu_with:.3f})",
            note="CPU time of the gunicorn process, read from /proc before and after each "
            "run: less sensitive than wall-clock throughput to other work on the machine",
        )
    )
    _in_process_ratio(env, counts, report, cookies, user.username)
    counted = {
        name: call_counts(env, HELLO, cookies, toopher=name == "with")
        for name in ("without", "with")
    }
    for name, data in counted.items():
        if not data["status"].startswith("200") or user.username not in data["body"]:
            raise RuntimeError(f"callcount {name}: {data}")
    report.raw["middleware"]["in_process"] = counted
    extra_calls = counted["with"]["calls_per_request"] - counted["without"]["calls_per_request"]
    extra_queries = (
        counted["with"]["queries_per_request"] - counted["without"]["queries_per_request"]
    )
    report.add(
        Row(
            "Middleware",
            "Python function calls per request without / with django_toopher (in-process)",
            f"{counted['without']['calls_per_request']:.0f} / "
            f"{counted['with']['calls_per_request']:.0f} ({extra_calls:+.0f})",
            note="cProfile's call count through the WSGI handler: a count, not a timing, "
            "so other work on the machine cannot move it",
        )
    )
    report.add(
        Row(
            "Middleware",
            "Extra SQL queries per request with django_toopher",
            f"{extra_queries:+d} ({counted['with']['queries_per_request']} vs "
            f"{counted['without']['queries_per_request']})",
            "0",
            extra_queries == 0,
        )
    )
    report.add(
        Row(
            "Middleware",
            "Upstream API calls during those requests",
            str(api_calls),
            "0",
            api_calls == 0,
        )
    )


def in_process(env: Environment, *args: str, timeout: float = 300, **extra: str) -> dict:
    """``python -m benchmarks.inprocess <args>`` with the site's environment; its JSON."""
    proc = subprocess.run(  # noqa: S603 (our own interpreter and module)
        [sys.executable, "-m", "benchmarks.inprocess", *args],
        cwd=ROOT,
        env=dict(env.env, BENCH_TOOPHER="1", **extra),
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    if proc.returncode != 0:
        raise RuntimeError(f"benchmarks.inprocess {args[0]} failed:\n{proc.stderr[-3000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def _in_process_ratio(
    env: Environment, counts: Counts, report: Report, cookies: dict[str, str], username: str
) -> None:
    """The middleware's cost in one process: two handlers, requests alternated one by one,
    CPU time per request; the median of the per-pair ratios with a bootstrap interval."""
    data = in_process(
        env, "middleware", "--path", HELLO, "--cookie", loadgen.cookie_header(cookies),
        "--expect", f"hello {username}", "--pairs", str(counts.inprocess_pairs),
        "--warmup", str(max(50, counts.inprocess_pairs // 20)),
    )
    with_ns, without_ns = data["with_ns"], data["without_ns"]
    ratios = pair_ratios(without_ns, with_ns)
    ratio, low, high = bootstrap_median_ci(ratios, resamples=counts.bootstrap_resamples)
    control, control_low, control_high = bootstrap_median_ci(
        pair_ratios(data["control_ns"], with_ns), resamples=counts.bootstrap_resamples
    )
    cpu_with, cpu_without = median(with_ns) / 1000, median(without_ns) / 1000
    report.raw["middleware"]["in_process_cpu"] = {
        "pairs": len(ratios),
        "median_us_with": cpu_with,
        "median_us_without": cpu_without,
        "ratio_without_over_with": ratio,
        "ci95": [low, high],
        "queries_with": data["queries_with"],
        "queries_without": data["queries_without"],
        "mean_us_with": sum(with_ns) / len(with_ns) / 1000,
        "mean_us_without": sum(without_ns) / len(without_ns) / 1000,
        "own_ns": data["own_ns"],
        "control_ratio": control,
        "control_ci95": [control_low, control_high],
    }
    report.add(
        Row(
            "Middleware",
            "In-process CPU per request without / with ToopherMiddleware (median, "
            "thread_time_ns)",
            f"{cpu_without:.1f} / {cpu_with:.1f} us",
            note=f"{len(ratios)} rounds of requests alternated one by one (A B C, C B A, "
            "...) through three WSGI handlers built from the same settings in one process, "
            "the second without ToopherMiddleware, the third the A/A control; CPU time of "
            "the serving thread only",
        )
    )
    report.add(
        Row(
            "Middleware",
            "In-process CPU ratio without / with ToopherMiddleware (median of per-pair "
            "ratios, 95 % bootstrap CI)",
            f"{ratio:.4f} [{low:.4f}, {high:.4f}]",
            f"CI low >= {MIDDLEWARE_TARGET}",
            low >= MIDDLEWARE_TARGET,
            note=f"{counts.bootstrap_resamples} bootstrap resamples of the per-pair ratios "
            "(seeded); 1.0 means the middleware costs nothing, 0.99 one percent more CPU",
        )
    )
    report.add(
        Row(
            "Middleware",
            "A/A control: the same ratio between two identical handlers with "
            "ToopherMiddleware (95 % bootstrap CI)",
            f"{control:.4f} [{control_low:.4f}, {control_high:.4f}]",
            note="a third handler, built like the first, alternated with the other two: "
            "what the method reads when nothing differs (expect an interval around 1.0)",
        )
    )
    report.add(
        Row(
            "Middleware",
            "ToopherMiddleware's own CPU per request of a non-pending session (alone, "
            "around a view that answers at once)",
            f"{data['own_ns'] / 1000:.2f} us ({data['own_ns'] / 10 / cpu_with:.3f} % of the "
            "page)",
            note="best of 5 runs of as many calls as pairs above: what the middleware "
            "itself does (one cookie-name lookup, one attribute check)",
        )
    )


def status_poll_cost(env: Environment, counts: Counts, report: Report) -> None:
    """One status poll of a pending login against a bare view reading the same session."""
    assert env.toopher_site
    user = paired_user(env, "poll-user")
    browser = Browser(env.toopher_site)
    browser.begin_pending_login(user.username)
    cookies = browser.cookies()
    bare = {k: v for k, v in cookies.items() if k != "toopher_pending"}
    interval = _interval()
    before = env.api_mark()
    started = time.monotonic()
    results = _alternate(
        counts,
        counts.poll_rounds,
        {
            "status": _load(counts, env.toopher_site, STATUS, cookies, counts.poll_requests),
            "bare": _load(counts, env.toopher_site, PROBE, bare, counts.poll_requests),
        },
    )
    elapsed = time.monotonic() - started
    api_calls = env.api_calls_since(before)
    still = browser.status()
    if still.get("status") != "pushed":
        raise RuntimeError(f"the pending login did not stay pending: {still}")
    costs = [b.rps / s.rps for s, b in zip(results["status"], results["bare"], strict=True)]
    cost = median(costs)
    polls = sum(r.sent for r in results["status"])
    writes = sum(r.session_writes for r in results["status"])
    intervals = int(elapsed // interval) + 1
    report.raw["status_poll"] = {
        "cost_ratios": costs,
        "rps_status": [r.rps for r in results["status"]],
        "rps_bare": [r.rps for r in results["bare"]],
        "polls": polls,
        "session_writes": writes,
        "api_calls": api_calls,
        "elapsed_s": elapsed,
    }
    report.add(
        Row(
            "Status poll",
            "Bare session view / status poll: req/s",
            f"{median([r.rps for r in results['bare']]):.0f} / "
            f"{median([r.rps for r in results['status']]):.0f}",
            note=f"{counts.poll_rounds} rounds x {counts.poll_requests} requests per view, "
            f"{counts.concurrency} client threads, one pending login; per-round cost "
            "ratios " + ", ".join(f"{c:.2f}" for c in costs),
        )
    )
    report.add(
        Row(
            "Status poll",
            "Cost of one status poll / one bare session-reading request (median of rounds)",
            f"{cost:.2f}x",
        )
    )
    cpu_status = _cpu_per_request(results["status"])
    cpu_bare = _cpu_per_request(results["bare"])
    report.raw["status_poll"]["server_cpu_ms_per_request"] = {
        "status": cpu_status * 1000,
        "bare": cpu_bare * 1000,
    }
    report.add(
        Row(
            "Status poll",
            "Server CPU per request: bare session view / status poll (all rounds)",
            f"{cpu_bare * 1000:.2f} / {cpu_status * 1000:.2f} ms "
            f"({cpu_status / cpu_bare:.2f}x)",
        )
    )
    counted = {
        "bare": call_counts(env, PROBE, bare, toopher=True),
        "status": call_counts(env, STATUS, cookies, toopher=True, BENCH_POLL_INTERVAL="600"),
    }
    if '"pushed"' not in counted["status"]["body"]:
        raise RuntimeError(f"callcount status: {counted['status']}")
    report.raw["status_poll"]["in_process"] = counted
    report.add(
        Row(
            "Status poll",
            "Python function calls / SQL queries per request: bare view vs status poll "
            "answered from the cache (in-process)",
            f"{counted['bare']['calls_per_request']:.0f} / "
            f"{counted['bare']['queries_per_request']} vs "
            f"{counted['status']['calls_per_request']:.0f} / "
            f"{counted['status']['queries_per_request']}",
        )
    )
    report.add(
        Row(
            "Status poll",
            "Session writes by polls that change nothing",
            f"{writes} of {polls} polls",
            "0",
            writes == 0,
        )
    )
    report.add(
        Row(
            "Status poll",
            f"Upstream API calls during that load ({elapsed:.1f} s, "
            f"at most {intervals} intervals of {interval} s)",
            str(api_calls),
            f"<= {intervals}",
            api_calls <= intervals,
        )
    )


def _interval() -> int:
    """The poll interval the site announces (without asking the status endpoint,
    which would count as a poll)."""
    from django_toopher.app_settings import app_settings

    return app_settings.POLL_INTERVAL


def poll_tabs(
    port: int, cookies: dict[str, str], tabs: int, interval: float, duration: float
) -> dict[str, Any]:
    """``tabs`` threads poll the status endpoint like pending.js does (a GET, then a
    pause of one interval), staggered over the first interval, for ``duration``
    seconds. Returns what they saw."""
    headers = {
        "Host": f"127.0.0.1:{port}",
        "Accept": "application/json",
        "Cookie": loadgen.cookie_header(cookies),
    }
    lock = threading.Lock()
    seen = {"polls": 0, "errors": 0, "not_pending": 0}
    start = time.perf_counter() + 0.2
    end = start + duration

    def tab(index: int) -> None:
        conn = loadgen.Connection(port)
        polls = errors = other = 0
        next_poll = start + index * interval / tabs
        try:
            while next_poll < end:
                pause = next_poll - time.perf_counter()
                if pause > 0:
                    time.sleep(pause)
                try:
                    status, _head, body = conn.get(STATUS, headers)
                    data = json.loads(body)
                except (OSError, ValueError, http.client.HTTPException):
                    errors += 1
                    conn.close()
                else:
                    polls += 1
                    if status != 200 or data.get("status") != "pushed":
                        other += 1
                next_poll = time.perf_counter() + interval
        finally:
            conn.close()
            with lock:
                seen["polls"] += polls
                seen["errors"] += errors
                seen["not_pending"] += other

    threads = [threading.Thread(target=tab, args=(i,), daemon=True) for i in range(tabs)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(duration + 30)
    return seen


def tabs_upstream_calls(env: Environment, counts: Counts, report: Report) -> None:
    """Upstream API calls per poll interval when N tabs poll one pending login."""
    assert env.toopher_site
    results = {}
    for tabs in counts.tabs:
        user = paired_user(env, f"tabs-{tabs}")
        browser = Browser(env.toopher_site)
        pushes_before = len(pending_request_ids(env, user))
        browser.begin_pending_login(user.username)
        interval = _interval()
        # K intervals minus a quarter: the K-th upstream call (at about (K-1) x
        # (interval + a few ms)) falls inside, the (K+1)-th (about K x interval) not.
        duration = counts.tab_intervals * interval - interval / 4
        before = env.api_mark()
        seen = poll_tabs(env.toopher_site.port, browser.cookies(), tabs, interval, duration)
        calls = env.api_calls_since(before)
        pushes = len(pending_request_ids(env, user)) - pushes_before
        per_interval = calls / counts.tab_intervals
        results[tabs] = dict(seen, calls=calls, per_interval=per_interval, pushes=pushes)
        problems = []
        if seen["errors"] or seen["not_pending"]:
            problems.append(f"{seen['errors']} errors, {seen['not_pending']} odd answers")
        report.add(
            Row(
                "Tabs",
                f"Upstream API calls per poll interval, {tabs} tab(s) polling one pending "
                f"login ({seen['polls']} polls in {counts.tab_intervals} intervals)",
                f"{per_interval:.2f} ({calls} calls)",
                "1",
                per_interval == 1 and not problems,
                "; ".join(problems),
            )
        )
        report.add(
            Row(
                "Tabs",
                f"Pushes sent for that pending login ({tabs} tab(s))",
                str(pushes),
                "1",
                pushes == 1,
            )
        )
    report.raw["tabs"] = results
