"""docs/reliability.md: the figures of the last fault run, written by the run.

Two sections, each written by its own module's run: the site's cluster (:func:`write`,
tests/faults/test_faults.py) and the service's (:func:`write_service`,
tests/faults/test_service_faults.py). Each writer keeps the other's section as it is,
so a run of one module alone leaves the other's last figures in place.
"""

from __future__ import annotations

import datetime
import platform
from collections.abc import Mapping

from tests.scale.cluster import ROOT

from .load import Figures
from .service_load import ServiceFigures

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
    rows = _table(results, {
        "fault": None, "result": None, "attempted": "attempted", "completed": "completed",
        "refused": "refused", "restarted": "restarted", "stuck": "stuck",
        "5xx": "responses_5xx", "bare 5xx": "bare_5xx", "unlocked": "unlocked_without_approval",
        "used twice": "approvals_used_twice", "pushes over": "pushes_over_limit",
        "recover (s)": None,
    })
    problems = _failures(results)
    text = "\n".join([
        HEAD,
        f"Last run: {_when()}, {_mode(quick)}, {threads} client threads, Python "
        f"{platform.python_version()}; one login with nothing failing takes "
        f"{baseline if baseline is not None else '?'} s (password to logged in, polling "
        "every 2 s), which bounds *recover* from below.",
        "",
        *rows,
        "",
        *(["## What failed", "", *problems, ""] if problems else []),
    ])
    PATH.write_text(text.rstrip("\n") + "\n" + _kept(service=True))


SERVICE_HEAD = """## The service (`toopher_server`)

Written by tests/faults/test_service_faults.py. Two `toopher-server serve` instances
(gunicorn, the production settings with room in the rate limits for the load) on one
PostgreSQL and one Redis, under steady traffic: sites' signed initiates and status polls,
phones (enrolled devices with keys of their own) reading and approving with their
signature, and attacks on every cycle. One fault at a time:

- **PostgreSQL down** (stopped, started again a few seconds later): every call that
  needs the database is answered at once with a JSON 503 (API v1: `error_code` 503;
  device API: `unavailable`), logged as a warning, never a 500. No call is verified
  while the nonces cannot be recorded, so no approval takes effect and no replay gets
  through (the service fails closed). The first call after the database is back
  succeeds: a kept connection that the restart broke is checked and replaced.
  Sites see a Toopher outage for those seconds (django_toopher's `FAIL_MODE`).
- **One instance SIGKILLed** (the balancer stops sending to it a second later; it is
  started again a few seconds after): the calls in flight on it and those sent in that
  second get no answer (*lost*: a balancer retries them on the other instance); the
  other instance serves everything meanwhile. A request accepted by one instance and
  replayed to the other is refused: the nonces are in the shared database.

How many instances to run, and what one sustains: [server-limits.md](server-limits.md).

Columns: *fault*: seconds from the fault's start until it ended (the database or the
instance answering again); *calls* sent; *503* answered as a JSON 503; *bare*: a 500
or an answer that is not JSON (must be 0); *lost*: no answer (a refused or reset
connection, a timeout); *approvals* accepted, each signed by the request's own device;
*attacks* sent: approvals without a signature, approvals signed by another enrolled
device, signed approvals, signed reads and signed initiates replayed to the other
instance; *forged*: approvals without a valid signature of the request's own device
that took effect (an attack answered 2xx, or a request granted in the database with no
honest approval sent; must be 0); *replays*: replayed requests accepted (must be 0);
*recover*: seconds from the end of the fault until a verified call succeeded on every
instance.
"""


def write_service(results: dict[str, ServiceFigures], *, quick: bool, threads: int) -> None:
    """The service's section of docs/reliability.md (the site's section is kept)."""
    rows = _table(results, {
        "phase": None, "result": None, "fault (s)": "fault_s", "calls": "calls",
        "503": "unavailable_503", "bare": "bare", "lost": "lost", "approvals": "approvals",
        "attacks": "attacks", "forged": "unsigned_accepted", "replays": "replays_accepted",
        "recover (s)": None,
    })
    problems = _failures(results)
    text = "\n".join([
        SERVICE_HEAD,
        f"Last run: {_when()}, {_mode(quick)}, {threads} client threads, Python "
        f"{platform.python_version()}.",
        "",
        *rows,
        "",
        *(["### What failed", "", *problems, ""] if problems else []),
    ])
    PATH.write_text(_kept(service=False).rstrip("\n") + "\n\n" + text)


Results = Mapping[str, Figures | ServiceFigures]


def _table(results: Results, columns: dict[str, str | None]) -> list[str]:
    """The Markdown table of ``results``: the first column the phase's name, then its
    verdict, the figures named by ``columns`` (heading: attribute), last the recovery."""
    rows = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    for name, f in results.items():
        result = {True: "pass", False: "**FAIL**", None: "not run to the end"}[f.passed]
        recover = "never" if f.recovery_s is None else f"{f.recovery_s:.1f}"
        figures = [_cell(getattr(f, attr)) for attr in columns.values() if attr]
        rows.append("| " + " | ".join([name, result, *figures, recover]) + " |")
    return rows


def _cell(value: object) -> str:
    return f"{value:.1f}" if isinstance(value, float) else str(value)


def _failures(results: Results) -> list[str]:
    """The first problems of each phase that failed, as list items."""
    return [
        f"- {name}: {p}" for name, f in results.items() if not f.passed for p in f.problems[:8]
    ]


def _kept(*, service: bool) -> str:
    """The section of the file the other writer owns: the service's (from its heading
    on) or the site's (up to it); empty if the file has none."""
    try:
        current = PATH.read_text()
    except OSError:
        return ""
    head, marker, tail = current.partition(SERVICE_HEAD.splitlines()[0] + "\n")
    if service:
        return "\n" + marker + tail if marker else ""
    return head


def _when() -> str:
    return datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")


def _mode(quick: bool) -> str:
    return "quick (`FAULTS_ARGS=--quick`)" if quick else "full"
