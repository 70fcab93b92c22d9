"""What a person sees around the login in the example site: the password reset (which
logs in, and so waits for the phone), the favicon, the nav during a pending login,
the account page's pairing line and its recent activity."""

from __future__ import annotations

import re
import urllib.request
from pathlib import Path

import pytest
from playwright.sync_api import expect

from .flows import (
    PATIENCE_MS,
    answer_on_phone,
    approved_login,
    expect_account_page,
    expect_pending,
    log_in,
    log_out,
    open_phone,
    pair,
    pair_from_scratch,
)

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def _reset_link(server, email: str) -> str:
    """The reset link of the last mail sent to ``email`` (file email backend)."""
    mails = sorted(Path(server.env["EMAIL_FILE_PATH"]).glob("*.log"),
                   key=lambda p: p.stat().st_mtime)
    texts = [p.read_text() for p in mails if f"To: {email}" in p.read_text()]
    assert texts, f"no mail to {email}"
    return re.search(r"http://\S+/accounts/reset/\S+/", texts[-1]).group(0)


def test_a_password_reset_lands_in_a_pending_login(context, stored_server, make_user):
    username, password = make_user(stored_server)
    page = context.new_page()
    phone = open_phone(context, stored_server)
    pair_from_scratch(page, phone, stored_server, username, password)

    page.goto(stored_server.url("/accounts/login/"))
    page.get_by_role("link", name="Forgot your password?").click()
    page.get_by_label(re.compile("Email")).fill(f"{username}@example.com")
    page.get_by_role("button", name=re.compile("Reset my password")).click()
    expect(page.get_by_text(re.compile("emailed you instructions", re.I))).to_be_visible()

    page.goto(_reset_link(stored_server, f"{username}@example.com"))
    new_password = "another correct horse battery"
    page.get_by_label("New password:", exact=True).fill(new_password)
    page.get_by_label("Confirm password:", exact=True).fill(new_password)
    page.get_by_role("button", name=re.compile("Change my password")).click()

    # post_reset_login logged the user in: a login like any other, so it waits.
    expect_pending(page)
    assert page.get_by_role("button", name=re.compile("^Log out")).count() == 0
    page.goto(stored_server.url("/account/"))
    page.wait_for_url(re.compile(r"/toopher/pending/"))
    answer_on_phone(phone, "Log in?", "Allow", site=page)
    expect_account_page(page, username)


def test_the_favicon_is_served(stored_server):
    with urllib.request.urlopen(stored_server.url("/favicon.ico"), timeout=10) as answer:  # noqa: S310
        assert answer.status == 200
        assert answer.headers["Content-Type"].startswith("image/svg+xml")


def test_no_404_in_the_console(context, stored_server):
    failures: list[str] = []
    page = context.new_page()
    page.on("response", lambda r: failures.append(r.url) if r.status >= 400 else None)
    page.goto(stored_server.url("/"))
    page.goto(stored_server.url("/accounts/login/"))
    page.wait_for_timeout(500)
    assert failures == []


def test_the_nav_offers_to_continue_or_cancel_a_pending_login(
    context, stored_server, make_user
):
    username, password = make_user(stored_server)
    page = context.new_page()
    phone = open_phone(context, stored_server)
    pair_from_scratch(page, phone, stored_server, username, password)
    log_in(page, stored_server, username, password)
    expect_pending(page)
    nav = page.get_by_role("navigation", name="Main")
    expect(nav.get_by_role("link", name="Log in")).to_have_count(0)
    expect(nav.get_by_role("link", name="Continue logging in")).to_be_visible()

    page.goto(stored_server.url("/"))  # the home page is open to anyone
    nav.get_by_role("link", name="Continue logging in").click()
    page.wait_for_url(re.compile(r"/toopher/pending/$"))
    nav.get_by_role("button", name="Cancel login").click()
    page.wait_for_url(re.compile(r"/accounts/login/"), timeout=PATIENCE_MS)
    expect(nav.get_by_role("link", name="Log in")).to_be_visible()
    expect(nav.get_by_role("link", name="Continue logging in")).to_have_count(0)


def test_recent_activity_names_the_action_of_each_approval(context, stored_server, make_user):
    username, password = make_user(stored_server)
    page = context.new_page()
    phone = open_phone(context, stored_server)
    pair_from_scratch(page, phone, stored_server, username, password)
    approved_login(page, phone, stored_server, username, password)
    page.get_by_role("link", name="Change email").click()
    expect_pending(page)
    answer_on_phone(phone, "Change email?", "Allow", site=page)
    page.wait_for_url(re.compile(r"/account/email/$"), timeout=PATIENCE_MS)
    page.goto(stored_server.url("/account/"))
    activity = page.locator("table").last
    expect(activity.get_by_text("Authentication granted: “Change email”")).to_be_visible()
    expect(activity.get_by_text("Authentication granted: login")).to_be_visible()
    expect(page.locator("#toopher-status")).to_have_text("paired with a phone")


def test_zero_storage_account_page_says_the_phone_is_paired(
    context, zero_storage_server, make_user
):
    server = zero_storage_server
    username, password = make_user(server)
    page = context.new_page()
    phone = open_phone(context, server)
    log_in(page, server, username, password)
    expect_account_page(page, username)
    status = page.locator("#toopher-status")
    expect(status).to_have_text(re.compile("no phone paired yet"))
    pair(page, phone, server)
    page.goto(server.url("/account/"))
    expect(status).to_have_text(re.compile("paired with a phone; Toopher keeps the pairing"))
    expect(page.get_by_text("no phone stored here")).to_have_count(0)
    log_out(page)
