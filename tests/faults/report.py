"""docs/reliability.md: the figures of the last fault run, written by the run."""

from __future__ import annotations

import datetime
import platform

from tests.scale.cluster import ROOT

from .load import Figures

PATH = ROOT / "docs" / "reliability.md"

HEAD = """# Reliability under faults

Written by `make test-faults` (tests/faults/test_faults.py); do not edit by hand.
The two-instance cluster of the scale-out test (gunicorn, PostgreSQL, Redis, the
standalone sandbox as the Toopher service) under steady login load, one fault at a
time. What an operator sees and does for each fault: [deployment.md](deployment.md#9-faults).

Columns: logins *attempted* while the fault was on and until a new login succeeded
after it; *completed* (approved, logged in); *refused* with a clear message (a 503
page or JSON error saying to try again, a final status with a message); *restarted*:
the session was lost (Redis restart, a killed connection) and the browser is back at
the password step, which works; *stuck*: none of these within 75 s (counted in the
fault during which it ended; its line under "What failed" names the one it began in);
*5xx*: responses with a 5xx status (each a clear error page or JSON error, unless
counted as *bare*); *unlocked* without an approval of the login's own request and
approvals *used twice*, from the site's audit trail and `ConsumedRequest` table
against the sandbox's record of granted requests; *pushes over*: pushes beyond one per
login attempt or retry; *recover*: seconds from the end of the fault until a new login
succeeded, with nothing restarted.
"""


def write(
    results: dict[str, Figures], *, quick: bool, threads: int, baseline: float | None
) -> None:
    rows = [
        "| fault | result | attempted | completed | refused | restarted | stuck | 5xx | bare 5xx "
        "| unlocked | used twice | pushes over | recover (s) |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for name, f in results.items():
        result = {True: "pass", False: "**FAIL**", None: "not run to the end"}[f.passed]
        recover = "never" if f.recovery_s is None else f"{f.recovery_s:.1f}"
        rows.append(
            f"| {name} | {result} | {f.attempted} | {f.completed} | {f.refused} | "
            f"{f.restarted} | {f.stuck} | {f.responses_5xx} | {f.bare_5xx} | "
            f"{f.unlocked_without_approval} | {f.approvals_used_twice} | "
            f"{f.pushes_over_limit} | {recover} |"
        )
    when = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    mode = "quick (`FAULTS_ARGS=--quick`)" if quick else "full"
    problems = [
        f"- {name}: {p}" for name, f in results.items() if not f.passed for p in f.problems[:8]
    ]
    text = "\n".join([
        HEAD,
        f"Last run: {when}, {mode}, {threads} client threads, Python "
        f"{platform.python_version()}; one login with nothing failing takes "
        f"{baseline if baseline is not None else '?'} s (password to logged in, polling "
        "every 2 s), which bounds *recover* from below.",
        "",
        *rows,
        "",
        *(["## What failed", "", *problems, ""] if problems else []),
    ])
    PATH.write_text(text)
