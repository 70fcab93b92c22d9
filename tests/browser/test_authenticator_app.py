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
from toopher_server.devicesig import Decision, DeviceVerifier, MemorySeenIds, load_jwk

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
    article.get_by_role("button", name="Allow", exact=True).click()
    expect(article).to_contain_text("Paired.")
    app.pairing_id = pairing.id
    return app


@pytest.fixture(scope="module")
def browser_jwk_verifier(app: AppUnderTest) -> DeviceVerifier:
    """The service's verifier, with the key the page exported: checks a call the page
    signed without the service."""
    key = load_jwk(app.page.evaluate("window.toopherApp.publicJwk"))
    device_id = app.page.evaluate("window.toopherApp.deviceId")
    return DeviceVerifier(lambda asked: key if asked == device_id else None, MemorySeenIds())


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


def test_a_request_there_before_the_list_loads_is_listed_not_announced(
    paired: AppUnderTest,
) -> None:
    """Until its first load answers, the list is busy and does not say "no requests";
    what that load brings was there before the screen, so nothing is announced as new
    (a test that made its request early used to miss the announcement it waited for)."""
    page = paired.page
    paired.go("#/settings")
    expect(page.get_by_role("heading", name="Settings")).to_be_visible()
    page.evaluate("() => { document.getElementById('announce').textContent = ''; }")
    with paired.first_load_held("#/", re.compile(r"/authentication_requests\?state=pending")):
        expect(page.locator(".list")).to_have_attribute("aria-busy", "true")
        expect(page.get_by_text("No requests waiting")).to_be_hidden()
        request_id = paired.request(terminal="Chromium, before the list")
    paired.requests_listed()
    article = page.locator(f'article[data-request-id="{request_id}"]')
    expect(article).to_contain_text("Chromium, before the list")
    expect(page.locator("#announce")).to_have_text("")
    article.get_by_role("button", name="Deny", exact=True).click()
    expect(article).to_contain_text("Denied.")


@pytest.mark.parametrize(
    ("route", "url", "nothing"),
    [
        ("#/devices", r"/api/v1/devices$", "No other devices."),
        ("#/pair", r"/api/v1/pairings\?state=pending", "None yet: once the site has"),
    ],
)
def test_a_list_says_nothing_is_there_only_once_it_has_loaded(
    paired: AppUnderTest, route: str, url: str, nothing: str
) -> None:
    """Every list screen is busy, and does not say it is empty, until it has loaded."""
    page = paired.page
    paired.go("#/settings")
    expect(page.get_by_role("heading", name="Settings")).to_be_visible()
    with paired.first_load_held(route, re.compile(url)):
        expect(page.locator(".list")).to_have_attribute("aria-busy", "true")
        expect(page.get_by_text(nothing)).to_be_hidden()
    expect(page.locator(".list")).to_have_attribute("aria-busy", "false")


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
    paired.requests_listed()
    terminal = f"Chromium « {button} » ☕"  # the decision body carries UTF-8 as it is
    request_id = paired.request(terminal=terminal)
    article = page.locator(f'article[data-request-id="{request_id}"]')
    expect(article).to_contain_text(paired.user_name)
    expect(article).to_contain_text(terminal)
    expect(article).to_contain_text("Log in")
    expect(page.locator("#announce")).to_contain_text("New request from")
    if button == "Allow":
        paired.allow(article, request_id)
    else:
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
    paired.allow(article, request_id)
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
    for route, title in (("pair", "Pair with a site"), ("codes", "Offline codes"),
                         ("settings", "Settings")):
        paired.go(f"#/{route}")
        expect(page.get_by_role("heading", name=title)).to_be_focused()
        if route == "pair":
            page.get_by_role("button", name="Get a pairing phrase").click()
            expect(page.locator("#pairing-phrase")).to_have_text(TWO_WORDS)
        assert page.evaluate("document.scrollingElement.scrollWidth") <= 360, route
        page.screenshot(path=str(SCREENSHOT.with_name(f"authenticator-app-360-{route}.png")))


