"""pending.js in a real browser (Debian's Chromium through Playwright) against
``live_server`` and the live sandbox: progress, accessible status text, polling that
stops on a final state, and the page without JavaScript."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from .conftest import PASSWORD

CHROMIUM = Path(os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium"))

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def chromium(monkeypatch):
    if not CHROMIUM.exists():
        if os.environ.get("CI"):
            pytest.fail(f"{CHROMIUM} is missing (apt-get install chromium)")
        pytest.skip(f"{CHROMIUM} is missing")
    from playwright.sync_api import sync_playwright

    # Playwright's sync API runs an event loop in this thread; the test's own ORM
    # calls are still synchronous.
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True,
            args=["--no-sandbox", "--disable-gpu", "--no-first-run"],
        )
        try:
            yield browser
        finally:
            browser.close()


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
    chromium, live_server, paired_user, sandbox, phone, toopher_conf
):
    context = chromium.new_context()
    page = context.new_page()
    page.set_default_timeout(15_000)
    polls: list[str] = []
    page.on("request", lambda r: polls.append(r.url) if "/pending/status/" in r.url else None)
    _login(page, live_server.url)
    status = page.locator("#toopher-status")
    assert status.get_attribute("role") == "status"
    assert status.get_attribute("aria-live") == "polite"
    page.wait_for_function("document.querySelectorAll('#toopher-progress').length == 1")
    first = float(page.locator("#toopher-progress").evaluate("p => p.value"))
    page.wait_for_timeout(2200)
    second = float(page.locator("#toopher-progress").evaluate("p => p.value"))
    assert 0 < second < first <= 120
    assert len(polls) >= 1
    item = sandbox.wait_for_pending(phone["phone_id"], "authentication_requests")
    sandbox.respond_authentication(item["id"], grant=False)
    page.wait_for_function(
        "document.getElementById('toopher-status') &&"
        " document.getElementById('toopher-status').textContent.includes('denied')"
    )
    page.wait_for_url(re.compile(r".*/accounts/login/$"))
    count = len(polls)
    page.wait_for_timeout(2500)
    assert len(polls) == count  # polling stopped
    assert "denied" in page.content()
    context.close()


def test_grant_takes_the_browser_to_next(
    chromium, live_server, paired_user, sandbox, phone, toopher_conf
):
    context = chromium.new_context()
    page = context.new_page()
    page.set_default_timeout(15_000)
    _login(page, live_server.url)
    item = sandbox.wait_for_pending(phone["phone_id"], "authentication_requests")
    sandbox.respond_authentication(item["id"], grant=True)
    page.wait_for_url(re.compile(r".*/private/$"))
    assert "private: alice" in page.content()
    context.close()


def test_without_javascript(chromium, live_server, paired_user, sandbox, phone, toopher_conf):
    context = chromium.new_context(java_script_enabled=False)
    page = context.new_page()
    page.set_default_timeout(15_000)
    _login(page, live_server.url)
    item = sandbox.wait_for_pending(phone["phone_id"], "authentication_requests")
    sandbox.respond_authentication(item["id"], grant=True)
    page.click("#toopher-check")
    page.wait_for_url(re.compile(r".*/private/$"))
    assert "private: alice" in page.content()
    context.close()
