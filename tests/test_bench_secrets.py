"""The sealed-secret benchmark (``benchmarks/bench_secrets.py``): its arithmetic, and one
smoke run of its measuring process (no timing asserted: only that every call verified)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from benchmarks.bench_secrets import SIZES, summarize

ROOT = Path(__file__).resolve().parents[1]


def test_the_ratio_is_the_median_of_the_rounds_sealed_over_clear() -> None:
    ns = {"sealed": [[2000, 2000], [1000, 1000], [4000, 4000]],  # 500k, 1M, 250k calls/s
          "clear": [[1000, 1000], [1000, 1000], [1000, 1000]]}   # 1M calls/s
    figures = summarize(ns)
    assert figures["per_round_ratios"] == pytest.approx([0.5, 1.0, 0.25])
    assert figures["ratio"] == pytest.approx(0.5)
    assert figures["sealed_per_s"] == pytest.approx(500_000)
    assert figures["clear_per_s"] == pytest.approx(1_000_000)


@pytest.mark.slow
def test_the_measuring_process_runs_both_modes() -> None:
    env = {k: v for k, v in os.environ.items() if k != "DJANGO_SETTINGS_MODULE"}
    done = subprocess.run(
        [sys.executable, "-m", "benchmarks.bench_secrets", "--smoke"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=300, check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    result = json.loads(done.stdout.splitlines()[-1])
    calls, rounds = SIZES["smoke"]
    for mode in ("sealed", "clear"):
        assert [len(r) for r in result["ns"][mode]] == [calls] * rounds
    assert result["decrypt_ns"] > 0
