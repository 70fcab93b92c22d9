"""What a person does in the example site and on the phone simulator, step by step.

Every helper drives the pages the way a user would: it finds fields by their labels
and buttons by their names, and it waits for what a person would wait for.
"""

from __future__ import annotations

import re
from typing import Any

from playwright.sync_api import expect

from .conftest import companion_context
from .server import ExampleServer

#: How long a person waits for the phone or the site to react, in milliseconds.
PATIENCE_MS = 20_000


def open_phone(context: Any, server: ExampleServer, name: str = "My phone") -> Any:
    """The phone simulator, with a new phone of this name, in a browser profile of its
    own (:func:`.conftest.companion_context`): a phone is another device, and on the
    site's profile its forms shared the site's CSRF cookie, which a login on the site
    rotates (the phone's next answer was then refused)."""
    phone = companion_context(context).new_page()
    phone.goto(server.url("/sandbox/phone/"))
    phone.get_by_label("Name").fill(name)
    phone.get_by_role("button", name="New phone").click()
    phone.wait_for_url(re.compile(r"/sandbox/phone/[0-9a-f-]{36}/$"))
    expect(phone.get_by_role("heading", name="Pair with a site")).to_be_visible()
    return phone


def pairing_phrase(phone: Any) -> str:
    """The two-word phrase the phone shows (a new one when it shows none)."""
    phrase = phone.locator("#phrase")
    if not re.search(r"\w+ \w+", phrase.inner_text()):
        phone.get_by_role("button", name="New phrase").click()
        expect(phrase).to_have_text(re.compile(r"\w+ \w+"))
    return phrase.inner_text().strip()


def request_card(phone: Any, heading: str) -> Any:
    """The pending request on the phone whose heading is ``heading`` (waits for it)."""
    card = phone.locator("article.request").filter(
        has=phone.get_by_role("heading", name=heading, exact=True)
    )
    expect(card).to_have_count(1, timeout=PATIENCE_MS)
    return card


#: Where the site shows the number to pick (number matching): the pending page, the SPA.
SITE_CODE = "#toopher-verification[data-code], #spa-verification[data-code]"


def shown_code(site: Any) -> str:
    """The number the site asks the user to pick on the phone (waits for it)."""
    box = site.locator(SITE_CODE).filter(has_text=re.compile(r"\d"))
    expect(box).to_have_count(1, timeout=PATIENCE_MS)
    return str(box.get_attribute("data-code"))


def answer_on_phone(phone: Any, heading: str, answer: str, reason: str = "",
                    site: Any = None) -> dict[str, str]:
    """Tap Allow or Deny on the request titled ``heading``; return the facts it showed.

    A request that offers numbers (number matching) has no Allow: "Allow" taps the
    number the ``site`` page shows, as a person reads it there.
    """
    card = request_card(phone, heading)
    facts = dict(
        zip(
            [t.strip() for t in card.locator("dt").all_inner_texts()],
            [d.strip() for d in card.locator("dd").all_inner_texts()],
            strict=True,
        )
    )
    if reason:
        card.get_by_label("Reason (optional)").fill(reason)
    numbers = card.locator("button[data-code]")
    if answer == "Allow" and numbers.count():
        if site is None:
            raise AssertionError(f"{heading!r} offers numbers: pass the site page to read one")
        card.get_by_role("button", name=shown_code(site), exact=True).click()
    else:
        card.get_by_role("button", name=answer, exact=True).click()
    expect(request_card_locator(phone, heading)).to_have_count(0, timeout=PATIENCE_MS)
    return facts


def request_card_locator(phone: Any, heading: str) -> Any:
    return phone.locator("article.request").filter(
        has=phone.get_by_role("heading", name=heading, exact=True)
    )


def log_in(page: Any, server: ExampleServer, username: str, password: str) -> None:
    """Fill in and send the site's login form."""
    page.goto(server.url("/accounts/login/"))
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in").click()


def log_out(page: Any) -> None:
    """The "Log out" button in the site's header."""
    page.get_by_role("button", name=re.compile(r"^Log out")).click()
    expect(page.get_by_role("link", name="Log in").first).to_be_visible()


def pair(page: Any, phone: Any, server: ExampleServer) -> None:
    """From a logged-in session: pair with a phrase from the phone, allow it there."""
    page.goto(server.url("/"))
    page.get_by_role("link", name="Security").first.click()
    page.get_by_role("link", name="Pair a phone").click()
    page.get_by_label(re.compile("phrase", re.I)).fill(pairing_phrase(phone))
    page.get_by_role("button", name="Pair", exact=True).click()
    expect(page.get_by_role("status").filter(has_text="Waiting for your phone")).to_be_visible()
    answer_on_phone(phone, "Pairing request", "Allow")
    expect(page.get_by_text("A phone is paired with your account")).to_be_visible(
        timeout=PATIENCE_MS
    )


def name_this_browser(page: Any, name: str) -> None:
    """Answer the site's "Name this browser" question (asked once per browser)."""
    expect(page.get_by_role("heading", name="Name this browser")).to_be_visible()
    page.get_by_label("Name of this browser").fill(name)
    page.get_by_role("button", name="Continue").click()


def expect_pending(page: Any, browser_name: str = "Test browser") -> None:
    """The site shows the pending page: the login waits for the phone.

    A browser the site has not seen yet is first asked for a name; give it one.
    """
    page.wait_for_url(re.compile(r"/toopher/pending/"))
    status = page.locator("#toopher-status")
    naming = page.get_by_role("heading", name="Name this browser")
    expect(status.or_(naming)).to_be_visible(timeout=PATIENCE_MS)
    if naming.is_visible():
        name_this_browser(page, browser_name)
    expect(status).to_be_visible(timeout=PATIENCE_MS)


def expect_account_page(page: Any, username: str) -> None:
    """The user is logged in and on the account page."""
    page.wait_for_url(re.compile(r"/account/$"), timeout=PATIENCE_MS)
    expect(page.get_by_role("heading", name="Your account")).to_be_visible()
    expect(page.get_by_role("button", name=f"Log out {username}")).to_be_visible()


def pair_from_scratch(page: Any, phone: Any, server: ExampleServer, username: str,
                      password: str) -> None:
    """A new user's first visit: log in with the password, pair the phone, log out."""
    log_in(page, server, username, password)
    expect_account_page(page, username)
    pair(page, phone, server)
    log_out(page)


def approved_login(page: Any, phone: Any, server: ExampleServer, username: str,
                   password: str) -> None:
    """Log in, approve the request on the phone, land on the account page."""
    log_in(page, server, username, password)
    expect_pending(page)
    answer_on_phone(phone, "Log in?", "Allow", site=page)
    expect_account_page(page, username)
