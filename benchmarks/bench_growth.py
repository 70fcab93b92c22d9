"""How the cost grows with the work: each figure at three or more sizes in one run.

* ``polls``: a status poll's server CPU (in-process, interleaved with a bare
  session-reading request) with 10, 100 and 1,000 pending logins in flight;
* ``logins``: 10,000 real logins through the one gunicorn worker of the site with
  django_toopher: the worker's memory after each checkpoint, the rows written per
  login (session, audit events, the single-use claim), then what
  ``toopher_cleanup`` (and Django's ``clearsessions``) leave once the rows are old;
* ``cluster`` (bench_cluster): upstream calls per interval with 1,000 pending
  logins across two instances on PostgreSQL and Redis.
"""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from typing import Any

import toopher

from .accounts import PASSWORD, TIMEOUT, Browser, PairedUser, pending_request_ids
from .bench_http import in_process
from .config import Counts
from .machine import processes
from .report import Report, Row
from .servers import Environment, Site
from .stats import bootstrap_median_ci, median, pair_ratios

#: A poll's CPU at the largest size over the smallest, in-process, relative to the bare
#: request alternated with it: within 10 %.
POLL_FLAT = 0.10
#: The worker's memory after the last checkpoint over after the first thousand logins.
MEMORY_GROWTH = 0.02
TABLES = {
    "session": "django_session",
    "audit event": "django_toopher_auditevent",
    "single-use claim": "django_toopher_consumedrequest",
    "terminal": "django_toopher_terminal",
}


# -- many paired users, quickly ---------------------------------------------------------------


def paired_users(env: Environment, prefix: str, count: int, threads: int = 8) -> list[PairedUser]:
    """``count`` users, each paired with a phone of their own in the sandbox (the phone
    accepts the pairing through the control API), created in bulk in the site's database.
    Three sandbox calls per user: a phone, the pairing, the phone's answer."""
    from django.contrib.auth import get_user_model
    from django.contrib.auth.hashers import make_password
    from django.utils import timezone

    from django_toopher.models import ToopherProfile

    assert env.control is not None
    creds = env.requester
    local = threading.local()

    def pair(index: int) -> PairedUser:
        if not hasattr(local, "api"):
            local.api = toopher.ToopherApi(creds["key"], creds["secret"], creds["api_url"])
        username = f"{prefix}{index:05d}"
        phone = env.control.new_phone(f"{username}'s phone")  # type: ignore[union-attr]
        pairing = local.api.pair(phone["pairing_phrase"], username)
        env.control.respond_pairing(pairing.id, allow=True)  # type: ignore[union-attr]
        return PairedUser(username, phone["phone_id"], pairing.id)

    with ThreadPoolExecutor(max_workers=threads) as pool:
        users = list(pool.map(pair, range(count)))
    model = get_user_model()
    encoded = make_password(PASSWORD)
    rows = model.objects.bulk_create(
        [model(username=u.username, email=f"{u.username}@example.com", password=encoded)
         for u in users]
    )
    now = timezone.now()
    ToopherProfile.objects.bulk_create(
        [ToopherProfile(user=row, pairing_id=u.pairing_id, enabled=True, paired_at=now)
         for row, u in zip(rows, users, strict=True)]
    )
    return users


class UserPool:
    """Paired users made once per run and shared by the growth figures."""

    def __init__(self) -> None:
        self.users: list[PairedUser] = []

    def get(self, env: Environment, count: int) -> list[PairedUser]:
        if len(self.users) < count:
            self.users += paired_users(env, f"g{len(self.users):05d}-", count - len(self.users))
        return self.users[:count]


POOL = UserPool()


# -- status polls with N pending logins in flight ------------------------------------------------


