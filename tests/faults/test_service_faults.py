"""Faults in the service itself: verify every call, accept no forgery, recover (issue 21).

Two ``toopher-server serve`` instances (the production server, settings and CLI; see
:mod:`tests.faults.service_cluster`) on a private PostgreSQL and Redis, under the traffic
of :class:`tests.faults.service_load.ServiceLoad` (sites' initiates and status polls,
phones' signed reads and approvals, and the attacks: unsigned approvals, approvals
signed by another device, signed approvals, signed reads and OAuth requests replayed
to the other instance). One fault at a time:

1. PostgreSQL stopped for a few seconds, then started again;
2. one instance SIGKILLed (the balancer stops sending to it), then started again.

For each, and for a stretch with no fault first: no approval without a valid device
signature took effect (the attacks' answers, and the database's granted requests
against the honest approvals sent), no replay was accepted, no bare answer (a 500 or
not JSON; a JSON 503 while the database is away is counted, not failed), and the
seconds from the end of the fault until a verified call succeeds on every instance.
The figures go into docs/reliability.md. Run by ``make test-faults``
(``FAULTS_ARGS=--quick``: fewer threads, shorter phases); skipped otherwise.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import pytest

if not os.environ.get("TOOPHER_FAULTS"):
    pytest.skip("the fault tests run with `make test-faults`", allow_module_level=True)

import requests  # noqa: E402
from requests_oauthlib import OAuth1  # noqa: E402

import toopher  # noqa: E402
from tests.scale.cluster import PrivatePostgres  # noqa: E402

from . import report  # noqa: E402
from .harness import private_services  # noqa: E402
from .service_cluster import ServeInstance, ServiceCluster  # noqa: E402
from .service_load import (  # noqa: E402
    ServiceFigures,
    ServiceLoad,
    dump,
    enrol_handsets,
    granted_without_approval,
)

pytestmark = [pytest.mark.faults, pytest.mark.slow]

QUICK = os.environ.get("TOOPHER_FAULTS_QUICK") == "1"
#: Client threads; seconds of traffic before and after each fault.
THREADS = 4 if QUICK else 8
BEFORE = 4 if QUICK else 10
AFTER = 4 if QUICK else 10
#: Seconds PostgreSQL stays down; seconds the killed instance stays down.
DATABASE_DOWN = 3
INSTANCE_DOWN = 3
#: Seconds a verified call may take to succeed on every instance after a fault.
RECOVERY_TIMEOUT = 60
SETTINGS = "tests.faults.service_settings"


@dataclass
class Service:
    postgres: PrivatePostgres
    cluster: ServiceCluster
    load: ServiceLoad
    checked: set[str]


RESULTS: dict[str, ServiceFigures] = {}


@pytest.fixture(scope="module")
def service(request: pytest.FixtureRequest) -> Iterator[Service]:
    try:
        with private_services(request, "service-faults") as harness:
            postgres = harness.postgres
            cluster = ServiceCluster(harness.logs, database_url=postgres.url,
                                     cache_url=harness.redis.url, settings=SETTINGS,
                                     prefix="toopher_service_faults")
            harness.stops.append(cluster.stop)
            creds = cluster.requester
            api = toopher.ToopherApi(creds["key"], creds["secret"],
                                     api_url=f"{cluster.urls[0]}/v1")
            try:
                handsets = enrol_handsets(cluster.urls[0], api, THREADS + 1)
            finally:
                api.close()
            intruder = handsets.pop()
            load = ServiceLoad(list(cluster.urls), creds, handsets, intruder, threads=THREADS,
                               seed=int(time.time()))
            harness.stops.append(load.stop)
            load.start()
            yield Service(postgres, cluster, load, set())
    finally:
        if RESULTS:
            report.write_service(RESULTS, quick=QUICK, threads=THREADS)


def verified_call(base: str, creds: dict[str, str], pairing_id: str) -> bool:
    """Whether a signed API call (a pairing's status) succeeds on ``base`` now."""
    try:
        response = requests.get(
            f"{base}/v1/pairings/{pairing_id}",
            auth=OAuth1(creds["key"], client_secret=creds["secret"]), timeout=5,
        )  # fmt: skip
    except requests.RequestException:
        return False
    return response.status_code == 200


def recovered(service: Service, ended: float) -> float | None:
    """Seconds from ``ended`` until a verified call has succeeded on every instance."""
    waiting = set(service.cluster.urls)
    while waiting and time.monotonic() - ended < RECOVERY_TIMEOUT:
        waiting = {url for url in waiting
                   if not verified_call(url, service.cluster.requester,
                                        service.load.handsets[0].pairing_id)}
        if waiting:
            time.sleep(0.1)
    return None if waiting else round(time.monotonic() - ended, 1)


def run_fault(service: Service, name: str, inject: Callable[[], None] | None) -> ServiceFigures:
    """Count the traffic through ``inject()`` (returns once the fault has ended), until
    every instance answers again, then a while longer; check and record the figures."""
    load = service.load
    figures = load.measure(name)
    RESULTS[name] = figures
    seen = {i.name: len(i.tracebacks()) for i in service.cluster.instances}
    began = time.monotonic()
    if inject is None:
        time.sleep(BEFORE)
    else:
        inject()
        figures.fault_s = round(time.monotonic() - began, 1)
    figures.recovery_s = recovered(service, time.monotonic())
    time.sleep(AFTER)
    load.measure(f"after {name}")
    time.sleep(1)  # the cycles in flight end
    with load.lock:
        approved = set(load.approved)
    forged = [
        request_id for request_id in granted_without_approval(service.cluster.database, approved)
        if request_id not in service.checked
    ]
    service.checked.update(forged)
    if forged:
        figures.unsigned_accepted += len(forged)
        figures.add_problem(f"granted without an honest approval: {forged[:5]}")
    for instance in service.cluster.instances:  # for the operator: what the logs said
        for line in instance.tracebacks()[seen[instance.name]:]:
            figures.add_problem(line)
    figures.passed = check(figures)
    print(dump(figures))
    return figures


def check(figures: ServiceFigures) -> bool:
    return (
        figures.unsigned_accepted == 0
        and figures.replays_accepted == 0
        and figures.bare == 0
        and figures.recovery_s is not None
        and figures.approvals > 0
        and figures.attacks > 0
    )


def assert_figures(figures: ServiceFigures) -> None:
    assert figures.passed, dump(figures)


# --------------------------------------------------------------------------- the faults


def test_no_fault(service: Service) -> None:
    figures = run_fault(service, "service: no fault", None)
    assert_figures(figures)
    assert figures.unavailable_503 == 0 and figures.lost == 0, dump(figures)
    assert not figures.problems, dump(figures)


def test_postgres_restarted_under_load(service: Service) -> None:
    def inject() -> None:
        service.postgres.stop("fast")
        time.sleep(DATABASE_DOWN)
        service.postgres.start()

    assert_figures(run_fault(service, f"service: PostgreSQL down {DATABASE_DOWN} s", inject))


def test_one_instance_killed_under_load(service: Service) -> None:
    victim: ServeInstance = service.cluster.instances[0]
    urls = service.load.urls

    def inject() -> None:
        victim.kill()
        time.sleep(1)  # the balancer's health check notices
        urls.remove(victim.base_url)
        time.sleep(INSTANCE_DOWN)
        victim.start()  # waits until it answers
        urls.append(victim.base_url)

    assert_figures(run_fault(service, "service: one instance SIGKILLed", inject))
