"""Scale-out, end to end: two gunicorn instances share one PostgreSQL and one Redis.

The sandbox runs standalone (``python -m toopher_sandbox``), as the real Toopher
service would: the instances are configured like production, with
``TOOPHER_API_URL`` set and the sandbox not mounted, and the sandbox's own state
(SQLite) stays out of the shared database whose rows we count.

1. A login's password step and push happen on instance A; its polls and the
   approval that logs it in happen on instance B.
2. 200 pending logins at once (50 client threads), every request of each going to a
   random instance, each approved through the sandbox control API (every fifth
   polled by two "tabs" on both instances at once): no 5xx, no exception, every
   login ends logged in, and every grant is applied exactly once (one consumed
   request row and one GRANTED audit event per login: 200 + 1).

Runs under ``make test-postgres`` (and so in CI); skipped when ``DATABASE_URL`` is
not PostgreSQL or ``CACHE_URL`` is not Redis (plain ``make test``).
"""

from __future__ import annotations

import os
import random
import shutil
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor, as_completed
from urllib.parse import urlsplit

import pytest

DATABASE_URL = os.environ.get("DATABASE_URL", "")
CACHE_URL = os.environ.get("CACHE_URL", "")

if urlsplit(DATABASE_URL).scheme not in {"postgres", "postgresql", "pgsql", "psql"}:
    pytest.skip(
        "the scale-out test needs DATABASE_URL=postgres://... (run `make test-postgres`)",
        allow_module_level=True,
    )
if urlsplit(CACHE_URL).scheme not in {"redis", "rediss"}:
    pytest.skip(
        "the scale-out test needs CACHE_URL=redis://... (run `make test-postgres`)",
        allow_module_level=True,
    )

import toopher  # noqa: E402
from toopher_sandbox.testing import SandboxControl, SandboxProcess  # noqa: E402

from .cluster import (  # noqa: E402
    ROOT,
    Browser,
    FreshDatabase,
    Instance,
    create_users,
    manage,
    site_environment,
)

pytestmark = [pytest.mark.scale, pytest.mark.slow]

ARTIFACTS = ROOT / "test-artifacts"

LOGINS = 200
CLIENT_THREADS = 50
#: Every RACE_EVERY-th login polls both instances at once (two tabs) after approval.
RACE_EVERY = 5
PASSWORD = "scale-out-password-1"
#: Seconds one login may wait for its approval to show, and for the whole run.
APPROVAL_TIMEOUT = 60
RUN_TIMEOUT = 300
#: Seconds a control API call may take while the sandbox serves the load.
CONTROL_TIMEOUT = 60


@pytest.fixture(scope="module")
def sandbox_service() -> Iterator[SandboxProcess]:
    with SandboxProcess() as process:
        yield process


@pytest.fixture(scope="module")
def database() -> Iterator[FreshDatabase]:
    db = FreshDatabase(DATABASE_URL).create()
    try:
        yield db
    finally:
        db.drop()


@pytest.fixture(scope="module")
def site_env(sandbox_service: SandboxProcess, database: FreshDatabase) -> dict[str, str]:
    env = site_environment(
        database_url=database.url,
        cache_url=CACHE_URL,
        key_prefix=f"scale-{os.getpid()}-{os.urandom(4).hex()}",
        api_url=sandbox_service.api_url,
        key=sandbox_service.key,
        secret=sandbox_service.secret,
    )
    manage(env, "migrate", "--noinput", "-v", "0")  # once, for both instances
    return env


@pytest.fixture(scope="module")
def instances(
    site_env: dict[str, str], request: pytest.FixtureRequest
) -> Iterator[tuple[Instance, Instance]]:
    # The instances' logs stay in test-artifacts/ when the test fails.
    workdir = ARTIFACTS / f"scale-{os.getpid()}"
    workdir.mkdir(parents=True, exist_ok=True)
    pair = (Instance("a", site_env, workdir), Instance("b", site_env, workdir))
    failed = True
    try:
        for instance in pair:
            instance.start()
        for instance in pair:
            instance.wait_until_up()
        yield pair
        failed = False
    finally:
        for instance in pair:
            instance.stop()
        if not failed and not request.session.testsfailed:
            shutil.rmtree(workdir, ignore_errors=True)


@pytest.fixture(scope="module")
def make_users(
    sandbox_service: SandboxProcess, site_env: dict[str, str]
) -> Callable[[list[str]], dict[str, str]]:
    """Create users paired with fresh sandbox phones; returns ``{username: phone_id}``."""

    def pair_one(username: str) -> dict[str, str]:
        control = SandboxControl(sandbox_service.base_url, timeout=CONTROL_TIMEOUT)
        phone = control.new_phone(name=f"phone of {username}")
        api = toopher.ToopherApi(
            sandbox_service.key, sandbox_service.secret, sandbox_service.api_url
        )
        pairing = api.pair(phone["pairing_phrase"], username)
        control.respond_pairing(pairing.id, allow=True)
        assert api.get_pairing_status(pairing.id).enabled
        return {"username": username, "pairing_id": pairing.id, "phone_id": phone["phone_id"]}

    def make(usernames: list[str]) -> dict[str, str]:
        with ThreadPoolExecutor(max_workers=16) as pool:
            rows = list(pool.map(pair_one, usernames))
        created = create_users(
            site_env,
            PASSWORD,
            [{"username": r["username"], "pairing_id": r["pairing_id"]} for r in rows],
        )
        assert created == len(usernames)
        return {r["username"]: r["phone_id"] for r in rows}

    return make


