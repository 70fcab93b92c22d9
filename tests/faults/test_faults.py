"""Faults in the cluster: lose nothing, unlock nothing, recover by itself (issue 15).

The two-instance cluster of ``tests/scale`` (gunicorn on PostgreSQL and Redis, the
standalone sandbox as the Toopher service) under steady login load; one fault at a
time, each test one fault:

1. Redis restarted (every key lost) during pending logins;
2. PostgreSQL restarted during pending logins, and again while many grants are used;
3. one gunicorn instance SIGKILLed and started again;
4. the sandbox stopped for 10 s, then started again (same port, file, credentials);
5. the sandbox answering in 2 s, then with 503s, for a while.

PostgreSQL and Redis are private servers of this run (never the shared ones of
``scripts/services.sh``). For each fault: no bare 500 or traceback, no login without
an approval of its own request, no approval used twice, no more pushes than login
attempts and retries, every login ends (completed, refused with a message, or sent
back to the password step), and a new login succeeds after the fault without
restarting anything (the seconds this takes are measured). The figures go into
docs/reliability.md. Run by ``make test-faults`` (``FAULTS_ARGS=--quick``: fewer
clients, shorter phases); skipped otherwise.
"""

from __future__ import annotations

import os
import random
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pytest

if not os.environ.get("TOOPHER_FAULTS"):
    pytest.skip("the fault tests run with `make test-faults`", allow_module_level=True)

import toopher  # noqa: E402
from tests.scale.cluster import (  # noqa: E402
    PUSH_RATE_LIMIT,
    Browser,
    FreshDatabase,
    Instance,
    PrivatePostgres,
    PrivateRedis,
    create_users,
    free_port,
    manage,
    site_environment,
)
from toopher_sandbox.testing import SandboxControl, SandboxProcess  # noqa: E402

from . import report  # noqa: E402
from .harness import private_services  # noqa: E402
from .load import (  # noqa: E402
    PASSWORD,
    Figures,
    Load,
    dump,
    invariants,
    sandbox_requests,
)

pytestmark = [pytest.mark.faults, pytest.mark.slow]

QUICK = os.environ.get("TOOPHER_FAULTS_QUICK") == "1"
#: Client threads of the steady load; seconds of load before and after each fault.
THREADS = 6 if QUICK else 12
BEFORE = 6 if QUICK else 12
AFTER = 6 if QUICK else 12
USERS = 150 if QUICK else 300
#: Seconds a new login may take to succeed after a fault has ended.
RECOVERY_TIMEOUT = 90
SANDBOX_DOWN = 10
#: A user outside the load, for the push limit; TOOPHER["PUSH_RATE_LIMIT"] (default).
LIMITED = "limited"
SLOW_FOR = 8 if QUICK else 15
SESSION_ENGINE = os.environ.get(
    "TOOPHER_FAULTS_SESSION_ENGINE", "django.contrib.sessions.backends.cached_db"
)


@dataclass
class Cluster:
    workdir: Path
    postgres: PrivatePostgres
    redis: PrivateRedis
    database: FreshDatabase
    sandbox: SandboxProcess
    sandbox_db: Path
    sandbox_port: int
    sandbox_token: str
    instances: list[Instance]
    urls: list[str]
    load: Load
    limited_phone: str

    def restart_sandbox(self, down: float) -> None:
        self.sandbox.stop()
        time.sleep(down)
        # The same service again: its port, file, credentials and control token, all
        # passed as --option=value (a key that begins with '-' is not an option).
        self.sandbox = SandboxProcess(
            port=self.sandbox_port,
            db=str(self.sandbox_db),
            key=self.sandbox.key,
            secret=self.sandbox.secret,
            control_token=self.sandbox_token,
        ).start()

    def log_problems(self) -> list[str]:
        return [line for instance in self.instances for line in instance.log_problems()]


RESULTS: dict[str, Figures] = {}
#: Seconds one login takes with nothing failing (password to logged in, by one client).
BASELINE: dict[str, float] = {}


