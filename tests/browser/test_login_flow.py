"""A new user's first minutes on the example site, in Chromium, with a phone beside them.

Each test starts from a fresh user and a fresh phone on a shared example server (its
own SQLite file and mounted sandbox), and drives both pages like a person would.
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from .flows import (
    PATIENCE_MS,
    answer_on_phone,
    expect_account_page,
    expect_pending,
    log_in,
    log_out,
    open_phone,
    pair,
)

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def test_pair_then_log_in_with_approval_on_the_phone(context, stored_server, make_user):
    username, password = make_user(stored_server)
    page = context.new_page()
    phone = open_phone(context, stored_server)

    # Not paired yet: the password alone logs in.
    log_in(page, stored_server, username, password)
    expect_account_page(page, username)

    pair(page, phone, stored_server)
    log_out(page)

    # Paired: the login now waits for the phone.
    log_in(page, stored_server, username, password)
    expect_pending(page)
    expect(page.get_by_role("heading", name="Approve the login on your phone")).to_be_visible()
    # While pending, the account is out of reach.
    assert page.get_by_role("button", name=re.compile("^Log out")).count() == 0

    facts = answer_on_phone(phone, "Log in?", "Allow", site=page)
    assert facts["User"] == username
    assert facts["Action"] == "Log in"

    # The page notices the approval by itself (its script polls) and moves on.
    expect_account_page(page, username)


def test_denial_leaves_the_user_logged_out_with_a_message(context, stored_server, make_user):
    username, password = make_user(stored_server)
    page = context.new_page()
    phone = open_phone(context, stored_server)
    log_in(page, stored_server, username, password)
    expect_account_page(page, username)
    pair(page, phone, stored_server)
    log_out(page)

    log_in(page, stored_server, username, password)
    expect_pending(page)
    answer_on_phone(phone, "Log in?", "Deny", reason="That was not me")

    # The pending page says so, then leaves for the login form, which keeps the message.
    page.wait_for_url(re.compile(r"/accounts/login/"), timeout=PATIENCE_MS)
    expect(page.get_by_role("status").filter(has_text="denied on your phone")).to_be_visible()
    expect(page.get_by_text("Log in again to start over.")).to_be_visible()
    # Logged out: the account page sends us to the login form.
    page.goto(stored_server.url("/account/"))
    page.wait_for_url(re.compile(r"/accounts/login/"))
    expect(page.get_by_role("heading", name="Log in")).to_be_visible()


def test_change_email_needs_an_approval_of_that_action(context, stored_server, make_user):
    username, password = make_user(stored_server)
    page = context.new_page()
    phone = open_phone(context, stored_server)
    log_in(page, stored_server, username, password)
    expect_account_page(page, username)
    pair(page, phone, stored_server)

    # Even in this verified session, changing the email asks the phone first.
    page.get_by_role("link", name="Account").first.click()
    page.get_by_role("link", name="Change email").click()
    expect_pending(page)
    expect(page.get_by_role("heading", name=re.compile("Change email"))).to_be_visible()

    facts = answer_on_phone(phone, "Change email?", "Allow", site=page)
    assert facts["Action"] == "Change email"

    page.wait_for_url(re.compile(r"/account/email/$"), timeout=PATIENCE_MS)
    page.get_by_label("New email address").fill(f"{username}@new.example.com")
    page.get_by_role("button", name="Save email").click()
    expect_account_page(page, username)
    expect(page.locator("#email")).to_have_text(f"{username}@new.example.com")


def test_the_admin_login_waits_for_the_phone_too(context, stored_server, make_user):
    username, password = make_user(stored_server)  # a superuser
    page = context.new_page()
    phone = open_phone(context, stored_server)
    log_in(page, stored_server, username, password)
    expect_account_page(page, username)
    pair(page, phone, stored_server)
    log_out(page)

    page.goto(stored_server.url("/admin/"))
    page.wait_for_url(re.compile(r"/admin/login/"))
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in").click()
    expect_pending(page)
    answer_on_phone(phone, "Log in?", "Allow", site=page)
    page.wait_for_url(re.compile(r"/admin/$"), timeout=PATIENCE_MS)
    expect(page.get_by_text("Site administration")).to_be_visible()
