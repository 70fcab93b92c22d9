"""Web Push: how soon a push leaves, what a slow push service costs ``initiate``, and a
burst to many devices.

The service runs as operators run it (gunicorn, one worker with 4 threads, its own
SQLite file: ``tests.server.live_service``); the push service is
:class:`tests.push.fakepush.FakePushService` on loopback, in this process, so the push's
arrival and ``initiate``'s answer are timed on one clock.

* **Push latency**: from ``initiate``'s answer (read by the client) to the push at the
  push service, sequential requests; p95 (target <= 50 ms). Negative when the push
  arrives before the client has read the answer.
* **initiate with a slow push service**: ``initiate`` p95 while the push service holds
  each push 2 s, over ``initiate`` p95 with it answering at once, alternating rounds
  (target <= 1.2): the push is sent after the answer, by other threads.
* **Burst**: ``push_devices`` devices enrolled, paired and subscribed; ``push_burst``
  requests initiated at once for as many of them: the time until every push is out, and
  the service's RSS (its processes) before the devices were made and after the burst.
"""

from __future__ import annotations

import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import toopher
from tests.push.fakepush import BrowserKeys, FakePushService
from tests.server.live_service import LiveService
from toopher_server.testing import TestPhone

from .config import Counts
from .machine import processes
from .report import Report, Row
from .servers import Environment
from .stats import percentile

LATENCY_TARGET_MS = 50.0
SLOW_RATIO_TARGET = 1.2
SLOW_HOLD = 2.0
SETTINGS = "benchmarks.push_settings"


def rss_tree_mb(pid: int) -> float:
    """Resident memory of ``pid`` and its children, in MB (Linux /proc)."""
    total = sum(
        int(fields.get("VmRSS", "0 kB").split()[0])
        for other, fields in processes()
        if other == pid or fields.get("PPid") == str(pid)
    )
    return total / 1024


class Device:
    """One enrolled, paired and subscribed device, and its API client."""

    def __init__(self, base: str, requester: dict[str, str], push: FakePushService,
                 name: str) -> None:
        self.api = toopher.ToopherApi(requester["key"], requester["secret"], api_url=f"{base}/v1")
        self.phone = TestPhone(base)
        self.phone.enrol()
        pairing = self.api.pair(self.phone.new_phrase(), name)
        self.phone.allow_pairing(str(pairing.id))
        self.pairing_id = str(pairing.id)
        self.endpoint = push.endpoint(name)
        self.phone.call("PUT", "/push", BrowserKeys().subscription(self.endpoint))

    def initiate(self) -> str:
        return str(self.api.authenticate(self.pairing_id, "Benchmark browser", "Log in").id)

    def close(self) -> None:
        self.api.close()
        self.phone.close()


def _timed_initiates(device: Device, push: FakePushService, n: int) -> tuple[list[float],
                                                                               list[float]]:
    """``n`` sequential initiates: their durations, and answer-to-push delays (s)."""
    durations, delays = [], []
    for _ in range(n):
        start = len(push.received)
        t0 = time.monotonic()
        device.initiate()
        answered = time.monotonic()
        durations.append(answered - t0)
        if push.hold == 0:
            arrived = push.wait_for(start + 1, timeout=30)[-1].at
            delays.append(arrived - answered)
    return durations, delays


def push_figures(env: Environment, counts: Counts, report: Report) -> None:
    with tempfile.TemporaryDirectory(prefix="toopher-bench-push-") as tmp:
        live = LiveService(Path(tmp))
        live.env["DJANGO_SETTINGS_MODULE"] = SETTINGS
        push = FakePushService()
        devices: list[Device] = []
        try:
            instance = live.start()
            base = instance.base_url
            pid = instance.process.pid
            first = Device(base, live.requester, push, "latency")
            devices.append(first)
            _timed_initiates(first, push, 3)  # warm up
            _latency(first, push, counts, report)
            _slow_push_service(first, push, counts, report)
            _burst(base, live.requester, push, pid, counts, report, devices)
        finally:
            for device in devices:
                device.close()
            push.close()
            live.stop()


