"""Upstream calls per poll interval with many pending logins on the scale-out setup.

Two gunicorn instances of the example project (2 workers x 8 threads each, as in
``tests/scale``) share one PostgreSQL database (fresh, dropped at the end) and one
Redis (cache and sessions, a key prefix of this run's own), started by
``scripts/services.sh`` (installed from Debian when missing). The standalone sandbox of
the run is their Toopher; it counts the calls.

Every user makes a real pending login (password, naming of the browser, the pending
page that sends the one push), each request to a random instance. Then each pending
login is polled by ``tabs`` tabs, tab k on instance k mod 2, the way pending.js polls (a
GET, then a pause of one interval), the logins' first polls spread over the first
interval and each tab's polls offset by interval / tabs. Each login is polled for K
intervals minus a quarter from its own first poll: its K-th upstream call falls inside
that window and its (K+1)-th cannot, so the exact expected count is K per login.
"""

from __future__ import annotations

import heapq
import http.client
import json
import os
import random
import subprocess
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any
from urllib.parse import urlsplit

from . import loadgen
from .accounts import PASSWORD
from .bench_growth import POOL
from .config import Counts
from .report import Report, Row
from .servers import ROOT, Environment

STATUS = "/toopher/pending/status/"
SETTINGS = "benchmarks.site.cluster_settings"


def services() -> tuple[str, str]:
    """(DATABASE_URL, CACHE_URL) of a PostgreSQL and a Redis on 127.0.0.1: the ones in
    the environment if they are such, else those ``scripts/services.sh start`` starts
    (it leaves them running: other runs on this machine may share them)."""
    database, cache = os.environ.get("DATABASE_URL", ""), os.environ.get("CACHE_URL", "")
    if urlsplit(database).scheme.startswith("postg") and urlsplit(cache).scheme == "redis":
        return database, cache
    proc = subprocess.run(  # noqa: S603 (our own script)
        ["bash", str(ROOT / "scripts" / "services.sh"), "start"],  # noqa: S607
        capture_output=True, text=True, timeout=600, cwd=ROOT,
    )
    if proc.returncode != 0:
        raise RuntimeError(f"scripts/services.sh start failed:\n{proc.stderr[-2000:]}")
    found = dict(
        line.removeprefix("export ").split("=", 1)
        for line in proc.stdout.splitlines() if line.startswith("export ")
    )
    return found["DATABASE_URL"], found["CACHE_URL"]


def _pending(instances: list[str], username: str, seed: int) -> dict[str, str]:
    """A real pending login of ``username``, every request to a random instance;
    returns the browser's cookies."""
    from tests.scale.cluster import Browser

    browser = Browser(instances, random.Random(seed))
    browser.session.trust_env = False
    browser.log_in(username, PASSWORD)
    browser.name_terminal(browser.pending(), "Benchmark browser")
    page = browser.pending()  # sends the one push
    if 'data-status="pushed"' not in page.text:
        raise RuntimeError(f"no push for {username}: {page.text[:300]}")
    return {cookie.name: cookie.value for cookie in browser.session.cookies}


def poll_all(
    ports: list[int], logins: list[dict[str, str]], *, tabs: int, interval: float,
    intervals: int, threads: int = 32,
) -> dict[str, Any]:
    """Every login polled by ``tabs`` tabs (tab k on ``ports[k % len(ports)]``) for
    ``intervals`` intervals minus a quarter from its first poll. Returns what they saw."""
    start = time.monotonic() + 0.5
    duration = intervals * interval - interval / 4
    heap: list[tuple[float, int, int, int]] = []
    seq = 0
    for index in range(len(logins)):
        first = start + interval * index / len(logins)
        for tab in range(tabs):
            heap.append((first + tab * interval / tabs, seq, index, tab))
            seq += 1
    heapq.heapify(heap)
    ends = [start + interval * i / len(logins) + duration for i in range(len(logins))]
    headers = [
        {"Accept": "application/json", "Cookie": loadgen.cookie_header(cookies)}
        for cookies in logins
    ]
    lock = threading.Condition()
    seen = {"polls": 0, "errors": 0, "not_pending": 0, "late_s": 0.0}
    busy = [0]

    def worker() -> None:
        conns = {port: loadgen.Connection(port) for port in ports}
        nonlocal seq
        try:
            while True:
                with lock:
                    while not heap and busy[0]:
                        lock.wait(0.5)
                    if not heap:
                        return
                    due, _, index, tab = heapq.heappop(heap)
                    busy[0] += 1
                pause = due - time.monotonic()
                if pause > 0:
                    time.sleep(pause)
                port = ports[tab % len(ports)]
                late = time.monotonic() - due
                ok = pending = False
                try:
                    status, _head, body = conns[port].get(
                        STATUS, dict(headers[index], Host=f"127.0.0.1:{port}")
                    )
                    ok = status == 200
                    pending = ok and json.loads(body).get("status") == "pushed"
                except (OSError, ValueError, http.client.HTTPException):
                    conns[port].close()
                following = time.monotonic() + interval
                with lock:
                    seen["polls"] += 1
                    seen["errors"] += 0 if ok else 1
                    seen["not_pending"] += 1 if ok and not pending else 0
                    seen["late_s"] = max(seen["late_s"], late)
                    if following < ends[index]:
                        seq += 1
                        heapq.heappush(heap, (following, seq, index, tab))
                    busy[0] -= 1
                    lock.notify_all()
        finally:
            for conn in conns.values():
                conn.close()

    pool = [threading.Thread(target=worker, daemon=True) for _ in range(threads)]
    for thread in pool:
        thread.start()
    for thread in pool:
        thread.join(duration + interval + 120)
    seen["elapsed_s"] = time.monotonic() - start
    return seen


