"""Zero-storage mode in Chromium: the site keeps no pairing id, only a signed cookie
naming this browser, and asks Toopher by user name. A browser Toopher does not know
yet is named once by the user; the phone then shows that name with every request.
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from .flows import (
    answer_on_phone,
    expect_account_page,
    expect_pending,
    log_in,
    log_out,
    name_this_browser,
    open_phone,
    pair,
)

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def test_a_new_browser_is_named_once_and_the_phone_shows_its_name(
    context, zero_storage_server, make_user
):
    server = zero_storage_server
    username, password = make_user(server)
    page = context.new_page()
    phone = open_phone(context, server, name="Zero-storage phone")

    # Toopher does not know this user yet: the password alone logs in.
    log_in(page, server, username, password)
    expect_account_page(page, username)
    pair(page, phone, server)
    log_out(page)

    # Paired, but Toopher has never seen this browser: the site asks for its name.
    log_in(page, server, username, password)
    page.wait_for_url(re.compile(r"/toopher/pending/"))
    name_this_browser(page, "Work laptop")
    expect_pending(page)
    expect(page.get_by_text("Your phone shows this browser as “Work laptop”.")).to_be_visible()

    facts = answer_on_phone(phone, "Log in?", "Allow", site=page)
    assert facts["Terminal"] == "Work laptop"
    assert facts["User"] == username
    expect_account_page(page, username)

    # The site lists the browser under its name.
    page.goto(server.url("/toopher/terminals/"))
    expect(page.get_by_text("Work laptop").first).to_be_visible()

    # Next time the browser is known: no question, straight to the phone.
    log_out(page)
    log_in(page, server, username, password)
    page.wait_for_url(re.compile(r"/toopher/pending/"))
    expect(page.get_by_role("heading", name="Name this browser")).to_have_count(0)
    expect(page.locator("#toopher-status")).to_be_visible()
    facts = answer_on_phone(phone, "Log in?", "Allow", site=page)
    assert facts["Terminal"] == "Work laptop"
    expect_account_page(page, username)


def test_zero_storage_keeps_no_pairing_id(zero_storage_server, make_user, context):
    """After pairing in zero-storage mode, the site's database holds no pairing id."""
    server = zero_storage_server
    username, password = make_user(server)
    page = context.new_page()
    phone = open_phone(context, server)
    log_in(page, server, username, password)
    expect_account_page(page, username)
    pair(page, phone, server)

    out = server.manage(
        "shell",
        "-v",
        "0",
        "-c",
        "from django_toopher.models import ToopherProfile as P; "
        f"print(list(P.objects.filter(user__username={username!r})"
        ".values_list('pairing_id', flat=True)))",
    )
    assert out.strip() in ("[]", "[None]")
