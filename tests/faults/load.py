"""Steady login load on the cluster, and the figures a fault is judged by.

:class:`Load` runs client threads, each logging users in one after another as a
browser would (password, naming the terminal, the push, polling the status endpoint
at the interval it asks for, every fifth login polling from two tabs on both
instances at once) and approving on the phone through the sandbox's control API.
Every response is judged (:meth:`Load.observe`); every login ends in one outcome:

- ``completed``: granted, and the account page shows this user;
- ``refused``: ended with a clear message (a final status with a message, a 503 page
  or JSON error saying to try again, a Toopher failure the user gave up retrying);
- ``restarted``: its session was lost (the cache restarted): the site sends the
  browser back to the password step, which works again;
- ``stuck``: none of these within ``ATTEMPT_TIMEOUT`` (a failure).

:func:`invariants` then holds the site's records (the audit trail, the
``ConsumedRequest`` table) against the sandbox's own record of the requests it sent
and granted: no login without an approval of its own request, no approval used
twice, no more pushes than login attempts and retries.
"""

from __future__ import annotations

import json
import random
import re
import sqlite3
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import requests

from tests.scale.cluster import Browser, FreshDatabase
from toopher_sandbox.testing import SandboxControl

#: Seconds one login may take before it counts as stuck.
ATTEMPT_TIMEOUT = 75
#: Seconds a user waits before pressing "try again" after a Toopher failure; how often.
RETRY_PAUSE = 4.0
MAX_RETRIES = 2
TWO_TABS_EVERY = 5
PASSWORD = "faults-password-1"
_CSRF = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')
_BARE = re.compile(r"Traceback|Server Error \(500\)|<title>[^<]*Error at /", re.I)


@dataclass
class Figures:
    """What one fault did to the logins in flight and started during it."""

    name: str
    attempted: int = 0
    completed: int = 0
    refused: int = 0
    restarted: int = 0
    stuck: int = 0
    responses_5xx: int = 0
    bare_5xx: int = 0
    unlocked_without_approval: int = 0
    approvals_used_twice: int = 0
    pushes_over_limit: int = 0
    recovery_s: float | None = None
    passed: bool | None = None
    problems: list[str] = field(default_factory=list)

    def add_problem(self, text: str) -> None:
        if len(self.problems) < 40:
            self.problems.append(text[:600])


def _csrf(text: str) -> str | None:
    match = _CSRF.search(text)
    return match.group(1) if match else None


def clear_error(response: requests.Response) -> bool:
    """A 5xx that tells the user what happened and how to go on (not a bare 500)."""
    if response.status_code == 500 or _BARE.search(response.text or ""):
        return False
    if "json" in response.headers.get("Content-Type", ""):
        try:
            data = response.json()
        except ValueError:
            return False
        return bool(isinstance(data, dict) and (data.get("message") or data.get("error")))
    text = response.text or ""
    return "<html" in text.lower() and ("href=" in text or "<form" in text)


class _Current:
    """The figures a login counts into: fixed ones, or the load's current ones."""

    def __init__(self, load: Load, fixed: Figures | None) -> None:
        self.load = load
        self.fixed = fixed

    def now(self) -> Figures:
        return self.fixed or self.load.figures

    def add_problem(self, text: str) -> None:
        self.now().add_problem(text)


