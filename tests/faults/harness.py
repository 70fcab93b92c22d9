"""What each fault module sets up first and takes down last: a folder for its logs, a
private PostgreSQL and Redis, and the teardown that stops everything it was given.

Both fault modules (``test_faults``: the site on the sandbox; ``test_service_faults``:
the service) start from it, so the way their services are made, stopped and their logs
kept after a failure is stated once.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tests.scale.cluster import ROOT, PrivatePostgres, PrivateRedis

#: Where a failed fault run leaves its logs (one folder per module and process).
ARTIFACTS = ROOT / "test-artifacts"


@dataclass
class Harness:
    """One fault module's folders and services."""

    #: ``test-artifacts/<name>-<pid>``: the servers' logs; kept only when a test failed.
    logs: Path
    #: PostgreSQL's and Redis's files (removed at the end; their logs copied to
    #: :attr:`logs` when a test failed).
    workdir: Path
    postgres: PrivatePostgres
    redis: PrivateRedis
    #: What to stop at the end, the last added first (each failure printed, the rest
    #: stopped all the same).
    stops: list[Callable[[], None]] = field(default_factory=list)


@contextmanager
def private_services(request: pytest.FixtureRequest, name: str) -> Iterator[Harness]:
    """A started PostgreSQL and Redis of their own for the fault module ``name``; at the
    end everything in :attr:`Harness.stops` is stopped and the folders removed."""
    ARTIFACTS.mkdir(exist_ok=True)
    logs = ARTIFACTS / f"{name}-{os.getpid()}"
    logs.mkdir(parents=True, exist_ok=True)
    # PostgreSQL's files where its own user may write (not under a root-owned checkout).
    workdir = Path(tempfile.mkdtemp(prefix=f"toopher-{name}-"))
    os.chmod(workdir, 0o755)
    harness = Harness(
        logs, workdir, PrivatePostgres(workdir / "postgres"), PrivateRedis(workdir / "redis")
    )
    try:
        harness.postgres.start()
        harness.stops.append(harness.postgres.remove)
        harness.redis.start()
        harness.stops.append(harness.redis.stop)
        yield harness
    finally:
        for stop in reversed(harness.stops):
            try:
                stop()
            except Exception as exc:  # noqa: BLE001 (stop the rest all the same)
                print(f"stopping: {exc}")
        failed = request.session.testsfailed > 0
        if failed:
            for log in ("postgres/postgres.log", "redis/redis.log"):
                if (workdir / log).exists():
                    shutil.copy(workdir / log, logs / Path(log).name)
        shutil.rmtree(workdir, ignore_errors=True)
        if not failed:
            shutil.rmtree(logs, ignore_errors=True)
