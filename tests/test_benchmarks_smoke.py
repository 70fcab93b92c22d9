"""Smoke test of the benchmark harness (``python -m benchmarks --smoke``).

It runs every piece with tiny counts against real processes on 127.0.0.1 (the
standalone sandbox, gunicorn with and without django_toopher, a headless Chromium
when there is one) and checks that the table is produced. No timing is asserted:
only counts, which do not depend on the machine. The one exact count is the
budget of the status endpoint: however many tabs poll one pending login, the
sandbox sees exactly one upstream call per poll interval.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SMOKE_TABS = {"1", "5"}
SMOKE_INTERVALS = 2


@pytest.fixture(scope="module")
def smoke(tmp_path_factory: pytest.TempPathFactory) -> dict:
    out = tmp_path_factory.mktemp("bench")
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("DJANGO_SETTINGS_MODULE", "DATABASE_URL", "CACHE_URL")
    }
    proc = subprocess.run(
        [
            sys.executable, "-m", "benchmarks", "--smoke",
            "--json", str(out / "bench.json"), "--results", str(out / "results.md"),
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-5000:]
    return {
        "stdout": proc.stdout,
        "markdown": (out / "results.md").read_text(),
        "data": json.loads((out / "bench.json").read_text()),
    }


@pytest.mark.slow
def test_the_table_is_printed_and_written(smoke: dict) -> None:
    header = "| Group | Figure | Value | Target | Met |"
    assert header in smoke["stdout"]
    markdown = smoke["markdown"]
    assert header in markdown
    for heading in ("## Machine", "## Figures", "**Targets:**"):
        assert heading in markdown
    assert "- cores:" in markdown and "- django:" in markdown
    groups = {row["group"] for row in smoke["data"]["rows"]}
    assert {"Middleware", "Status poll", "Tabs", "Client", "Sandbox", "Approval"} <= groups


@pytest.mark.slow
def test_no_benchmark_failed(smoke: dict) -> None:
    problems = smoke["data"]["problems"]
    # Only a missing Chromium may leave a figure unmeasured.
    assert all("approval latency not measured" in text for text in problems), problems


@pytest.mark.slow
def test_tabs_cause_exactly_one_upstream_call_per_poll_interval(smoke: dict) -> None:
    tabs = smoke["data"]["raw"]["tabs"]
    assert set(tabs) == SMOKE_TABS
    for count, seen in tabs.items():
        assert seen["errors"] == 0 and seen["not_pending"] == 0, (count, seen)
        assert seen["polls"] >= SMOKE_INTERVALS * int(count) - int(count), (count, seen)
        assert seen["calls"] == SMOKE_INTERVALS, (count, seen)
        assert seen["per_interval"] == 1, (count, seen)
        assert seen["pushes"] == 1, (count, seen)


@pytest.mark.slow
def test_counted_budgets(smoke: dict) -> None:
    raw = smoke["data"]["raw"]
    assert raw["middleware"]["api_calls"] == 0
    inproc = raw["middleware"]["in_process"]
    assert inproc["with"]["queries_per_request"] == inproc["without"]["queries_per_request"]
    assert raw["status_poll"]["session_writes"] == 0
    assert raw["status_poll"]["in_process"]["status"]["queries_per_request"] == 1
    assert raw["sandbox"]["verified_at_sandbox"] == raw["sandbox"]["calls"]