def test_number_matching_offers_three_numbers_and_signs_the_pick(
    paired: AppUnderTest, browser_jwk_verifier
) -> None:
    """The service's numbers (contracts: ``codes``) replace Allow; the pick goes into the
    signed, canonical decision body. The list's answer is given the numbers here, and
    the decision is answered here, so the test holds with or without the service's side."""
    page = paired.page
    paired.go("#/codes")
    request_id = paired.request(terminal="Numbers browser")
    seen: dict[str, object] = {}

    def with_codes(route) -> None:
        response = route.fetch()
        data = response.json()
        for item in data["authentication_requests"]:
            if item["id"] == request_id:
                item["codes"] = ["12", "47", "88"]
        route.fulfill(response=response, json=data)

    def answer(route) -> None:
        seen.update(
            header=route.request.headers["toopher-device-signature"],
            body=route.request.post_data_buffer,
            path=route.request.url.split("//", 1)[1].split("/", 1)[1],
        )
        refusal = {"error": "wrong_code", "message": "wrong number", "server_time": 0}
        route.fulfill(status=409, json=refusal)

    listing = re.compile(r"/api/v1/authentication_requests\?")
    decision = re.compile(rf"/api/v1/authentication_requests/{request_id}/decision$")
    page.route(listing, with_codes)
    page.route(decision, answer)
    try:
        paired.go("#/")
        article = page.locator(f'article[data-request-id="{request_id}"]')
        expect(article.locator("[data-code]")).to_have_count(3)
        expect(article.get_by_role("button", name="Allow", exact=True)).to_have_count(0)
        article.get_by_role("button", name="47").click()
        expect(article).to_contain_text("Wrong number: the request was denied.")
    finally:
        page.unroute(listing)
        page.unroute(decision)
    body = seen["body"]
    assert Decision.from_json(body).code == "47"  # canonical, complete, the picked number
    assert json.loads(body)["decision"] == "allow" and json.loads(body)["request_id"] == request_id
    browser_jwk_verifier.verify("POST", "/" + seen["path"], body, seen["header"])
    paired.api.cancel_authentication_request(request_id)


def test_a_notice_stays_with_the_screen_that_showed_it(paired: AppUnderTest) -> None:
    """A failure on one screen is told there; the requests list, opened next, does not
    show it (the list itself keeps a notice of its own: the mismatch test below)."""
    page = paired.page
    paired.go("#/pair")
    phrases = re.compile(r"/api/v1/pairing_phrases$")
    down = {"error": "unavailable", "message": "down for a moment", "server_time": 0}
    page.route(phrases, lambda route: route.fulfill(status=503, json=down))
    try:
        page.get_by_role("button", name="Get a pairing phrase").click()
        expect(page.locator("#notice")).to_contain_text("down for a moment")
    finally:
        page.unroute(phrases)
    paired.go("#/")
    expect(page.get_by_role("heading", name="Requests")).to_be_focused()
    expect(page.locator("#notice")).to_be_hidden()


def test_a_mismatch_shows_the_request_again(paired: AppUnderTest) -> None:
    """The service says what was shown is out of date: the app fetches the request again
    and shows it anew; the user's second answer goes through."""
    page = paired.page
    paired.go("#/")
    request_id = paired.request(terminal="Mismatched browser")
    decision = re.compile(rf"/api/v1/authentication_requests/{request_id}/decision$")
    refusal = {"error": "mismatch", "message": "changed", "server_time": 0}
    page.route(decision, lambda route: route.fulfill(status=409, json=refusal), times=1)
    article = page.locator(f'article[data-request-id="{request_id}"]')
    paired.allow(article, request_id)
    expect(page.locator("#notice")).to_contain_text("no longer matches")
    # The list is loaded again and shows the request anew; the notice stays with it
    # until the next answer (a load that works used to take it away at once).
    expect(article.locator("button").first).to_be_enabled()
    page.wait_for_load_state("networkidle")
    expect(page.locator("#notice")).to_contain_text("no longer matches")
    page.unroute(decision)
    paired.allow(article, request_id)
    expect(article).to_contain_text("Allowed.")
    assert wait_until(lambda: paired.status(request_id).granted)


def test_a_push_wakes_the_service_worker_which_tells_the_app(paired: AppUnderTest) -> None:
    # Chromium cannot subscribe offline (its push service is Google's), so the push is
    # handed to the app's real service worker through the DevTools protocol
    # (ServiceWorker.deliverPushMessage): sw.js with sw-push.js shows a notification and
    # tells the open app, which records the id and shows the request.
    page = paired.page
    paired.go("#/")
    paired.context.grant_permissions(["notifications"], origin=paired.server.base_url)
    page.evaluate("navigator.serviceWorker.ready.then(() => true)")
    registrations: list[dict] = []
    cdp = paired.context.new_cdp_session(page)
    cdp.on("ServiceWorker.workerRegistrationUpdated",
           lambda event: registrations.extend(event["registrations"]))
    cdp.send("ServiceWorker.enable")
    scope = page.evaluate("new URL('./', location.href).href")

    def registered() -> bool:
        # Playwright's sync API hands over events (these CDP ones) only inside its own
        # calls: make one each time, or an event that comes after enable() waits forever.
        page.evaluate("0")
        return any(r["scopeURL"] == scope for r in registrations)

    assert wait_until(registered)
    registration = next(r for r in registrations if r["scopeURL"] == scope)
    request_id = paired.request(terminal="Pushed browser")
    assert request_id not in page.evaluate("window.toopherApp.pushes")
    cdp.send("ServiceWorker.deliverPushMessage", {
        "origin": paired.server.base_url,
        "registrationId": registration["registrationId"],
        "data": json.dumps({"request_id": request_id}),
    })
    page.wait_for_function("(id) => window.toopherApp.pushes.includes(id)", arg=request_id)
    worker = paired.context.service_workers[0]
    shown = worker.evaluate(
        """() => self.registration.getNotifications().then((all) =>
             all.map((n) => ({tag: n.tag, id: n.data && n.data.request_id})))"""
    )
    assert {"tag": request_id, "id": request_id} in shown
    article = page.locator(f'article[data-request-id="{request_id}"]')
    article.get_by_role("button", name="Deny").click()
    expect(article).to_contain_text("Denied.")
    cdp.detach()