def _latency(device: Device, push: FakePushService, counts: Counts, report: Report) -> None:
    _, delays = _timed_initiates(device, push, counts.push_latency_requests)
    p50, p95 = (percentile(delays, q) * 1000 for q in (0.5, 0.95))
    report.raw["push_latency_ms"] = {"p50": p50, "p95": p95, "n": len(delays)}
    report.add(Row(
        "Web Push", f"initiate answered -> push at the push service, p50 / p95 ({len(delays)})",
        f"{p50:.1f} / {p95:.1f} ms", target=f"p95 <= {LATENCY_TARGET_MS:.0f} ms",
        met=p95 <= LATENCY_TARGET_MS, note="loopback push service; sequential requests",
    ))  # fmt: skip


def _slow_push_service(device: Device, push: FakePushService, counts: Counts,
                       report: Report) -> None:
    timings: dict[str, list[float]] = {"fast": [], "slow": []}
    for index in range(counts.push_slow_rounds):
        for mode in (("fast", "slow") if index % 2 == 0 else ("slow", "fast")):
            push.hold = SLOW_HOLD if mode == "slow" else 0.0
            before = len(push.received)
            durations, _ = _timed_initiates(device, push, counts.push_slow_requests)
            timings[mode].extend(durations)
            push.wait_for(before + counts.push_slow_requests, timeout=120)  # drained
    push.hold = 0.0
    fast, slow = (percentile(timings[m], 0.95) * 1000 for m in ("fast", "slow"))
    ratio = slow / fast
    report.raw["push_slow_service"] = {"fast_p95_ms": fast, "slow_p95_ms": slow, "ratio": ratio}
    report.add(Row(
        "Web Push", f"initiate p95, push service holding each push {SLOW_HOLD:.0f} s / "
        "answering at once",
        f"{ratio:.2f} ({slow:.1f} / {fast:.1f} ms)", target=f"<= {SLOW_RATIO_TARGET}",
        met=ratio <= SLOW_RATIO_TARGET, note=f"{counts.push_slow_rounds} alternating rounds "
        f"x {counts.push_slow_requests} sequential requests",
    ))  # fmt: skip


def _burst(base: str, requester: dict[str, str], push: FakePushService, pid: int,
           counts: Counts, report: Report, devices: list[Device]) -> None:
    rss_before = rss_tree_mb(pid)
    t0 = time.monotonic()
    with ThreadPoolExecutor(max_workers=8) as pool:
        made = list(pool.map(lambda i: Device(base, requester, push, f"device-{i}"),
                             range(counts.push_devices)))
    devices.extend(made)
    setup = time.monotonic() - t0
    chosen = made[: counts.push_burst]
    start = len(push.received)
    gate = threading.Barrier(len(chosen) + 1)

    def fire(device: Device) -> None:
        gate.wait()
        device.initiate()

    threads = [threading.Thread(target=fire, args=(d,)) for d in chosen]
    for thread in threads:
        thread.start()
    gate.wait()
    began = time.monotonic()
    for thread in threads:
        thread.join()
    answered = time.monotonic() - began
    push.wait_for(start + len(chosen), timeout=120)
    all_out = max(p.at for p in push.received[start:]) - began
    rss_after = rss_tree_mb(pid)
    report.raw["push_burst"] = {
        "devices": counts.push_devices, "requests": len(chosen), "setup_s": setup,
        "all_answered_s": answered, "all_pushed_s": all_out,
        "rss_mb_before": rss_before, "rss_mb_after": rss_after,
    }  # fmt: skip
    report.add(Row(
        "Web Push", f"{len(chosen)} requests at once, {counts.push_devices} subscribed devices: "
        "every push out / every initiate answered",
        f"{all_out:.2f} s / {answered:.2f} s",
        note="one gunicorn worker, 4 threads; 4 push threads",
    ))  # fmt: skip
    report.add(Row(
        "Web Push", "Service RSS before the devices / after the burst",
        f"{rss_before:.0f} MB / {rss_after:.0f} MB", note="gunicorn master and worker",
    ))  # fmt: skip
