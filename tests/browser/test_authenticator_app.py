"""The authenticator web app (/sandbox/app/) in a 360x640 Chromium phone, against the
example site's mounted service: enrolment with a key the page made, pairing by phrase,
allow / deny / "this wasn't me" as the site sees them, a deep link, the offline codes,
the service worker's offline shell, the layout, and no CSP violation.

One server (the session's stored_server) and one browser context for the module: the
tests run in order on the one device the first fixture sets up.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import expect

from tests.waiting import wait_until
from toopher_server import totp

from .authenticator.app import STORED_JS, AppUnderTest, open_app

pytestmark = [pytest.mark.browser, pytest.mark.slow]

TWO_WORDS = re.compile(r"^[a-z]+ [a-z]+$")
SIX_DIGITS = re.compile(r"^\d{6}$")
SCREENSHOT = Path(__file__).resolve().parents[2] / "test-artifacts" / "authenticator-app-360.png"


def thumbprint(jwk: dict[str, str]) -> str:
    """RFC 7638, written here again (not the service's code)."""
    canonical = json.dumps({k: jwk[k] for k in ("crv", "kty", "x", "y")}, separators=(",", ":"))
    digest = hashlib.sha256(canonical.encode()).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


@pytest.fixture(scope="module")
def app(browser, stored_server) -> Iterator[AppUnderTest]:
    """The app set up (enrolled) in a phone-sized context."""
    under_test = open_app(browser, stored_server)
    under_test.open()
    page = under_test.page
    expect(page.get_by_role("heading", name="Set up this device")).to_be_focused()
    page.get_by_label("Device name").fill("Test phone")
    page.get_by_role("button", name="Set up").click()
    expect(page.get_by_role("heading", name="Requests")).to_be_focused()
    yield under_test
    under_test.context.close()


@pytest.fixture(scope="module")
def paired(app: AppUnderTest) -> AppUnderTest:
    """The site pairs with the phrase the app shows; the user allows it in the app."""
    page = app.page
    page.get_by_role("link", name="Pair").click()
    expect(page.get_by_role("heading", name="Pair with a site")).to_be_focused()
    page.get_by_role("button", name="Get a pairing phrase").click()
    phrase = page.locator("#pairing-phrase")
    expect(phrase).to_have_text(TWO_WORDS)
    pairing = app.api.pair(phrase.inner_text(), app.user_name)
    assert pairing.pending and not pairing.enabled
    article = page.locator(f'article[data-pairing-id="{pairing.id}"]')
    expect(article).to_contain_text(app.user_name)
    article.get_by_role("button", name="Allow").click()
    expect(article).to_contain_text("Paired.")
    app.pairing_id = pairing.id
    return app


def test_the_first_run_enrols_a_key_that_only_the_page_holds(app: AppUnderTest) -> None:
    device_id = app.page.evaluate("window.toopherApp.deviceId")
    jwk = app.page.evaluate("window.toopherApp.publicJwk")
    assert device_id == thumbprint(jwk)
    enrolled = app.server_device(device_id)
    assert enrolled["public_jwk"] == jwk
    assert enrolled["label"] == "Test phone"
    # The private key cannot leave the browser, not even through the app's own code.
    refused = app.page.evaluate(
        f"""async () => {{
          const device = await ({STORED_JS})("device", "this");
          try {{ await crypto.subtle.exportKey("jwk", device.privateKey); return false; }}
          catch (e) {{ return device.privateKey.extractable === false; }}
        }}"""
    )
    assert refused


def test_pairing_by_phrase_enables_the_pairing_for_the_site(paired: AppUnderTest) -> None:
    pairing = paired.api.get_pairing_status(paired.pairing_id)
    assert pairing.enabled and not pairing.pending


@pytest.mark.parametrize(
    ("button", "result", "granted", "reason"),
    [
        ("Allow", "Allowed.", True, None),
        ("Deny", "Denied.", False, None),
        ("This wasn't me", "Denied and reported", False, "this wasn't me"),
    ],
)
def test_a_request_is_answered_in_the_list(
    paired: AppUnderTest, button: str, result: str, granted: bool, reason: str | None
) -> None:
    page = paired.page
    paired.go("#/")
    expect(page.get_by_role("heading", name="Requests")).to_be_visible()
    request_id = paired.request(terminal=f"Chromium ({button})")
    article = page.locator(f'article[data-request-id="{request_id}"]')
    expect(article).to_contain_text(paired.user_name)
    expect(article).to_contain_text(f"Chromium ({button})")
    expect(article).to_contain_text("Log in")
    expect(page.locator("#announce")).to_contain_text("New request from")
    article.get_by_role("button", name=button, exact=True).click()
    expect(article).to_contain_text(result)
    wait_until(lambda: not paired.status(request_id).pending)
    status = paired.status(request_id)
    assert status.granted is granted
    if reason:
        assert reason in status.reason
    # Answered: the service no longer lists it, and a second answer is refused.
    expect(article.get_by_role("button")).to_have_count(0)


def test_a_deep_link_opens_one_request(paired: AppUnderTest) -> None:
    page = paired.page
    request_id = paired.request(terminal="Deep link browser", action="Change email")
    paired.open(f"#/requests/{request_id}")
    expect(page.get_by_role("heading", name="Request")).to_be_focused()
    article = page.locator(f'article[data-request-id="{request_id}"]')
    expect(article).to_contain_text("Change email")
    article.get_by_role("button", name="Allow").click()
    expect(article).to_contain_text("Allowed.")
    assert wait_until(lambda: paired.status(request_id).granted)
    # Opened again, the answered request shows its state and no buttons.
    page.reload()
    expect(article).to_contain_text("Allowed")
    expect(article.get_by_role("button")).to_have_count(0)


def test_the_service_worker_keeps_the_shell_offline(paired: AppUnderTest) -> None:
    page = paired.page
    scope = page.evaluate("navigator.serviceWorker.ready.then((r) => r.scope)")
    assert scope == paired.url
    cached = page.evaluate(
        """async () => {
          const keys = await caches.keys();
          const shell = await caches.match("./");
          const api = await caches.match("api/v1/authentication_requests");
          return {keys, shell: !!shell, api: !!api};
        }"""
    )
    assert [k for k in cached["keys"] if k.startswith("toopher-app-")] and cached["shell"]
    assert not cached["api"]
    paired.context.set_offline(True)
    try:
        paired.open("#/codes")
        expect(page.get_by_role("heading", name="Offline codes")).to_be_focused()
        expect(page.locator("#notice")).to_contain_text("Offline")
        code = page.locator(f'[data-otp-for="{paired.pairing_id}"]')
        expect(code).to_have_text(SIX_DIGITS)
        seed = paired.stored("seeds", paired.pairing_id)
        # The code shown is RFC 6238 of the seed; retried across a 30 s step.
        wait_until(lambda: code.inner_text() == totp.totp(seed["secret"]), timeout=5)
    finally:
        paired.context.set_offline(False)
    # And the seed the app kept is the service's: its current code is the same.
    secret = seed["secret"]
    wait_until(lambda: paired.control.otp(paired.pairing_id) == totp.totp(secret), timeout=5)


def test_the_layout_fits_a_phone_and_keeps_focus_visible(paired: AppUnderTest) -> None:
    page = paired.page
    request_id = paired.request(terminal="A browser with a rather long name, to wrap")
    paired.open("#/")
    article = page.locator(f'article[data-request-id="{request_id}"]')
    expect(article).to_be_visible()
    assert page.evaluate("document.scrollingElement.scrollWidth") <= 360
    page.keyboard.press("Tab")
    outline = page.evaluate("getComputedStyle(document.activeElement).outlineStyle")
    assert outline != "none"
    SCREENSHOT.parent.mkdir(exist_ok=True)
    page.screenshot(path=str(SCREENSHOT))
    article.get_by_role("button", name="Deny").click()
    expect(article).to_contain_text("Denied.")


def test_no_content_security_policy_violation(paired: AppUnderTest) -> None:
    assert paired.csp_reports == []
