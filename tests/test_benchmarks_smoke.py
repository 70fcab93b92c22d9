"""Smoke test of the benchmark harness (``python -m benchmarks --smoke``).

It runs every piece with tiny counts against real processes on 127.0.0.1 (the
standalone sandbox, gunicorn with and without django_toopher, a headless Chromium
when there is one) and checks that the table is produced. No timing is asserted:
only counts, which do not depend on the machine. The exact counts are the
budgets of the status endpoint: however many tabs poll one pending login (and
however many pending logins two instances share on PostgreSQL and Redis), the
sandbox sees exactly one upstream call per login per poll interval.

The statistics and the interleaving of the in-process measurements are checked
without any process (fast).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from benchmarks import inprocess
from benchmarks.stats import bootstrap_median_ci, pair_ratios

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
    assert {"Middleware", "Status poll", "Tabs", "Client", "Sandbox", "Approval",
            "Growth: polls", "Growth: logins", "Growth: cluster", "Web Push"} <= groups


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


@pytest.mark.slow
def test_in_process_middleware_ratio_has_an_interval(smoke: dict) -> None:
    cpu = smoke["data"]["raw"]["middleware"]["in_process_cpu"]
    assert cpu["pairs"] == 300
    low, high = cpu["ci95"]
    assert low <= cpu["ratio_without_over_with"] <= high
    control_low, control_high = cpu["control_ci95"]
    assert control_low <= cpu["control_ratio"] <= control_high
    assert cpu["queries_with"] == cpu["queries_without"] == 2
    assert 0 < cpu["own_ns"] < cpu["median_us_with"] * 1000


@pytest.mark.slow
def test_poll_growth_sizes_are_answered_from_the_cache(smoke: dict) -> None:
    polls = smoke["data"]["raw"]["growth_polls"]
    for size in (2, 4, 8):
        figure = polls[str(size)]
        assert figure["queries_per_poll"] == 1, figure
        assert figure["upstream_calls"] == 0, figure
        assert figure["ci95"][0] <= figure["relative"] <= figure["ci95"][1]
    assert polls["default_cache"]["polls"] == 16


@pytest.mark.slow
def test_login_growth_counts_rows_and_cleanup_empties_old_ones(smoke: dict) -> None:
    data = smoke["data"]["raw"]["growth_logins"]
    points = data["points"]
    assert [p["logins"] for p in points] == [20, 40, 60]
    browsers = data["browsers"]
    for point in points:
        assert point["rss_kib"] > 0
        rows = point["rows"]
        assert browsers < point["real"] < point["logins"]
        assert rows["single-use claim"] == point["real"]  # one claim per grant
        # requested + granted per whole login, one terminal_named per browser; a forced
        # login writes none
        assert rows["audit event"] == 2 * point["real"] + browsers
        assert rows["session"] == browsers  # a login again cycles the session key
    aged = data["cleanup"]["aged"]
    assert (aged["session"], aged["audit event"], aged["single-use claim"]) == (0, 0, 0)


@pytest.mark.slow
def test_cluster_makes_exactly_one_upstream_call_per_login_per_interval(smoke: dict) -> None:
    cluster = smoke["data"]["raw"]["cluster"]
    assert cluster["errors"] == 0 and cluster["not_pending"] == 0, cluster
    assert cluster["server_errors"] == []
    assert cluster["calls"] == cluster["expected"] == 2 * cluster["logins"], cluster
    assert cluster["pushes"] == cluster["logins"]


@pytest.mark.slow
def test_service_figure_verifies_every_call_with_a_nonce_of_its_own(smoke: dict) -> None:
    server = smoke["data"]["raw"]["server_ratio"]
    assert server["server_errors"] == []
    assert server["verified_answered"] > 0
    # Each verified call answered 200 recorded its own nonce in the shared database.
    assert server["nonces_recorded"] == server["verified_answered"], server
    # The mix, the reads and the floor were each timed against the bare view.
    assert set(server["ratios_by_kind"]) == {"verified", "reads", "floor"}, server
    assert all(rate > 0 for rate in server["rates"].values()), server["rates"]


def test_bootstrap_interval_brackets_the_median_and_narrows_with_data() -> None:
    values = [1.0 + (i % 7 - 3) / 100 for i in range(700)]
    middle, low, high = bootstrap_median_ci(values, resamples=200)
    assert low <= middle <= high
    assert middle == pytest.approx(1.0)
    _, low_few, high_few = bootstrap_median_ci(values[:35], resamples=200)
    assert high - low <= high_few - low_few
    assert bootstrap_median_ci([2.0] * 50, resamples=50) == (2.0, 2.0, 2.0)
    # seeded: the same data gives the same interval
    assert bootstrap_median_ci(values, resamples=200) == (middle, low, high)


def test_pair_ratios_skip_zero_denominators() -> None:
    assert pair_ratios([2, 3, 4], [1, 0, 2]) == [2.0, 2.0]


def test_interleave_alternates_the_order_of_the_calls() -> None:
    seen: list[str] = []
    calls = [lambda: seen.append("a"), lambda: seen.append("b"), lambda: seen.append("c")]
    times = inprocess.interleave(calls, 4)
    assert "".join(seen) == "abccbaabccba"
    assert [len(t) for t in times] == [4, 4, 4]
    assert all(ns >= 0 for t in times for ns in t)


def test_round_robin_moves_over_the_pending_logins() -> None:
    seen: list[str] = []
    first = [lambda i=i: seen.append(f"poll{i}") for i in range(3)]
    second = [lambda i=i: seen.append(f"bare{i}") for i in range(3)]
    one, two = inprocess.round_robin(first, second)
    for _ in range(4):
        one()
        two()
    assert seen == ["poll0", "bare0", "poll1", "bare1", "poll2", "bare2", "poll0", "bare0"]


def test_a_run_of_some_benchmarks_leaves_results_md_alone(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from benchmarks import __main__ as cli
    from benchmarks.report import Row

    def one_figure(env: object, counts: object, report) -> None:  # type: ignore[no-untyped-def]
        report.add(Row("Service", "a figure", "1.00"))

    class NoSites:
        """The benchmarks' environment, without its sites."""

        def __enter__(self) -> NoSites:
            return self

        def __exit__(self, *exc: object) -> None:
            return None

        def start_sites(self) -> None:
            pass

    monkeypatch.setattr(cli, "HERE", tmp_path)
    monkeypatch.setattr(cli, "Environment", NoSites)
    monkeypatch.setattr(cli, "BENCHMARKS", {"server": one_figure, "push": one_figure})
    kept = tmp_path / "results.md"
    kept.write_text("every other figure\n", encoding="utf-8")
    assert cli.main(["--only", "server"]) == 0
    assert kept.read_text(encoding="utf-8") == "every other figure\n"
    assert "Not written to" in capsys.readouterr().out
    # --results still writes the table where it is asked to; a full run replaces the file.
    assert cli.main(["--only", "server", "--results", str(tmp_path / "some.md")]) == 0
    assert "a figure" in (tmp_path / "some.md").read_text(encoding="utf-8")
    assert cli.main([]) == 0
    assert "a figure" in kept.read_text(encoding="utf-8")
