"""``python -m benchmarks``: run every benchmark, print the table, write results.md.

Options: ``--smoke`` (tiny counts, for the test suite), ``--results PATH`` (where
the Markdown goes; the full run writes benchmarks/results.md by default, the smoke
run and a run of some benchmarks (``--only``) nothing, as their table would replace
every other figure there), ``--json PATH`` (the figures as JSON), ``--only NAME`` (repeatable),
``--strict`` (exit 1 when a target is missed).
"""

from __future__ import annotations

import argparse
import datetime
import signal
import sys
import time
import traceback
from pathlib import Path

from . import (
    bench_approval,
    bench_client,
    bench_cluster,
    bench_growth,
    bench_http,
    bench_push,
    bench_sandbox,
    bench_secrets,
    bench_server,
    machine,
)
from .config import FULL, SMOKE
from .report import Report
from .servers import Environment

HERE = Path(__file__).resolve().parent

BENCHMARKS = {
    "middleware": bench_http.middleware_overhead,
    "poll": bench_http.status_poll_cost,
    "tabs": bench_http.tabs_upstream_calls,
    "client": bench_client.client_figures,
    "sandbox": bench_client.sandbox_figures,
    "sandbox_ratio": bench_sandbox.sandbox_ratio,
    "approval": bench_approval.approval_latency,
    "growth-polls": bench_growth.poll_growth,
    "growth-logins": bench_growth.login_growth,
    "cluster": bench_cluster.cluster_upstream_calls,
    "server": bench_server.server_ratio,
    "secrets": bench_secrets.secret_cost,
    "push": bench_push.push_figures,
}


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__)
    parser.add_argument("--smoke", action="store_true", help="tiny counts (seconds, not minutes)")
    parser.add_argument("--results", type=Path, help="write the Markdown results here")
    parser.add_argument("--json", type=Path, help="write the figures as JSON here")
    parser.add_argument("--only", action="append", choices=sorted(BENCHMARKS), help="run only")
    parser.add_argument("--strict", action="store_true", help="exit 1 when a target is missed")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    # SIGTERM unwinds like Ctrl-C, so the sandbox and gunicorn are stopped too.
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(128 + signum))
    counts = SMOKE if args.smoke else FULL
    # Only a full run replaces results.md: a smoke run's timings mean nothing, and a run
    # of some benchmarks would drop every other figure.
    results = args.results or (None if args.smoke or args.only else HERE / "results.md")
    started = time.monotonic()
    report = Report(
        date=datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        counts=counts.describe(),
        machine=machine.describe(),
    )
    failed = False
    with Environment() as env:
        env.start_sites()
        for name, bench in BENCHMARKS.items():
            if args.only and name not in args.only:
                continue
            t0 = time.monotonic()
            print(f"[bench] {name} ...", file=sys.stderr, flush=True)
            try:
                bench(env, counts, report)
            except Exception as exc:  # noqa: BLE001 (reported; the other benchmarks run)
                failed = True
                traceback.print_exc()
                report.problems.append(f"{name}: {type(exc).__name__}: {exc}")
            print(f"[bench] {name} done in {time.monotonic() - t0:.1f} s", file=sys.stderr,
                  flush=True)
    total = time.monotonic() - started
    report.counts = f"{counts.describe()} (whole run {total:.0f} s)"
    report.machine["load average at end (1/5/15 min)"] = machine.load_average()
    print(report.table())
    if report.missed:
        print("\nMISSED: " + "; ".join(row.figure for row in report.missed))
    else:
        print(f"\nAll {len(report.met)} targets met.")
    for problem in report.problems:
        print(f"PROBLEM: {problem}")
    if results:
        report.write(results)
        print(f"\nWritten to {results}")
    elif args.only and not args.smoke:
        print(f"\nNot written to {HERE / 'results.md'} (a run of some benchmarks would drop "
              "the others' figures): --results PATH writes this table")
    if args.json:
        args.json.write_text(report.as_json(), encoding="utf-8")
    if failed:
        return 2
    return 1 if args.strict and report.missed else 0


if __name__ == "__main__":
    sys.exit(main())