class Load:
    """Client threads logging ``users`` in over ``urls`` until stopped."""

    def __init__(
        self,
        urls: list[str],
        users: dict[str, str],
        sandbox_base: str,
        *,
        threads: int,
        seed: int,
    ) -> None:
        self.urls = urls  # shared, mutable: the live instances, as a load balancer sees them
        self.phones = users
        self.queue = list(users)
        self.sandbox_base = sandbox_base
        self.threads = threads
        self.seed = seed
        self.lock = threading.Lock()
        self.stopping = threading.Event()
        #: Cleared: logins wait before approving (to release many grants at once).
        self.approvals = threading.Event()
        self.approvals.set()
        self.allowed_pushes: Counter[str] = Counter()
        self.figures = Figures("warm-up")
        self.counter = 0
        self._workers: list[threading.Thread] = []

    # ---------------------------------------------------------------- users and figures

    def take_user(self) -> str:
        with self.lock:
            return self.queue.pop(0)

    def give_back(self, username: str) -> None:
        with self.lock:
            self.queue.append(username)

    def measure(self, name: str) -> Figures:
        """Start counting into new figures (returns them; the old ones stay as they are)."""
        with self.lock:
            self.figures = Figures(name)
            return self.figures

    def count(self, attr: str, figures: Figures | _Current, by: int = 1) -> None:
        with self.lock:
            target = figures.now() if isinstance(figures, _Current) else figures
            setattr(target, attr, getattr(target, attr) + by)

    def observe_into(self, fixed: Figures | None):
        def observe(response: requests.Response) -> None:
            figures = fixed or self.figures
            if response.status_code >= 500:
                self.count("responses_5xx", figures)
                if not clear_error(response):
                    self.count("bare_5xx", figures)
                    figures.add_problem(
                        f"bare {response.status_code} {response.request.method} "
                        f"{response.url}: {response.text[:300]}"
                    )
            elif _BARE.search(response.text or ""):
                self.count("bare_5xx", figures)
                figures.add_problem(f"traceback in {response.url}: {response.text[:300]}")

        return observe

    # ---------------------------------------------------------------- threads

    def start(self) -> Load:
        for index in range(self.threads):
            worker = threading.Thread(target=self._run, args=(index,), daemon=True)
            worker.start()
            self._workers.append(worker)
        return self

    def stop(self, timeout: float = ATTEMPT_TIMEOUT + 15) -> None:
        self.stopping.set()
        self.approvals.set()
        deadline = time.monotonic() + timeout
        for worker in self._workers:
            worker.join(max(0.1, deadline - time.monotonic()))
        alive = [w for w in self._workers if w.is_alive()]
        if alive:
            self.figures.add_problem(f"{len(alive)} client threads did not stop")

    def _run(self, index: int) -> None:
        rng = random.Random(self.seed * 1000 + index)
        control = SandboxControl(self.sandbox_base, timeout=15)
        while not self.stopping.is_set():
            with self.lock:
                self.counter += 1
                two_tabs = self.counter % TWO_TABS_EVERY == 0
            self.attempt(rng, control, two_tabs=two_tabs)

    # ---------------------------------------------------------------- one login

    def attempt(
        self, rng: random.Random, control: SandboxControl, *, two_tabs: bool = False,
        figures: Figures | None = None,
    ) -> str:
        """One login from the password to its end; returns its outcome."""
        username = self.take_user()
        try:
            outcome = self._attempt(username, rng, control, two_tabs, figures)
        except (requests.RequestException, OSError) as exc:
            # The client lost its connection mid-request (an instance was killed):
            # a browser shows its own error and the user starts again.
            figures.add_problem(f"{username}: connection: {type(exc).__name__}: {exc}")
            outcome = "restarted"
        finally:
            self.give_back(username)
        # A login counts for the phase in which it ended (it may have begun before).
        ended = figures or self.figures
        self.count("attempted", ended)
        self.count(outcome, ended)
        return outcome

    def _attempt(
        self, username: str, rng: random.Random, control: SandboxControl, two_tabs: bool,
        fixed: Figures | None,
    ) -> str:
        figures = _Current(self, fixed)
        # A stuck login is counted where it ends, ATTEMPT_TIMEOUT later (often a later
        # fault): its message names the phase it began in, where the cause usually is.
        began = figures.now().name
        browser = Browser(self.urls, rng, raise_5xx=False, observe=self.observe_into(fixed))
        deadline = time.monotonic() + ATTEMPT_TIMEOUT
        with self.lock:
            self.allowed_pushes[username] += 1
        page = browser.request("GET", "/accounts/login/")
        token = _csrf(page.text) if page.status_code == 200 else None
        if token is None:
            return self._refused_page(page, figures, username, "login page")
        answer = browser.request(
            "POST", "/accounts/login/",
            data={"username": username, "password": PASSWORD, "csrfmiddlewaretoken": token},
        )
        if answer.status_code != 302:
            return self._refused_page(answer, figures, username, "password step")
        approved: set[str] = set()
        retries = 0
        stalled = False  # the last visit of the pending page neither named nor pushed
        outcome: str | None = None
        while time.monotonic() < deadline and outcome is None:
            seen = self._poll(browser, two_tabs)
            if seen is None:  # a clear 503: the page says try again; the script polls on
                time.sleep(2)
                continue
            code, data = seen
            if code == 404 or data.get("status") == "none":
                outcome = "granted?" if approved else "restarted"
                break
            if data.get("final"):
                if data.get("status") == "granted":
                    outcome = "granted?"
                elif data.get("message"):
                    outcome = "refused"
                else:
                    figures.add_problem(f"{username}: final {data} without a message")
                    outcome = "stuck"
                break
            step = data.get("status")
            if step in ("start", "name_terminal"):
                # The pending page: names this browser and sends the push, no waiting.
                # If the last visit did neither (a 503, a push on its way elsewhere),
                # wait an interval first, as the page's script does: never a busy loop.
                if stalled:
                    time.sleep(max(0.5, float(data.get("interval") or 2)))
                stalled = not self._visit_pending(browser, username, figures)
                continue
            stalled = False
            if step == "pushed":
                self._approve(control, username, approved)
            elif step == "failed":
                if not data.get("message"):
                    figures.add_problem(f"{username}: failed step without a message: {data}")
                if retries >= MAX_RETRIES:
                    outcome = "refused"  # the user gives up; the message said why
                    break
                retries += 1
                time.sleep(RETRY_PAUSE)
                self._retry(browser, username)
            else:
                figures.add_problem(f"{username}: unexpected step {data}")
            time.sleep(max(0.5, float(data.get("interval") or 2)) * rng.uniform(0.8, 1.1))
        if outcome is None:
            figures.add_problem(f"{username}: stuck (began during {began}): "
                                f"{browser.trail[-6:]}")
            return "stuck"
        shown = self._account(browser)
        if outcome == "granted?":
            if shown == username and approved:
                return "completed"
            if shown == username:
                self.count("unlocked_without_approval", figures)
                figures.add_problem(f"{username}: logged in, but no approval was given")
                return "completed"
            # The grant was given but the login did not stick (its session was lost).
            return "restarted"
        if shown is not None:
            self.count("unlocked_without_approval", figures)
            figures.add_problem(f"{username}: ended {outcome} but the account page shows {shown}")
        return outcome

    def _refused_page(
        self, response: requests.Response, figures: _Current, username: str, where: str
    ) -> str:
        if response.status_code >= 500 and clear_error(response):
            return "refused"
        if response.status_code < 500:
            figures.add_problem(f"{username}: {where}: {response.status_code} "
                                f"{response.text[:200]}")
        return "stuck" if response.status_code < 500 else "refused"

    def _poll(self, browser: Browser, two_tabs: bool) -> tuple[int, dict[str, Any]] | None:
        """One status poll (two tabs: one on each live instance at once)."""
        if two_tabs and len(self.urls) > 1:
            results: list[requests.Response | None] = [None, None]

            def tab(i: int, base: str) -> None:
                try:
                    results[i] = browser.request("GET", "/toopher/pending/status/", base)
                except requests.RequestException:
                    results[i] = None

            tabs = [threading.Thread(target=tab, args=(i, base))
                    for i, base in enumerate(list(self.urls)[:2])]
            for t in tabs:
                t.start()
            for t in tabs:
                t.join(60)
            answers = [r for r in results if r is not None and r.status_code < 500]
            if not answers:
                return None
            # The tab that was granted decides: the other lost the race ("none", or
            # "this approval was already used"), and the browser is logged in all the same.
            datas = [(r.status_code, r.json()) for r in answers]
            for code, data in datas:
                if data.get("status") == "granted":
                    return code, data
            for code, data in datas:
                if data.get("final") and data.get("status") != "none":
                    return code, data
            return datas[0]
        response = browser.request("GET", "/toopher/pending/status/")
        if response.status_code >= 500:
            return None
        try:
            return response.status_code, response.json()
        except ValueError:
            return None

    def _visit_pending(self, browser: Browser, username: str, figures: _Current) -> bool:
        """The pending page (naming this browser if asked); False if it moved nothing on."""
        page = browser.request("GET", "/toopher/pending/")
        if page.status_code == 200 and 'name="name"' in page.text:
            token = _csrf(page.text)
            if token:
                named = browser.request("POST", "/toopher/pending/terminal/",
                                        data={"name": f"Browser of {username}",
                                              "csrfmiddlewaretoken": token})
                return named.status_code == 302
            return False
        return page.status_code == 200 and 'data-status="start"' not in page.text

    def _retry(self, browser: Browser, username: str) -> None:
        page = browser.request("GET", "/toopher/pending/")
        token = _csrf(page.text) if page.status_code == 200 else None
        if token:
            with self.lock:
                self.allowed_pushes[username] += 1
            browser.request("POST", "/toopher/pending/",
                            data={"op": "retry", "csrfmiddlewaretoken": token})

    def _approve(self, control: SandboxControl, username: str, approved: set[str]) -> None:
        """The user taps "approve" for what the phone shows (nothing, while it is down)."""
        if not self.approvals.is_set():
            self.approvals.wait(30)
        try:
            for item in control.pending(self.phones[username])["authentication_requests"]:
                if item.get("user_name") == username:
                    control.respond_authentication(item["id"], grant=True)
                    approved.add(item["id"])
        except Exception:  # noqa: BLE001 (the sandbox is down or slow: try at the next poll)
            return

    def _account(self, browser: Browser) -> str | None:
        for _ in range(3):
            try:
                response = browser.request("GET", "/account/")
            except requests.RequestException:
                continue
            if response.status_code >= 500:
                time.sleep(1)
                continue
            if response.status_code != 200:
                return None
            match = re.search(r'<th scope="row">Username</th><td>([^<]*)</td>', response.text)
            return match.group(1) if match else None
        return None


