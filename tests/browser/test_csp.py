"""The example site under a strict Content-Security-Policy (no 'unsafe-inline'), and
django_toopher's styles kept to its own elements.

The example sends the policy by default (demo_site/csp.py). A whole login (password,
pairing, naming the browser, the pending page polling, the approval) must run without
one violation; and the site's nav bar must look the same on the site's pages and on the
app's.
"""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from .csp_watch import watch_csp
from .flows import approved_login, expect_account_page, log_in, open_phone, pair

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def test_the_whole_login_reports_no_csp_violation(context, stored_server, make_user):
    reports = watch_csp(context)
    username, password = make_user(stored_server)
    page = context.new_page()
    response = page.goto(stored_server.url("/"))
    policy = response.headers.get("content-security-policy", "")
    assert "style-src 'self'" in policy and "unsafe-inline" not in policy

    phone = open_phone(context, stored_server)
    log_in(page, stored_server, username, password)
    expect_account_page(page, username)
    pair(page, phone, stored_server)
    page.get_by_role("button", name=f"Log out {username}").click()
    approved_login(page, phone, stored_server, username, password)
    page.goto(stored_server.url("/toopher/terminals/"))
    # The pending page's script ran (it polled and moved on): scripts were allowed.
    assert reports == [], reports

    # The watch itself works: an inline style is refused and reported.
    page.evaluate("document.head.insertAdjacentHTML('beforeend', '<style>p{}</style>')")
    page.wait_for_timeout(300)
    assert any("style-src" in r for r in reports), reports


@pytest.mark.parametrize("width", [375, 1100])
def test_the_nav_bar_is_the_same_on_the_site_and_on_the_apps_pages(
    browser, stored_server, make_user, width
):
    username, password = make_user(stored_server)
    context = browser.new_context(viewport={"width": width, "height": 800})
    try:
        page = context.new_page()
        log_in(page, stored_server, username, password)
        expect_account_page(page, username)
        heights = {}
        for path in ("/account/", "/toopher/security/", "/toopher/terminals/", "/"):
            page.goto(stored_server.url(path))
            expect(page.get_by_role("button", name=f"Log out {username}")).to_be_visible()
            heights[path] = page.locator("header").bounding_box()["height"]
        assert len(set(heights.values())) == 1, heights
        if width >= 1100:
            assert heights["/account/"] < 60, heights  # one row
    finally:
        context.close()