def cluster_upstream_calls(env: Environment, counts: Counts, report: Report) -> None:
    """Upstream calls per login per interval, many pending logins over two instances."""
    from tests.scale.cluster import FreshDatabase, Instance, create_users, manage, site_environment

    database_url, cache_url = services()
    users = POOL.get(env, counts.cluster_logins)
    interval = counts.cluster_interval
    database = FreshDatabase(database_url, prefix="toopher_bench").create()
    instances: list[Instance] = []
    try:
        site = site_environment(
            database_url=database.url,
            cache_url=cache_url,
            key_prefix=f"bench-{os.getpid()}-{os.urandom(4).hex()}",
            api_url=env.requester["api_url"],
            key=env.requester["key"],
            secret=env.requester["secret"],
        )
        site.update(DJANGO_SETTINGS_MODULE=SETTINGS, PYTHONPATH=str(ROOT),
                    BENCH_POLL_INTERVAL=str(interval))
        manage(site, "migrate", "--noinput", "-v", "0")
        create_users(site, PASSWORD,
                     [{"username": u.username, "pairing_id": u.pairing_id} for u in users])
        instances = [Instance(name, site, env.workdir) for name in ("a", "b")]
        for instance in instances:
            instance.start()
        for instance in instances:
            instance.wait_until_up()
        urls = [instance.base_url for instance in instances]
        started = time.monotonic()
        with ThreadPoolExecutor(max_workers=16) as pool:
            logins = list(pool.map(lambda i: _pending(urls, users[i].username, i),
                                   range(len(users))))
        made_s = time.monotonic() - started
        pushes = database.scalar(
            "SELECT count(*) FROM django_toopher_auditevent WHERE kind = 'requested'"
        )
        before = env.api_mark()
        seen = poll_all([i.port for i in instances], logins, tabs=counts.cluster_tabs,
                        interval=interval, intervals=counts.cluster_intervals)
        calls = env.api_calls_since(before)
        errors = [line for instance in instances for line in instance.server_errors()]
    finally:
        for instance in instances:
            instance.stop()
        database.drop()
    expected = len(users) * counts.cluster_intervals
    per = calls / expected
    report.raw["cluster"] = dict(seen, calls=calls, expected=expected, pushes=pushes,
                                 logins=len(users), pending_logins_s=made_s,
                                 server_errors=errors[:20])
    problems = []
    if seen["errors"] or seen["not_pending"] or errors:
        problems.append(f"{seen['errors']} failed polls, {seen['not_pending']} odd answers, "
                        f"{len(errors)} server errors")
    if seen["late_s"] > interval / 4:
        # Polls this late stretch a login's window past K intervals: the count is no
        # longer exact (more calls, still at most one per interval per login).
        problems.append(f"the machine did not keep the schedule: a poll ran "
                        f"{seen['late_s']:.1f} s late (more than a quarter interval)")
    report.add(
        Row(
            "Growth: cluster",
            f"Upstream calls per pending login per interval, {len(users)} pending logins x "
            f"{counts.cluster_tabs} tabs over 2 instances (PostgreSQL + Redis, interval "
            f"{interval} s, {counts.cluster_intervals} intervals)",
            f"{per:.3f} ({calls} calls for {expected} login-intervals, {seen['polls']} polls)",
            "1 exactly",
            calls == expected and not problems,
            note="; ".join(problems) or f"latest poll {seen['late_s'] * 1000:.0f} ms behind its "
            f"schedule; {len(users)} pending logins made in {made_s:.0f} s",
        )
    )
    report.add(
        Row(
            "Growth: cluster",
            f"Pushes sent for those {len(users)} pending logins",
            str(pushes),
            str(len(users)),
            pushes == len(users),
        )
    )