def test_the_optional_parts_show_only_where_the_service_has_them(paired: AppUnderTest) -> None:
    page = paired.page
    paired.go("#/pair")
    expect(page.get_by_role("heading", name="Pair with a site")).to_be_focused()
    # Unsigned, an endpoint that exists says "unsigned" (401); one that does not,
    # "not_found" (404) or, where the path takes another method only, 405.
    answers = page.evaluate(
        """async () => {
          const status = async (path) => (await fetch(path)).status;
          return {qr: await status("qr.js"), push: await status("api/v1/push"),
                  remembered: await status("api/v1/remembered_browsers"),
                  devices: await status("api/v1/devices")};
        }"""
    )
    scan = page.get_by_role("button", name="Scan QR code")
    if answers["qr"] == 200:
        expect(scan).to_be_visible()
    else:
        expect(scan).to_have_count(0)
    for name, label in (("remembered", "Remembered"), ("devices", "Devices")):
        link = page.get_by_role("link", name=label, exact=True)
        if answers[name] in (404, 405):
            expect(link).to_be_hidden()
        else:
            expect(link).to_be_visible()
    paired.go("#/settings")
    notifications = page.get_by_role("heading", name="Notifications")
    expect(page.locator("#device-id")).to_have_text(page.evaluate("window.toopherApp.deviceId"))
    if answers["push"] in (404, 405):
        expect(notifications).to_have_count(0)
    else:
        expect(notifications).to_be_visible()


def test_a_wrong_clock_is_corrected_from_the_service_time(browser, stored_server) -> None:
    """A phone ten minutes fast: the first call is ``stale``, the app learns the offset
    from ``server_time`` and the retry (a new nonce) goes through."""
    fast = open_app(browser, stored_server)
    try:
        fast.context.add_init_script("{ const real = Date.now; Date.now = () => real() + 600000; }")
        fast.open()
        fast.page.get_by_role("button", name="Set up").click()
        expect(fast.page.get_by_role("heading", name="Requests")).to_be_focused()
        offset = fast.stored("device", "this")["clockOffset"]
        assert -620 <= offset <= -580
        assert fast.csp_reports == []
    finally:
        fast.context.close()


def test_a_replay_refusal_is_retried_once_with_a_new_nonce(paired: AppUnderTest) -> None:
    page = paired.page
    paired.go("#/pair")
    nonces: list[str] = []

    def refuse_first(route) -> None:
        header = route.request.headers["toopher-device-signature"]
        nonces.append(re.search(r"nonce=([\w-]+)", header)[1])
        if len(nonces) == 1:
            route.fulfill(status=401, json={"error": "replay", "message": "seen", "server_time": 0})
        else:
            route.continue_()

    phrases = re.compile(r"/api/v1/pairing_phrases$")
    page.route(phrases, refuse_first)
    try:
        page.get_by_role("button", name="Get a pairing phrase").click()
        expect(page.locator("#pairing-phrase")).to_have_text(TWO_WORDS)
    finally:
        page.unroute(phrases)
    assert len(nonces) == 2 and nonces[0] != nonces[1]


def test_a_removed_device_is_offered_to_enrol_again(paired: AppUnderTest) -> None:
    page = paired.page
    device_id = page.evaluate("window.toopherApp.deviceId")
    paired.remove_device(device_id)
    paired.open("#/")
    notice = page.locator("#notice")
    expect(notice).to_contain_text("no longer known")
    notice.get_by_role("button", name="Set up again").click()
    expect(notice).to_be_hidden()
    jwk = page.evaluate("window.toopherApp.publicJwk")
    assert paired.server_device(device_id)["public_jwk"] == jwk


def test_no_content_security_policy_violation(paired: AppUnderTest) -> None:
    assert paired.csp_reports == []
