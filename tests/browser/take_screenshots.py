"""Take the README's screenshots: ``python -m tests.browser.take_screenshots``.

Starts the example site (fresh SQLite, free port), pairs a new user with a simulated
phone, logs in, and saves the pending page and the phone simulator showing the request
to ``docs/screenshots/pending.png`` and ``docs/screenshots/phone.png``.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

from playwright.sync_api import sync_playwright

from ..chromium import launch
from .conftest import DEFAULT_TIMEOUT_MS
from .flows import (
    expect_account_page,
    expect_pending,
    log_in,
    log_out,
    open_phone,
    pair,
    request_card,
)
from .server import ROOT, ExampleServer

OUT = ROOT / "docs" / "screenshots"


def main() -> int:
    OUT.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        server = ExampleServer(Path(tmp)).start()
        try:
            server.create_user("alice", "correct horse battery staple")
            with sync_playwright() as playwright:
                browser = launch(playwright)
                context = browser.new_context(
                    viewport={"width": 760, "height": 560}, device_scale_factor=1
                )
                context.set_default_timeout(DEFAULT_TIMEOUT_MS)
                page = context.new_page()
                phone = open_phone(context, server, name="Alice's phone")
                phone.set_viewport_size({"width": 520, "height": 900})
                log_in(page, server, "alice", "correct horse battery staple")
                expect_account_page(page, "alice")
                pair(page, phone, server)
                log_out(page)
                log_in(page, server, "alice", "correct horse battery staple")
                expect_pending(page, browser_name="Alice's laptop")
                # Open the phone afresh (without the last notice), showing the request.
                phone.goto(phone.url.split("?", 1)[0])
                request_card(phone, "Log in?")
                page.screenshot(path=str(OUT / "pending.png"))
                phone.locator("#phone").screenshot(path=str(OUT / "phone.png"))
                browser.close()
        finally:
            server.stop()
    print(f"saved {OUT / 'pending.png'} and {OUT / 'phone.png'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
