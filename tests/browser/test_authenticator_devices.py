"""The authenticator app's remembered browsers and several devices (protocol §9.13-§9.14),
in two 360x640 Chromium phones against the example site's mounted service.

The module's tests run in order on one pair of devices: the first sets up the old phone
and pairs it; a new phone joins it with the code the old one shows; each removes the
other's entry as a user would.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator

import pytest
from playwright.sync_api import expect

from toopher_server.lookups import DEFAULT_REQUESTER_CACHE_SECONDS

from .authenticator.app import AppUnderTest, open_app

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def set_up(under_test: AppUnderTest, label: str) -> AppUnderTest:
    """Open the app and enrol the device under ``label``."""
    under_test.open()
    page = under_test.page
    expect(page.get_by_role("heading", name="Set up this device")).to_be_focused()
    page.get_by_label("Device name").fill(label)
    page.get_by_role("button", name="Set up").click()
    expect(page.get_by_role("heading", name="Requests")).to_be_focused()
    return under_test


@pytest.fixture(scope="module")
def old_phone(browser, stored_server) -> Iterator[AppUnderTest]:
    """A set-up device, paired with the site by its phrase."""
    app = set_up(open_app(browser, stored_server), "Old phone")
    page = app.page
    app.go("#/pair")
    page.get_by_role("button", name="Get a pairing phrase").click()
    phrase = page.locator("#pairing-phrase")
    expect(phrase).to_have_text(re.compile(r"^[a-z]+ [a-z]+$"))
    app.pairing_id = app.api.pair(phrase.inner_text(), app.user_name).id
    article = page.locator(f'article[data-pairing-id="{app.pairing_id}"]')
    article.get_by_role("button", name="Allow").click()
    expect(article).to_contain_text("Paired.")
    yield app
    app.context.close()


@pytest.fixture(scope="module")
def new_phone(browser, stored_server, old_phone: AppUnderTest) -> Iterator[AppUnderTest]:
    app = set_up(open_app(browser, stored_server), "New phone")
    app.pairing_id = old_phone.pairing_id
    yield app
    app.context.close()


def number_matching(app: AppUnderTest, on: bool) -> None:
    """The operator turns number matching on or off for the site (the service's admin),
    then waits until the service applies it: each instance keeps a requester for
    ``TOOPHER_SERVER_REQUESTER_CACHE_SECONDS`` (docs/server.md), so a change made by
    another process shows within that time, not at once."""
    app.server.manage(
        "shell", "-c",
        "from toopher_server.models import Requester; "
        f"Requester.objects.filter(key={app.api.consumer_key!r}).update(number_matching={on})",
    )

    # Wait out that time (no probe request: each would count against the user's limit).
    time.sleep(DEFAULT_REQUESTER_CACHE_SECONDS + 0.5)


def test_always_allow_remembers_the_browser_until_forgotten(old_phone: AppUnderTest) -> None:
    # The app offers "Always allow" where it offers Allow: without number matching (with
    # it, the three numbers replace both; see test_authenticator_app).
    number_matching(old_phone, False)
    try:
        always_allow_then_forget(old_phone)
    finally:
        number_matching(old_phone, True)


def always_allow_then_forget(old_phone: AppUnderTest) -> None:
    page = old_phone.page
    old_phone.go("#/")
    request_id = old_phone.request("Firefox on Linux")
    article = page.locator(f'article[data-request-id="{request_id}"]')
    article.get_by_role("button", name="Always allow from this browser").click()
    expect(article).to_contain_text("Allowed.")
    assert old_phone.status(request_id).granted is True
    again = old_phone.api.authenticate(old_phone.pairing_id, "Firefox on Linux", "Log in")
    assert (again.pending, again.granted, again.automated) == (False, True, True)

    page.get_by_role("link", name="Remembered", exact=True).click()
    expect(page.get_by_role("heading", name="Remembered browsers")).to_be_focused()
    card = page.locator("li.card")
    expect(card).to_have_count(1)
    expect(card).to_contain_text("Firefox on Linux")
    card.get_by_role("button", name="Forget").click()
    expect(page.get_by_text("No remembered browsers.")).to_be_visible()
    asked = old_phone.api.authenticate(old_phone.pairing_id, "Firefox on Linux", "Log in")
    assert (asked.pending, asked.automated) == (True, False)


def test_always_allow_with_number_matching_needs_the_right_number(old_phone: AppUnderTest) -> None:
    # With number matching the choice is a box ticked before the pick; the number the
    # site shows is what grants, and only a granted request is remembered.
    page = old_phone.page
    old_phone.go("#/")
    terminal = "Chromium on Android"
    wrong_id = old_phone.request(terminal)
    wrong = page.locator(f'article[data-request-id="{wrong_id}"]')
    right_code = old_phone.status(wrong_id).verification_code
    assert right_code
    wrong.get_by_label("Always allow from this browser").check()
    wrong.locator(f'button[data-code]:not([data-code="{right_code}"])').first.click()
    expect(wrong).to_have_attribute("data-answered", "true")
    assert old_phone.status(wrong_id).granted is False
    asked = old_phone.api.authenticate(old_phone.pairing_id, terminal, "Log in")
    assert (asked.pending, asked.automated) == (True, False), "a wrong pick remembered nothing"

    request_id = asked.id
    article = page.locator(f'article[data-request-id="{request_id}"]')
    article.get_by_label("Always allow from this browser").check()
    old_phone.allow(article, request_id)
    expect(article).to_contain_text("Allowed.")
    again = old_phone.api.authenticate(old_phone.pairing_id, terminal, "Log in")
    assert (again.pending, again.granted, again.automated) == (False, True, True)


def test_a_new_phone_joins_with_the_old_ones_code_and_answers(
    old_phone: AppUnderTest, new_phone: AppUnderTest
) -> None:
    old_phone.go("#/devices")
    page = old_phone.page
    expect(page.get_by_role("heading", name="Devices")).to_be_focused()
    page.get_by_role("button", name="Add another device").click()
    code = page.locator(".phrase")
    expect(code).to_contain_text("minutes")
    typed = code.inner_text().split("\n")[-1].strip()
    assert len(typed) == 10

    new_phone.go("#/settings")
    form = new_phone.page
    form.get_by_label("Code from your other device").fill("WRONG2CODE")
    form.get_by_role("button", name="Join").click()
    expect(form.get_by_role("status").last).to_contain_text("wrong, expired or already used")
    form.get_by_label("Code from your other device").fill(typed.lower())
    form.get_by_role("button", name="Join").click()
    expect(form.get_by_role("status").last).to_contain_text("answers for the same accounts")

    request_id = new_phone.request("Safari on macOS")
    new_phone.go("#/")
    article = form.locator(f'article[data-request-id="{request_id}"]')
    new_phone.allow(article, request_id)
    expect(article).to_contain_text("Allowed.")
    assert new_phone.status(request_id).granted is True


def test_the_new_phone_removes_the_lost_old_one(
    old_phone: AppUnderTest, new_phone: AppUnderTest
) -> None:
    page = new_phone.page
    new_phone.go("#/devices")
    cards = page.locator("li.card")
    expect(cards).to_have_count(2)
    old_card = cards.filter(has_text="Old phone")
    expect(cards.filter(has_text="New phone")).to_contain_text("this device")
    own_card = cards.filter(has_text="New phone")
    expect(own_card.get_by_role("button", name="Remove")).to_have_count(0)
    old_card.get_by_role("button", name="Remove").click()
    expect(cards).to_have_count(1)

    old_phone.go("#/")
    old_phone.page.reload()
    expect(old_phone.page.get_by_text("no longer known to the service")).to_be_visible()
    request_id = new_phone.request()
    new_phone.go("#/")
    expect(page.locator(f'article[data-request-id="{request_id}"]')).to_be_visible()


def test_a_device_is_renamed_in_the_list(new_phone: AppUnderTest) -> None:
    page = new_phone.page
    new_phone.go("#/devices")
    card = page.locator("li.card")
    expect(card).to_have_count(1)
    card.get_by_role("button", name="Rename").click()
    expect(card.get_by_label("Device name")).to_be_focused()
    expect(card.get_by_label("Device name")).to_have_value("New phone")
    card.get_by_label("Device name").fill("Alice's spare")
    card.get_by_role("button", name="Cancel").click()  # changes nothing
    expect(card.get_by_role("heading")).to_have_text("New phone (this device)")

    card.get_by_role("button", name="Rename").click()
    card.get_by_label("Device name").fill("   ")  # the service refuses an empty name
    card.get_by_role("button", name="Save").click()
    expect(page.get_by_role("alert")).to_contain_text("must not be empty")

    card.get_by_label("Device name").fill("Alice's spare")
    card.get_by_role("button", name="Save").click()
    expect(card.get_by_role("heading")).to_have_text("Alice's spare (this device)")
    device_id = page.evaluate("window.toopherApp.deviceId")
    assert new_phone.server_device(device_id)["label"] == "Alice's spare"
