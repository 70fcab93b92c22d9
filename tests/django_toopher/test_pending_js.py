"""pending.js in a real browser (Debian's Chromium through Playwright) against
``live_server`` and the live sandbox: progress, accessible status text, polling that
stops on a final state, and the page without JavaScript."""

from __future__ import annotations

import re
from concurrent.futures import ThreadPoolExecutor

import pytest

from django_toopher.testing import PASSWORD

from ..chromium import launch as launch_chromium
from ..chromium import require_chromium

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture(scope="module")
def in_browser():
    """Run ``fn(browser)`` in a worker thread that keeps one Playwright and Chromium for
    the module; the contexts a test opened are closed after it.

    Playwright's sync API keeps an event loop on the thread that starts it; other
    browser tests of the run keep theirs open on the main thread, so this module gets a
    thread of its own and leaves the main thread's loop alone. A Chromium started once
    saves the module about a second and a half of CPU per test.
    """
    require_chromium()
    started: list = []  # the Playwright and the browser, made on the worker thread

    def launch():
        from playwright.sync_api import sync_playwright

        playwright = sync_playwright().start()
        started.extend([playwright, launch_chromium(playwright)])

    def stop():
        playwright, browser = started
        browser.close()
        playwright.stop()

    def run(fn):
        def work():
            browser = started[1]
            try:
                return fn(browser)
            finally:
                for context in browser.contexts:
                    context.close()

        return pool.submit(work).result(timeout=120)

    with ThreadPoolExecutor(max_workers=1) as pool:
        pool.submit(launch).result(timeout=120)
        try:
            yield run
        finally:
            pool.submit(stop).result(timeout=120)


def _login(page, base: str, next_url: str = "/private/") -> None:
    page.goto(f"{base}/accounts/login/?next={next_url}")
    page.fill("input[name=username]", "alice")
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(re.compile(r".*/toopher/pending/$"))
    if page.locator("input[name=name]").count():
        page.fill("input[name=name]", "Browser test")
        page.click("form[action$='/terminal/'] button[type=submit]")
        page.wait_for_selector("#toopher-status")


def test_polling_shows_progress_and_stops_on_denial(
    in_browser, live_server, toopher_paired_user, toopher_sandbox, toopher_phone, toopher_settings
):
    def scenario(browser):
        page = browser.new_context().new_page()
        page.set_default_timeout(15_000)
        polls: list[str] = []
        page.on(
            "request",
            lambda r: polls.append(r.url) if "/pending/status/" in r.url else None,
        )
        _login(page, live_server.url)
        status = page.locator("#toopher-status")
        assert status.get_attribute("role") == "status"
        assert status.get_attribute("aria-live") == "polite"
        first = float(page.locator("#toopher-progress").evaluate("p => p.value"))
        page.wait_for_timeout(2200)
        second = float(page.locator("#toopher-progress").evaluate("p => p.value"))
        assert 0 < second < first <= 120
        assert len(polls) >= 1
        item = toopher_sandbox.wait_for_pending(toopher_phone.phone_id, "authentication_requests")
        toopher_sandbox.respond_authentication(item["id"], grant=False)
        page.wait_for_function(
            "document.getElementById('toopher-status') &&"
            " document.getElementById('toopher-status').textContent.includes('denied')"
        )
        page.wait_for_url(re.compile(r".*/accounts/login/$"))
        count = len(polls)
        page.wait_for_timeout(2500)
        assert len(polls) == count  # polling stopped
        assert "denied" in page.content()

    in_browser(scenario)


def test_grant_takes_the_browser_to_next(
    in_browser, live_server, toopher_paired_user, toopher_sandbox, toopher_phone, toopher_settings
):
    def scenario(browser):
        page = browser.new_context().new_page()
        page.set_default_timeout(15_000)
        _login(page, live_server.url)
        item = toopher_sandbox.wait_for_pending(toopher_phone.phone_id, "authentication_requests")
        toopher_sandbox.respond_authentication(item["id"], grant=True)
        page.wait_for_url(re.compile(r".*/private/$"))
        assert "private: alice" in page.content()

    in_browser(scenario)


def test_without_javascript(
    in_browser, live_server, toopher_paired_user, toopher_sandbox, toopher_phone, toopher_settings
):
    def scenario(browser):
        page = browser.new_context(java_script_enabled=False).new_page()
        page.set_default_timeout(15_000)
        _login(page, live_server.url)
        assert page.locator("noscript").count() >= 1
        item = toopher_sandbox.wait_for_pending(toopher_phone.phone_id, "authentication_requests")
        toopher_sandbox.respond_authentication(item["id"], grant=True)
        page.click("#toopher-check")
        page.wait_for_url(re.compile(r".*/private/$"))
        assert "private: alice" in page.content()

    in_browser(scenario)


def test_a_poll_that_is_never_answered_does_not_stop_the_polling(
    in_browser, live_server, toopher_paired_user, toopher_sandbox, toopher_phone, toopher_settings
):
    """The first status poll hangs (no answer, ever): pending.js gives up on it after
    its wait and polls again, so the grant still takes the browser on."""

    def scenario(browser):
        page = browser.new_context().new_page()
        page.set_default_timeout(15_000)
        held: list[object] = []

        def hold_the_first(route):
            if not held:
                held.append(route)  # never fulfilled: the request hangs
            else:
                route.continue_()

        page.route(re.compile(r".*/pending/status/.*"), hold_the_first)
        page.clock.install()
        _login(page, live_server.url)
        with page.expect_request(re.compile(r".*/pending/status/.*")):
            page.clock.run_for(3_000)  # the first poll goes out, and hangs
        item = toopher_sandbox.wait_for_pending(toopher_phone.phone_id, "authentication_requests")
        toopher_sandbox.respond_authentication(item["id"], grant=True)
        page.clock.run_for(20_000)  # past the poll's wait: it is abandoned, the next goes
        page.wait_for_url(re.compile(r".*/private/$"))
        assert "private: alice" in page.content()

    in_browser(scenario)