@pytest.fixture(scope="module")
def cluster(request: pytest.FixtureRequest) -> Iterator[Cluster]:
    try:
        with private_services(request, "faults") as harness:
            postgres, redis, logs = harness.postgres, harness.redis, harness.logs
            database = FreshDatabase(postgres.url, prefix="toopher_faults").create()
            sandbox_db = logs / "sandbox.sqlite3"
            token = f"faults-{os.urandom(12).hex()}"
            port = free_port()
            sandbox = SandboxProcess(port=port, db=str(sandbox_db), control_token=token).start()
            env = site_environment(
                database_url=database.url, cache_url=redis.url,
                key_prefix=f"faults-{os.getpid()}", api_url=sandbox.api_url,
                key=sandbox.key, secret=sandbox.secret,
                # Sessions in PostgreSQL, read through Redis: a Redis restart loses the
                # locks, answers and counters, not the logins (docs/deployment.md).
                session_engine=SESSION_ENGINE,
            )
            env["CONN_MAX_AGE"] = "60"  # kept connections, as in production: broken by a restart
            manage(env, "migrate", "--noinput", "-v", "0")
            users = make_users(sandbox, env, [f"f{i:03d}" for i in range(USERS)] + [LIMITED])
            limited_phone = users.pop(LIMITED)
            instances = [Instance("a", env, logs), Instance("b", env, logs)]
            for instance in instances:
                instance.start()
                harness.stops.append(instance.stop)
            for instance in instances:
                instance.wait_until_up()
            urls = [i.base_url for i in instances]
            load = Load(urls, users, sandbox.base_url, threads=THREADS, seed=int(time.time()))
            the = Cluster(harness.workdir, postgres, redis, database, sandbox, sandbox_db, port,
                          token, instances, urls, load, limited_phone)
            harness.stops.append(lambda: the.sandbox.stop())
            probe = SandboxControl(sandbox.base_url, timeout=15)
            began = time.monotonic()
            assert load.attempt(random.Random(0), probe, figures=Figures("baseline")) == "completed"
            BASELINE["login_s"] = round(time.monotonic() - began, 1)
            harness.stops.append(load.stop)
            load.start()
            time.sleep(BEFORE)
            yield the
    finally:
        if RESULTS:
            report.write(RESULTS, quick=QUICK, threads=THREADS, baseline=BASELINE.get("login_s"))


def make_users(sandbox: SandboxProcess, env: dict[str, str], names: list[str]) -> dict[str, str]:
    """Users paired with phones of their own; ``{username: phone_id}``."""

    def pair_one(username: str) -> dict[str, str]:
        control = SandboxControl(sandbox.base_url, timeout=60)
        phone = control.new_phone(name=f"phone of {username}")
        api = toopher.ToopherApi(sandbox.key, sandbox.secret, sandbox.api_url)
        pairing = api.pair(phone["pairing_phrase"], username)
        control.respond_pairing(pairing.id, allow=True)
        return {"username": username, "pairing_id": pairing.id, "phone_id": phone["phone_id"]}

    with ThreadPoolExecutor(max_workers=8) as pool:
        rows = list(pool.map(pair_one, names))
    create_users(env, PASSWORD, [{"username": r["username"], "pairing_id": r["pairing_id"]}
                                 for r in rows])
    return {r["username"]: r["phone_id"] for r in rows}


def run_fault(cluster: Cluster, name: str, inject: Callable[[], None]) -> Figures:
    """Measure the load through ``inject()`` (returns once the fault has ended), then
    until a new login succeeds, then a while longer; check and record the figures."""
    load = cluster.load
    figures = load.measure(name)
    RESULTS[name] = figures
    seen = {i.name: len(i.log_text().splitlines()) for i in cluster.instances}
    inject()
    ended = time.monotonic()
    rng = random.Random(ended)
    control = SandboxControl(cluster.sandbox.base_url, timeout=15)
    while time.monotonic() - ended < RECOVERY_TIMEOUT:
        if load.attempt(rng, control, figures=figures) == "completed":
            figures.recovery_s = round(time.monotonic() - ended, 1)
            break
        time.sleep(0.5)
    time.sleep(AFTER)
    load.measure(f"after {name}")  # later logins count for no fault
    # Let the logins in flight end before judging this fault's figures.
    time.sleep(5)
    invariants(figures, cluster.database, cluster.sandbox_db, load.allowed_pushes)
    for instance in cluster.instances:
        # A 503 leaves its traceback in the log for the operator; a 500 is a failure.
        for line in instance.log_text().splitlines()[seen[instance.name]:]:
            if line.startswith("500 "):
                figures.add_problem(f"{instance.name}: {line}")
    figures.passed = check(figures)
    print(dump(figures))
    return figures


