"""The phone page in a real browser: requests appear without a reload, a person answers."""

from __future__ import annotations

import pytest

import toopher

from ..chromium import launch, require_chromium

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def page_factory():
    require_chromium()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = launch(playwright)
        context = chromium.new_context()
        context.set_default_timeout(10_000)
        yield context.new_page
        context.close()
        chromium.close()


def test_person_pairs_and_approves_on_the_phone_page(
    page_factory, toopher_sandbox, toopher_requester, toopher_phone
):
    api = toopher.ToopherApi(
        toopher_requester["key"], toopher_requester["secret"], api_url=toopher_requester["api_url"]
    )
    page = page_factory()
    page.goto(toopher_phone.phone_url)
    assert page.locator("#phrase").inner_text() == toopher_phone.pairing_phrase

    pairing = api.pair(toopher_phone.pairing_phrase, "walt@example.com")
    request = page.locator(".request", has_text="Pairing request")
    request.wait_for()  # appears without a reload
    assert "walt@example.com" in request.inner_text()
    request.get_by_role("button", name="Allow").click()
    page.locator(".otp-code").wait_for()
    assert api.get_pairing_status(pairing.id).enabled is True
    otp = page.locator(".otp-code").inner_text()
    assert otp.isdigit() and len(otp) == 6

    auth = api.authenticate(pairing.id, "Garage PC", action_name="Open the door")
    card = page.locator(".request", has_text="Open the door")
    card.wait_for()
    assert "Garage PC" in card.inner_text()
    card.get_by_label("Reason (optional)").fill("not now")
    card.get_by_role("button", name="Deny").click()
    page.get_by_text("Request denied.").wait_for()
    status = api.get_authentication_status(auth.id)
    assert (status.pending, status.granted, status.reason) == (False, False, "not now")


def test_person_picks_the_number_the_site_shows(page_factory, toopher_requester, toopher_phone):
    """Number matching: three numbers instead of Allow; the right one grants."""
    api = toopher.ToopherApi(
        toopher_requester["key"], toopher_requester["secret"], api_url=toopher_requester["api_url"]
    )
    pairing = api.pair(toopher_phone.pairing_phrase, "nina@example.com")
    toopher_phone.control.respond_pairing(pairing.id, True)
    auth = api.authenticate(pairing.id, "Study PC", action_name="Log in")
    assert auth.verification_code  # what the site shows
    page = page_factory()
    page.goto(toopher_phone.phone_url)
    card = page.locator(".request", has_text="Study PC")
    card.wait_for()
    numbers = card.locator("button[data-code]")
    assert numbers.count() == 3
    assert auth.verification_code in numbers.all_inner_texts()
    assert card.get_by_role("button", name="Allow", exact=True).count() == 0
    card.get_by_role("button", name=auth.verification_code, exact=True).click()
    page.get_by_text("Request allowed.").wait_for()
    assert api.get_authentication_status(auth.id).granted is True


def test_iframe_posts_signed_result_to_the_host_page(page_factory, toopher_requester):
    iframe = toopher.ToopherIframe(
        toopher_requester["key"], toopher_requester["secret"], api_url=toopher_requester["api_url"]
    )
    url = iframe.get_authentication_url("nobody", request_token="tok", allow_inline_pairing=False)
    page = page_factory()
    page.set_content(
        "<script>window.got = []; window.addEventListener('message',"
        " function (e) { window.got.push(JSON.parse(e.data)); });</script>"
        f'<iframe id="toopher_iframe" src="{url}" width="500" height="300"></iframe>'
    )
    page.wait_for_function("window.got.length >= 2")
    messages = page.evaluate("window.got")
    assert messages[0] == {"status": "ready"}
    assert messages[1]["status"] == "toopher-api-complete"
    with pytest.raises(toopher.UserUnknownError):
        iframe.process_postback(messages[1]["payload"], request_token="tok")


def test_a_state_poll_that_hangs_does_not_stop_the_phone_page(
    page_factory, toopher_requester, toopher_phone
):
    """The phone page's first state poll never gets an answer: the script abandons it
    after its wait and polls again, so a new request still shows without a reload."""
    api = toopher.ToopherApi(
        toopher_requester["key"], toopher_requester["secret"], api_url=toopher_requester["api_url"]
    )
    page = page_factory()
    held: list[object] = []

    def hold_the_first(route):
        if not held:
            held.append(route)  # never fulfilled: the poll hangs
        else:
            route.continue_()

    page.route("**/state", hold_the_first)
    page.clock.install()
    page.goto(toopher_phone.phone_url)
    with page.expect_request("**/state"):
        page.clock.run_for(2_000)  # the first poll goes out, and hangs
    api.pair(toopher_phone.pairing_phrase, "hung@example.com")
    page.clock.run_for(15_000)  # past the poll's wait: the next polls go
    page.locator(".request", has_text="Pairing request").wait_for()