def poll_growth(env: Environment, counts: Counts, report: Report) -> None:
    """A status poll's CPU with 10, 100, 1,000 pending logins in flight (in-process)."""
    sizes = counts.growth_poll_sizes
    started = time.monotonic()
    users = POOL.get(env, sizes[-1])
    paired_s = time.monotonic() - started
    names = env.workdir / "poll-users.txt"
    names.write_text("\n".join(u.username for u in users), encoding="utf-8")
    data = in_process(
        env, "polls", "--sizes", ",".join(str(s) for s in sizes), "--users", str(names),
        "--pairs", str(counts.growth_poll_pairs), "--warmup", str(counts.growth_poll_pairs // 10),
        "--sandbox-db", str(env.sandbox_db),
        "--default-cache-pairs", str(counts.growth_default_cache_pairs),
        "--default-cache-size", str(counts.growth_default_cache_size),
        timeout=600,
        BENCH_POLL_INTERVAL="600",
        BENCH_CACHE_ALIAS="large",
    )["sizes"]
    figures = {}
    for size in sizes:
        one = data[str(size)]
        relative, low, high = bootstrap_median_ci(
            pair_ratios(one["poll_ns"], one["bare_ns"]), resamples=counts.bootstrap_resamples
        )
        figures[size] = {
            "poll_us": median(one["poll_ns"]) / 1000,
            "bare_us": median(one["bare_ns"]) / 1000,
            "relative": relative,
            "ci95": [low, high],
            "queries_per_poll": one["queries_per_poll"],
            "upstream_calls": one["upstream_calls"],
            "setup_s": one["setup_s"],
        }
    default = data.get("default_cache")
    if default:
        relative = median(pair_ratios(default["poll_ns"], default["bare_ns"]))
        figures["default_cache"] = {
            "size": default["size"],
            "poll_us": median(default["poll_ns"]) / 1000,
            "relative": relative,
            "upstream_calls": default["upstream_calls"],
            "polls": len(default["poll_ns"]),
        }
    report.raw["growth_polls"] = dict(figures, paired_users_s=paired_s)
    first, last = figures[sizes[0]], figures[sizes[-1]]
    for size in sizes:
        one = figures[size]
        report.add(
            Row(
                "Growth: polls",
                f"Status poll with {size} pending logins in flight: CPU per poll / per bare "
                "session request (in-process medians); poll / bare (median of pairs, 95 % CI)",
                f"{one['poll_us']:.0f} / {one['bare_us']:.0f} us; "
                f"{one['relative']:.3f}x [{one['ci95'][0]:.3f}, {one['ci95'][1]:.3f}]",
                note=f"{counts.growth_poll_pairs} pairs (poll, bare request of the same pending "
                f"login) round-robin over the {size} pending logins, django_toopher's cache a "
                f"LocMemCache with room for them; {one['queries_per_poll']} "
                f"SQL query per poll; {one['upstream_calls']} upstream calls during the timed "
                "polls (all answered from the cache)",
            )
        )
    if default:
        one = figures["default_cache"]
        report.add(
            Row(
                "Growth: polls",
                f"{one['size']} of those pending logins with Django's default LocMemCache "
                "(300 entries) as django_toopher's cache: CPU per poll, poll / bare, "
                "upstream calls during the timed polls",
                f"{one['poll_us']:.0f} us, {one['relative']:.2f}x, {one['upstream_calls']} "
                f"calls in {one['polls']} polls",
                note="the cache evicts the answers (and locks) of the other pending logins: "
                "polls go upstream again within the interval. Size the cache for the "
                "pending logins in flight (or use Redis): see docs/performance.md",
            )
        )
    growth_abs = last["poll_us"] / first["poll_us"]
    growth_rel = last["relative"] / first["relative"]
    flat = abs(growth_rel - 1) <= POLL_FLAT and last["upstream_calls"] == 0
    report.add(
        Row(
            "Growth: polls",
            f"Poll CPU at {sizes[-1]} / at {sizes[0]} pending logins: relative to the bare "
            "request (absolute)",
            f"{growth_rel:.3f} ({growth_abs:.3f})",
            f"within 1 +/- {POLL_FLAT:.2f}, 0 upstream calls",
            flat,
            note="the relative figure divides out what the machine does to both kinds of "
            "request alike between the sizes (they are measured one after the other); the "
            "absolute one does not",
        )
    )


# -- 10,000 logins through one worker: memory and rows -------------------------------------------


def worker_rss_kib(site: Site) -> int:
    """Resident memory of the gunicorn worker (the master's one child), in KiB."""
    assert site.process is not None
    for _, fields in processes():
        if fields.get("PPid") == str(site.process.pid):
            return int(fields["VmRSS"].split()[0])
    raise RuntimeError("no gunicorn worker found")


def table_rows() -> dict[str, int]:
    from django.db import connection

    with connection.cursor() as cursor:
        found = {}
        for name, table in TABLES.items():
            cursor.execute(f"SELECT COUNT(*) FROM {table}")  # noqa: S608 (our table names)
            found[name] = int(cursor.fetchone()[0])
    return found


def row_bytes() -> dict[str, float]:
    """Average bytes of content per row of each table (the sum of its columns' lengths)."""
    from django.db import connection

    sizes = {}
    with connection.cursor() as cursor:
        for name, table in TABLES.items():
            columns = [c.name for c in connection.introspection.get_table_description(
                cursor, table)]
            total = " + ".join(f"COALESCE(LENGTH(CAST({c} AS TEXT)), 0)" for c in columns)
            cursor.execute(f"SELECT AVG({total}) FROM {table}")  # noqa: S608
            sizes[name] = float(cursor.fetchone()[0] or 0)
    return sizes


class LoginDriver:
    """One browser per user, logging that user in again and again through the site.

    The first login of a browser is done as a person does it: the password, the naming of
    the browser, the push, "approve" on the phone (with "remember this browser": the
    sandbox's automation), polls until granted. Every later login is real too, but the
    phone answers by itself: the password form, the pending page that sends the one push
    (answered at once, automated), one status poll that reads the answer upstream and
    completes the login (the session key cycled, the grant claimed once, the audit rows).
    A *forced* login is the password and ``login()`` with the second factor counted as
    done, in one request (``/bench/forced-login/``): what django_toopher.testing offers
    sites for their tests, and the cheap filler of the memory figure.
    """

    def __init__(self, env: Environment, site: Site, user: PairedUser) -> None:
        self.env = env
        self.user = user
        self.browser = Browser(site)

    def first(self) -> None:
        assert self.env.control is not None
        before = pending_request_ids(self.env, self.user)
        self.browser.begin_pending_login(self.user.username)
        fresh = set()
        deadline = time.monotonic() + 10
        while not fresh and time.monotonic() < deadline:
            fresh = pending_request_ids(self.env, self.user) - before
        if len(fresh) != 1:
            raise RuntimeError(f"{len(fresh)} pushes for the first login of {self.user}")
        self.env.control.respond_authentication(fresh.pop(), grant=True, automate=True)
        self._poll_until_granted()

    def again(self) -> None:
        http = self.browser.http
        token = self.browser.cookies()["csrftoken"]
        answer = http.post(
            self.browser.url("/accounts/login/"),
            data={"username": self.user.username, "password": PASSWORD,
                  "csrfmiddlewaretoken": token},
            headers={"Referer": self.browser.url("/accounts/login/")},
            allow_redirects=False,
            timeout=TIMEOUT,
        )
        if answer.status_code != 302:
            raise RuntimeError(f"login of {self.user.username}: {answer.status_code}")
        page = self.browser.get("/toopher/pending/")
        if page.status_code != 200:
            raise RuntimeError(f"pending page: {page.status_code}")
        self._poll_until_granted()

    def forced(self) -> None:
        """The password and ``login()`` with the second factor counted as done
        (django_toopher.testing's ``approved_login``): one request, no push."""
        answer = self.browser.http.post(
            self.browser.url("/bench/forced-login/"),
            data={"username": self.user.username, "password": PASSWORD},
            allow_redirects=False,
            timeout=TIMEOUT,
        )
        if answer.status_code != 200:
            raise RuntimeError(f"forced login of {self.user.username}: {answer.status_code}")

    def _poll_until_granted(self, timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        while True:
            status = self.browser.status()
            if status.get("final"):
                if status.get("status") != "granted":
                    raise RuntimeError(f"the login of {self.user.username} ended as {status}")
                return
            if time.monotonic() > deadline:
                raise RuntimeError(f"no grant for {self.user.username}: {status}")
            time.sleep(0.2)


def _drive(drivers: list[LoginDriver], logins: int, threads: int, real_every: int) -> int:
    """``logins`` more logins, spread over the drivers round-robin, from ``threads``
    threads (a driver is never used by two threads at once); one in ``real_every`` is a
    whole real login, the others forced. Returns how many were real."""
    per_thread: list[list[LoginDriver]] = [drivers[i::threads] for i in range(threads)]
    quota = [logins // threads + (1 if i < logins % threads else 0) for i in range(threads)]

    def run(index: int) -> int:
        mine = per_thread[index]
        real = 0
        for n in range(quota[index]):
            driver = mine[n % len(mine)]
            if n % real_every == 0:
                driver.again()
                real += 1
            else:
                driver.forced()
        return real

    with ThreadPoolExecutor(max_workers=threads) as pool:
        return sum(future.result() for future in [pool.submit(run, i) for i in range(threads)])


def _cleanup() -> dict[str, Any]:
    """``toopher_cleanup --audit-days 30`` and ``clearsessions`` now, then again once the
    rows are made old (their timestamps moved back: no one waits days in a benchmark)."""
    import io

    from django.contrib.sessions.models import Session
    from django.core.management import call_command
    from django.utils import timezone

    from django_toopher.models import AuditEvent, ConsumedRequest

    def run() -> dict[str, int]:
        out = io.StringIO()
        call_command("toopher_cleanup", "--audit-days", "30", stdout=out)
        call_command("clearsessions")
        return table_rows()

    fresh = run()
    now = timezone.now()
    ConsumedRequest.objects.update(used_at=now - timedelta(days=1))
    AuditEvent.objects.update(created_at=now - timedelta(days=31))
    Session.objects.update(expire_date=now - timedelta(seconds=1))
    return {"fresh": fresh, "aged": run()}


def login_growth(env: Environment, counts: Counts, report: Report) -> None:
    """Memory of the worker and rows in the database over many real logins."""
    site = env.toopher_site
    assert site is not None
    checkpoints = counts.growth_logins
    users = POOL.get(env, counts.growth_browsers)
    drivers = [LoginDriver(env, site, user) for user in users]
    before_rows = table_rows()
    started = time.monotonic()
    with ThreadPoolExecutor(max_workers=counts.growth_threads) as pool:
        list(pool.map(lambda d: d.first(), drivers))
    done = real = len(drivers)
    points = []
    for target in checkpoints:
        real += _drive(drivers, target - done, counts.growth_threads, counts.growth_real_every)
        done = target
        rows = table_rows()
        points.append({
            "logins": done,
            "real": real,
            "rss_kib": worker_rss_kib(site),
            "rows": {k: rows[k] - before_rows[k] for k in rows},
            "elapsed_s": time.monotonic() - started,
        })
    sizes = row_bytes()
    cleaned = _cleanup()
    report.raw["growth_logins"] = {"points": points, "row_bytes": sizes, "cleanup": cleaned,
                                   "browsers": len(drivers)}
    base = points[0]
    for point in points:
        report.add(
            Row(
                "Growth: logins",
                f"After {point['logins']} logins ({point['real']} whole, {len(drivers)} "
                "browsers): worker memory; rows added: sessions / audit events / "
                "single-use claims",
                f"{point['rss_kib'] / 1024:.1f} MiB (x{point['rss_kib'] / base['rss_kib']:.3f}); "
                f"{point['rows']['session']} / {point['rows']['audit event']} / "
                f"{point['rows']['single-use claim']}",
                note=f"{point['elapsed_s']:.0f} s into the run",
            )
        )
    last = points[-1]
    growth = last["rss_kib"] / base["rss_kib"] - 1
    report.add(
        Row(
            "Growth: logins",
            f"Worker memory after {last['logins']} / after {base['logins']} logins",
            f"{last['rss_kib'] / base['rss_kib']:.3f} "
            f"({(last['rss_kib'] - base['rss_kib']) / 1024:+.1f} MiB)",
            f"<= {1 + MEMORY_GROWTH:.2f}",
            growth <= MEMORY_GROWTH,
            note="resident memory (VmRSS) of the one gunicorn worker (gthread, 4 threads); "
            f"one login in {counts.growth_real_every} is whole (password, the push answered "
            "by the phone's automation, one poll, the grant claimed once), the others forced "
            "(the password, then login() under django_toopher.testing's approved_login)",
        )
    )
    per_login = {
        k: (last["rows"][k] - base["rows"][k]) / max(1, last["real"] - base["real"])
        for k in ("session", "audit event", "single-use claim")
    }
    report.add(
        Row(
            "Growth: logins",
            f"Rows added per whole login between {base['logins']} and {last['logins']} "
            "logins: sessions / audit events / single-use claims (bytes per row)",
            f"{per_login['session']:.2f} / {per_login['audit event']:.2f} / "
            f"{per_login['single-use claim']:.2f} ({sizes['session']:.0f} / "
            f"{sizes['audit event']:.0f} / {sizes['single-use claim']:.0f} bytes)",
            note="a login again from the same browser cycles its session key (the old row "
            "is deleted), so sessions grow with browsers, not logins; a forced login writes "
            "no audit event and no claim, so the rows added divide by the whole logins; "
            "bytes are the sum of the columns' lengths, without the database's overhead",
        )
    )
    fresh, aged = cleaned["fresh"], cleaned["aged"]
    bounded = aged["single-use claim"] == 0 and aged["audit event"] == 0 and aged["session"] == 0
    report.add(
        Row(
            "Growth: logins",
            "Rows left by toopher_cleanup --audit-days 30 + clearsessions: now / once old "
            "(sessions / audit events / single-use claims)",
            f"{fresh['session']} / {fresh['audit event']} / {fresh['single-use claim']} -> "
            f"{aged['session']} / {aged['audit event']} / {aged['single-use claim']}",
            "0 once old",
            bounded,
            note="'once old': the rows' timestamps moved back (claims by a day, audit "
            "events by 31 days, sessions past their expiry), then the same commands again",
        )
    )