def approve_on_phone(control: SandboxControl, phone_id: str, username: str) -> str:
    """Grant the one login request waiting on the phone; return its id."""
    item = control.wait_for_pending(phone_id, timeout=APPROVAL_TIMEOUT, interval=0.5)
    assert item["user_name"] == username
    control.respond_authentication(item["id"], grant=True)
    return item["id"]


def grant_counts(database: FreshDatabase) -> dict[str, int]:
    events = dict(
        database.query("SELECT kind, count(*) FROM django_toopher_auditevent GROUP BY kind")
    )
    events["consumed"] = database.scalar("SELECT count(*) FROM django_toopher_consumedrequest")
    return events


def test_two_instances_share_one_database_and_one_redis(
    sandbox_service: SandboxProcess,
    database: FreshDatabase,
    instances: tuple[Instance, Instance],
    make_users: Callable[[list[str]], dict[str, str]],
):
    a, b = instances
    control = SandboxControl(sandbox_service.base_url, timeout=CONTROL_TIMEOUT)

    # --- 1. log in on A; poll and complete the approval on B ------------------------
    phones = make_users(["across"])
    browser = Browser([a.base_url], random.Random(0))
    browser.log_in("across", PASSWORD, base=a.base_url)
    assert browser.account_username(base=b.base_url) is None  # pending: not logged in
    browser.name_terminal(browser.pending(base=a.base_url), "Laptop", base=a.base_url)
    browser.pending(base=a.base_url)  # A sends the one push
    assert browser.status(base=b.base_url)["status"] == "pushed"  # B sees it
    approve_on_phone(control, phones["across"], "across")
    final = browser.poll_until_final(APPROVAL_TIMEOUT, base=b.base_url)
    assert final["status"] == "granted", final
    assert browser.account_username(base=b.base_url) == "across"
    assert browser.account_username(base=a.base_url) == "across"
    counts = grant_counts(database)
    assert (counts["consumed"], counts.get("granted"), counts.get("requested")) == (1, 1, 1)

    # --- 2. 200 concurrent pending logins over both instances -----------------------
    usernames = [f"load{i:03d}" for i in range(LOGINS)]
    phones = make_users(usernames)
    seed = int(time.time())
    instances_urls = [a.base_url, b.base_url]

    def one_login(index: int) -> str:
        username = usernames[index]
        rng = random.Random(seed * 1000 + index)
        browser = Browser(instances_urls, rng)
        control = SandboxControl(sandbox_service.base_url, timeout=CONTROL_TIMEOUT)
        browser.log_in(username, PASSWORD)
        browser.name_terminal(browser.pending(), f"Browser {index}")
        browser.pending()  # sends the push
        approve_on_phone(control, phones[username], username)
        if index % RACE_EVERY == 0:
            # Two tabs poll A and B at the same moment: one grant, never two.
            seen = browser.racing_polls(APPROVAL_TIMEOUT)
            assert seen.count("granted") == 1, (username, seen, browser.trail)
            assert set(seen) <= {"granted", "none", "expired", "pending:pushed"}, seen
        else:
            final = browser.poll_until_final(APPROVAL_TIMEOUT)
            assert final["status"] == "granted", (username, final, browser.trail)
        shown = browser.account_username()
        assert shown == username, (username, shown, "\n".join(browser.trail))
        # The approval was used: no pending login is left in the session.
        assert browser.request("GET", "/toopher/pending/status/").status_code == 404
        return username

    started = time.monotonic()
    errors: list[str] = []
    done: list[str] = []
    with ThreadPoolExecutor(max_workers=CLIENT_THREADS) as pool:
        futures = {pool.submit(one_login, i): i for i in range(LOGINS)}
        for future in as_completed(futures, timeout=RUN_TIMEOUT):
            try:
                done.append(future.result())
            except Exception as exc:  # collected and reported together below
                errors.append(f"login {futures[future]}: {type(exc).__name__}: {exc}")
    elapsed = time.monotonic() - started
    print(f"{LOGINS} logins over 2 instances in {elapsed:.1f}s (seed {seed})")

    if errors:
        problems = database.query(
            "SELECT kind, detail, count(*) FROM django_toopher_auditevent "
            "WHERE kind NOT IN ('requested', 'granted', 'terminal_named') GROUP BY kind, detail"
        )
        logs = [line for instance in instances for line in instance.log_problems()]
        report = "\n".join([*errors[:5], f"audit: {problems}", *logs[:20]])
        pytest.fail(f"{len(errors)} of {LOGINS} logins failed:\n{report}")
    assert sorted(done) == usernames
    for instance in instances:
        assert instance.server_errors() == [], instance.log_tail()

    # --- every grant applied exactly once --------------------------------------------
    counts = grant_counts(database)
    assert counts["consumed"] == LOGINS + 1
    assert counts.get("granted") == LOGINS + 1
    assert counts.get("requested") == LOGINS + 1  # one push per login, no more
    for kind in ("denied", "expired", "cancelled", "error", "rate_limited", "fail_open"):
        assert counts.get(kind, 0) == 0, (kind, counts)
    twice = database.query(
        "SELECT user_id, count(*) FROM django_toopher_auditevent WHERE kind = 'granted' "
        "GROUP BY user_id HAVING count(*) <> 1"
    )
    assert twice == []
    users_granted = database.scalar(
        "SELECT count(DISTINCT user_id) FROM django_toopher_auditevent WHERE kind = 'granted'"
    )
    assert users_granted == LOGINS + 1