def check(figures: Figures) -> bool:
    return (
        figures.bare_5xx == 0
        and figures.unlocked_without_approval == 0
        and figures.approvals_used_twice == 0
        and figures.pushes_over_limit == 0
        and figures.stuck == 0
        and figures.recovery_s is not None
        and not any(p.startswith(("a: ", "b: ")) for p in figures.problems)
    )


def assert_figures(figures: Figures, cluster: Cluster) -> None:
    assert figures.passed, dump(figures) + "\n" + "\n".join(cluster.log_problems()[-30:])


# --------------------------------------------------------------------------- the faults


def test_redis_restarted_during_pending_logins(cluster: Cluster):
    def inject() -> None:
        cluster.redis.stop()
        time.sleep(3)  # longer than the client's retries (about 1 s): requests fail
        cluster.redis.start()

    figures = run_fault(cluster, "Redis restarted (data lost)", inject)
    # The push counters were lost with Redis: the per-user limit counts again from the
    # restart, and holds (each login cancelled after its push, as an impatient user).
    refused = 0
    for attempt in range(PUSH_RATE_LIMIT + 2):
        browser = Browser(cluster.urls, random.Random(attempt))
        cluster.load.allowed_pushes[LIMITED] += 1  # one attempt: at most one push
        browser.log_in(LIMITED, PASSWORD)
        page = browser.pending()
        if 'name="name"' in page.text:
            browser.name_terminal(page, "Impatient")
        page = browser.request("GET", "/toopher/pending/")  # the push, or the limit
        if page.status_code == 302:  # the login ended: the limit, said on the next page
            shown = browser.request("GET", page.headers["Location"])
            assert "Too many approval requests" in shown.text, shown.text[:500]
            refused += 1
            continue
        token = browser.csrf_from(page)
        browser.request("POST", "/toopher/pending/cancel/", data={"csrfmiddlewaretoken": token})
    pushes = sum(1 for name, _, _ in sandbox_requests(cluster.sandbox_db) if name == LIMITED)
    if pushes > PUSH_RATE_LIMIT or refused < 2:
        figures.passed = False
        figures.add_problem(f"push limit: {pushes} pushes, {refused} refused for "
                            f"{PUSH_RATE_LIMIT + 2} logins")
    assert_figures(figures, cluster)


def test_postgres_restarted_during_pending_logins(cluster: Cluster):
    def inject() -> None:
        cluster.postgres.stop("fast")
        time.sleep(2)
        cluster.postgres.start()

    assert_figures(run_fault(cluster, "PostgreSQL restarted (pending logins)", inject), cluster)


def test_postgres_restarted_during_grants(cluster: Cluster):
    load = cluster.load

    def inject() -> None:
        load.approvals.clear()  # the phones wait: approvals pile up
        time.sleep(8)
        load.approvals.set()  # many approvals at once; the polls use them...
        time.sleep(0.5)
        cluster.postgres.stop("immediate")  # ...while the database goes away
        time.sleep(2)
        cluster.postgres.start()

    assert_figures(run_fault(cluster, "PostgreSQL restarted (grants)", inject), cluster)


def test_one_instance_killed_and_started_again(cluster: Cluster):
    victim = cluster.instances[0]

    def inject() -> None:
        victim.kill()
        time.sleep(1)  # the balancer's health check notices
        cluster.urls.remove(victim.base_url)
        time.sleep(4)
        victim.start()
        victim.wait_until_up()
        cluster.urls.append(victim.base_url)

    assert_figures(run_fault(cluster, "one instance SIGKILLed", inject), cluster)


def test_sandbox_stopped_for_ten_seconds(cluster: Cluster):
    assert_figures(
        run_fault(cluster, f"Toopher down {SANDBOX_DOWN} s",
                  lambda: cluster.restart_sandbox(SANDBOX_DOWN)),
        cluster,
    )


def test_sandbox_slow_then_failing(cluster: Cluster):
    control = SandboxControl(cluster.sandbox.base_url, timeout=15)

    def inject() -> None:
        control.set_faults(latency_ms=2000)
        time.sleep(SLOW_FOR)
        control.set_faults(status=503)
        time.sleep(SLOW_FOR)
        control.clear_faults()

    assert_figures(run_fault(cluster, "Toopher slow (2 s), then 503", inject), cluster)