# ------------------------------------------------------------------------ the records


def _norm(request_id: str) -> str:
    return request_id.replace("-", "").lower()


def sandbox_requests(db_path: Path) -> list[tuple[str, str, bool]]:
    """``(user name, request id, granted)`` of every authentication request the sandbox sent."""
    with sqlite3.connect(f"file:{db_path}?mode=ro", uri=True, timeout=30) as conn:
        rows = conn.execute(
            "SELECT u.name, r.id, r.granted FROM toopher_server_authenticationrequest r "
            "JOIN toopher_server_user u ON u.id = r.user_id"
        ).fetchall()
    return [(name, _norm(str(rid)), bool(granted)) for name, rid, granted in rows]


def invariants(figures: Figures, database: FreshDatabase, sandbox_db: Path,
               allowed_pushes: Counter[str]) -> None:
    """Hold the site's records against the sandbox's (cumulative over the run)."""
    sent = sandbox_requests(sandbox_db)
    granted_ids = {rid for _, rid, granted in sent if granted}
    granted_by_user = Counter(name for name, _, granted in sent if granted)
    pushes_by_user = Counter(name for name, _, _ in sent)
    consumed = [_norm(r[0]) for r in database.query(
        "SELECT request_id FROM django_toopher_consumedrequest")]
    foreign = [rid for rid in consumed if rid not in granted_ids]
    if foreign:
        figures.unlocked_without_approval += len(foreign)
        figures.add_problem(f"used approvals the sandbox never granted: {foreign[:5]}")
    events = dict(database.query(
        "SELECT u.username, count(*) FROM django_toopher_auditevent e "
        "JOIN auth_user u ON u.id = e.user_id WHERE e.kind = 'granted' GROUP BY u.username"))
    for name, count in events.items():
        if count > granted_by_user.get(name, 0):
            figures.approvals_used_twice += count - granted_by_user.get(name, 0)
            figures.add_problem(f"{name}: {count} grants for {granted_by_user.get(name, 0)} "
                                "approvals")
    fail_open = database.scalar(
        "SELECT count(*) FROM django_toopher_auditevent WHERE kind = 'fail_open'")
    if fail_open:
        figures.unlocked_without_approval += fail_open
        figures.add_problem(f"{fail_open} fail-open logins")
    for name, pushes in pushes_by_user.items():
        if pushes > allowed_pushes.get(name, 0):
            figures.pushes_over_limit += pushes - allowed_pushes.get(name, 0)
            figures.add_problem(f"{name}: {pushes} pushes for {allowed_pushes.get(name, 0)} "
                                "login attempts and retries")


def dump(figures: Figures) -> str:
    return json.dumps(figures.__dict__, indent=1, default=str)
