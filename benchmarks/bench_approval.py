"""Approval latency: "approve" on the phone to the browser leaving the pending page.

A headless Chromium (Playwright) logs in with the password and lands on the real
pending page with its script (pending.js polling the status endpoint). The harness
finds the push on the phone through the sandbox's control API, waits a random part
of a poll interval (a person approves at any moment of the page's polling cycle),
then grants it: the clock starts just before the grant is sent and stops when the
browser's navigation to the next page commits.
"""

from __future__ import annotations

import random
import re
import time

from tests.chromium import CHROMIUM
from tests.chromium import launch as launch_chromium

from .accounts import PASSWORD, Browser, paired_user, pending_request_ids, wait_for_new_request
from .config import Counts
from .report import Report, Row
from .servers import Environment
from .stats import percentile

#: The target: the poll interval plus this many seconds.
SLACK = 0.25
WAIT_MS = 20_000


def approval_latency(env: Environment, counts: Counts, report: Report) -> None:
    assert env.toopher_site and env.control
    from django_toopher.app_settings import app_settings

    interval = app_settings.POLL_INTERVAL
    target = interval + SLACK
    group = "Approval"
    figure = (
        "Approve on the phone -> browser leaves the pending page, "
        f"p50 / p95 over {counts.approval_runs} runs"
    )
    if counts.approval_runs <= 0:
        return
    if not CHROMIUM.exists():
        report.add(Row(group, figure, "not measured", f"p95 <= {target:.2f} s", None,
                       f"{CHROMIUM} is missing"))
        report.problems.append(f"approval latency not measured: {CHROMIUM} is missing")
        return
    from playwright.sync_api import sync_playwright

    site = env.toopher_site
    user = paired_user(env, "approver")
    # One scripted login first: it names this "browser" and gives its terminal cookie,
    # so that every measured login goes straight to the push.
    prep = Browser(site)
    prep.verified_login(env, user)
    terminal = {
        "name": "toopher_terminal",
        "value": prep.cookies()["toopher_terminal"],
        "url": site.base_url,
    }
    rng = random.Random(6)  # noqa: S311 (a reproducible phase, not a secret)
    latencies: list[float] = []
    with sync_playwright() as playwright:
        browser = launch_chromium(playwright)
        try:
            context = browser.new_context()
            context.set_default_timeout(WAIT_MS)
            page = context.new_page()
            for _ in range(counts.approval_runs):
                context.clear_cookies()
                context.add_cookies([terminal])
                page.goto(site.base_url + "/accounts/login/")
                page.fill("#id_username", user.username)
                page.fill("#id_password", PASSWORD)
                before = pending_request_ids(env, user)
                page.click("button[type=submit]")
                page.wait_for_url(re.compile(r"/toopher/pending/$"))
                request_id = wait_for_new_request(env, user, before)
                time.sleep(rng.uniform(0, interval))
                started = time.perf_counter()
                env.control.respond_authentication(request_id, grant=True)
                page.wait_for_url(re.compile(r"/bench/hello/$"), wait_until="commit")
                latencies.append(time.perf_counter() - started)
                page.wait_for_load_state()
                if page.inner_text("body").strip() != f"hello {user.username}":
                    raise RuntimeError("the approved browser is not logged in")
        finally:
            browser.close()
    p50, p95 = percentile(latencies, 50), percentile(latencies, 95)
    report.raw["approval"] = {"latencies_s": latencies, "interval_s": interval}
    report.add(
        Row(
            group,
            figure,
            f"{p50:.2f} / {p95:.2f} s",
            f"p95 <= {target:.2f} s (interval {interval} s + {SLACK * 1000:.0f} ms)",
            p95 <= target,
            f"min {min(latencies):.2f} s, max {max(latencies):.2f} s; approvals land at a "
            "random moment of the page's poll cycle (seeded)",
        )
    )
