"""The example's single-page login (/spa/, demo_site/spa.js): plain JavaScript over the
JSON API for browsers, in Chromium, with the phone simulator beside it.

The page never navigates: the password, naming the browser, the wait for the phone
and the step-up of the site's own JSON view all go through fetch(). It runs under the
example's strict Content-Security-Policy without one violation.
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from .csp_watch import watch_csp
from .flows import PATIENCE_MS, answer_on_phone, open_phone, pair_from_scratch

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def open_spa(page, server):
    """From the home page, the link to the single-page example."""
    page.goto(server.url("/"))
    page.get_by_role("link", name="log in from a single-page app").click()
    page.wait_for_url(re.compile(r"/spa/$"))
    status = page.locator("#spa-status")
    expect(status).to_have_text("Not logged in.")
    expect(page.get_by_label("Username", exact=True)).to_be_focused()
    return status


def spa_log_in(page, username, password):
    """Type the password and send the form with the keyboard."""
    page.get_by_label("Username", exact=True).fill(username)
    page.get_by_label("Password", exact=True).fill(password)
    page.get_by_label("Password", exact=True).press("Enter")


def paired_at_the_spa(context, server, make_user):
    """A new user with a paired phone, on the single-page example, not logged in."""
    username, password = make_user(server)
    page = context.new_page()
    phone = open_phone(context, server)
    pair_from_scratch(page, phone, server, username, password)
    status = open_spa(page, server)
    return username, password, page, phone, status, page.get_by_role("alert")


def test_log_in_and_step_up_through_the_api(context, stored_server, make_user):
    reports = watch_csp(context)
    username, password, page, phone, status, alert = paired_at_the_spa(
        context, stored_server, make_user
    )

    # A wrong password: the API's error code and message are shown.
    spa_log_in(page, username, "not the password")
    expect(alert).to_contain_text("That user name and password do not match.")
    expect(alert).to_contain_text("invalid_credentials")
    expect(status).to_have_text("Not logged in.")

    # The right one: this browser is new, so it is named first (focus moves there).
    spa_log_in(page, username, password)
    expect(page.get_by_role("heading", name="Name this browser")).to_be_visible()
    expect(alert).to_have_text("")
    name = page.get_by_label("Name of this browser")
    expect(name).to_be_focused()
    name.fill("SPA browser")
    name.press("Enter")

    expect(status).to_have_text("Waiting for your phone to approve the login…",
                                timeout=PATIENCE_MS)
    expect(page.get_by_role("heading", name="Approve the login on your phone")).to_be_visible()
    expect(page.get_by_label("One-time password")).to_be_visible()
    facts = answer_on_phone(phone, "Log in?", "Allow", site=page)
    assert facts["User"] == username
    assert "SPA browser" in facts.values(), facts

    # The page notices by polling pending/status and shows the user.
    expect(status).to_have_text(
        f"Logged in as {username}: your phone approved the login.", timeout=PATIENCE_MS)
    expect(page.get_by_role("heading", name="Logged in")).to_be_visible()

    # The step-up: the site's JSON view answers approval_required until the phone allows.
    email = f"{username}@new.example.com"
    page.get_by_label("New email address").fill(email)
    page.get_by_role("button", name="Change email").click()
    expect(status).to_have_text("Waiting for your phone to approve “Change email”…",
                                timeout=PATIENCE_MS)
    expect(page.get_by_role("heading", name="Approve “Change email” on your phone")
           ).to_be_visible()
    facts = answer_on_phone(phone, "Change email?", "Allow", site=page)
    assert facts["Action"] == "Change email"
    expect(status).to_have_text(f"Your email address is now {email}.", timeout=PATIENCE_MS)
    expect(page.locator("#spa-result")).to_have_text(f"Your email address is now {email}.")
    assert re.search(r"/spa/$", page.url)  # never left the page

    # The HTML pages agree: the same session is logged in, with the new address.
    page.goto(stored_server.url("/account/"))
    expect(page.get_by_role("button", name=f"Log out {username}")).to_be_visible()
    expect(page.get_by_text(email).first).to_be_visible()

    # Back on the page, the session is found again; logging out goes through the API.
    page.goto(stored_server.url("/spa/"))
    expect(status).to_have_text(f"Logged in as {username}.")
    page.get_by_role("button", name="Log out", exact=True).click()
    expect(status).to_have_text("You are logged out.")
    expect(page.get_by_label("Username", exact=True)).to_be_focused()
    assert reports == [], reports


def test_a_wrong_code_then_a_denial(context, stored_server, make_user):
    username, password, page, phone, status, alert = paired_at_the_spa(
        context, stored_server, make_user
    )

    spa_log_in(page, username, password)
    name = page.get_by_label("Name of this browser")
    name.fill("Denied browser")
    name.press("Enter")
    expect(status).to_have_text("Waiting for your phone to approve the login…",
                                timeout=PATIENCE_MS)
    request_heading = phone.get_by_role("heading", name="Log in?", exact=True)
    expect(request_heading).to_be_visible(timeout=PATIENCE_MS)

    # A wrong one-time password: an error, and the login still waits.
    page.get_by_label("One-time password").fill("000000")
    page.get_by_role("button", name="Use this code").click()
    expect(alert).to_contain_text("invalid_otp")
    expect(status).to_have_text("Waiting for your phone to approve the login…")

    # Reloading the page picks the pending login up again (no redirect to the HTML page).
    page.reload()
    expect(status).to_have_text("Waiting for your phone to approve the login…",
                                timeout=PATIENCE_MS)

    answer_on_phone(phone, "Log in?", "Deny", reason="Not me")
    expect(alert).to_contain_text("denied", timeout=PATIENCE_MS)
    expect(status).to_contain_text("Not logged in:")
    expect(page.get_by_label("Username", exact=True)).to_be_focused()

    # Nobody is logged in: the site says so too.
    page.goto(stored_server.url("/spa/"))
    expect(status).to_have_text("Not logged in.")
