"""The pending page's script (django_toopher/static/django_toopher/pending.js) in Chromium.

The first tests serve a page with the pending page's elements and answer its status
polls from the test (Playwright routes), so each state change comes exactly when the
test says; the last one denies a real login in the example site.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from playwright.sync_api import expect

from .flows import PATIENCE_MS, answer_on_phone, expect_pending, log_in, pair_from_scratch
from .flows import open_phone as open_phone_page
from .server import ROOT

pytestmark = [pytest.mark.browser, pytest.mark.slow]

SITE = "http://pending.test"
SCRIPT = (ROOT / "django_toopher" / "static" / "django_toopher" / "pending.js").read_text()
#: The elements of templates/django_toopher/pending.html that pending.js works with.
PAGE = """<!doctype html><html><body>
<section id="toopher-pending" data-status-url="/status/" data-interval="1"
         data-remaining="100" data-ttl="120" data-status="{status}"
         data-seconds-format="%(seconds)s s">
  <p id="toopher-status" role="status">{message}</p>
  <div id="toopher-controls">
    <p><label for="toopher-progress">Time left to approve</label>
    <progress id="toopher-progress" max="120" value="100"></progress>
    <span id="toopher-remaining">100 s</span></p>
    <form class="inline"><button type="button" id="toopher-check">Check now</button></form>
    <form class="inline"><button type="button">Cancel</button></form>
    <details id="toopher-otp"{otp_hidden}><summary>No notification? Use the one-time
      password from the app</summary></details>
  </div>
</section>
<script src="/pending.js"></script>
</body></html>"""


def _serve(context, status: str, message: str, answers: list[dict]) -> list[str]:
    """Route the fake site; ``answers`` are the status polls' replies, the last repeats."""
    loads: list[str] = []

    def page(route):
        loads.append(route.request.url)
        route.fulfill(content_type="text/html", body=PAGE.format(
            status=status, message=message,
            otp_hidden=" hidden" if status == "start" else ""))

    def poll(route):
        answer = answers.pop(0) if len(answers) > 1 else answers[0]
        route.fulfill(content_type="application/json", body=json.dumps(answer))

    context.route(f"{SITE}/pending/", page)
    context.route(f"{SITE}/pending.js", lambda r: r.fulfill(
        content_type="text/javascript", body=SCRIPT))
    context.route(f"{SITE}/status/", poll)
    context.route(f"{SITE}/login/", lambda r: r.fulfill(content_type="text/html",
                                                        body="<h1>Log in</h1>"))
    return loads


def _answer(status: str, message: str, **extra) -> dict:
    final = status in ("denied", "expired", "granted", "cancelled")
    return {"status": status, "final": final, "message": message, "redirect": None,
            "interval": 1, "remaining": 90, "otp_required": False, **extra}


def test_the_page_moves_on_when_the_push_is_out(context):
    loads = _serve(context, "start", "Sending a request to your phone…", [
        _answer("start", "Sending a request to your phone…"),
        _answer("pushed", "The request is on your phone. Approve it there to continue."),
    ])
    page = context.new_page()
    page.goto(f"{SITE}/pending/")
    expect(page.locator("#toopher-otp")).to_be_hidden()
    expect(page.get_by_role("status")).to_have_text(
        "The request is on your phone. Approve it there to continue.", timeout=5000)
    expect(page.locator("#toopher-otp")).to_be_visible()
    expect(page.get_by_role("button", name="Check now")).to_be_visible()
    page.wait_for_timeout(1500)  # polling goes on, in place: no reload
    assert len(loads) == 1
    assert page.locator("#toopher-pending").get_attribute("data-status") == "pushed"


@pytest.mark.parametrize("final", ["denied", "expired", "cancelled", "granted"])
def test_a_final_state_replaces_the_controls_at_once(context, final):
    message = f"The login was {final}."
    redirect = f"{SITE}/login/"
    _serve(context, "pushed", "The request is on your phone.", [
        _answer(final, message, redirect=redirect),
    ])
    page = context.new_page()
    page.goto(f"{SITE}/pending/")
    if final != "granted":  # granted goes on at once; the others let the message be read
        expect(page.get_by_role("status")).to_have_text(message, timeout=5000)
        # At once (no waiting: `expect` would retry until the page has left), on the
        # pending page, where the message is left to be read, none of the controls is.
        assert page.url == f"{SITE}/pending/"
        for name in ("Check now", "Cancel"):
            assert not page.get_by_role("button", name=name, exact=True).is_visible()
        assert not page.get_by_text("Time left to approve").is_visible()
        assert not page.locator("#toopher-otp").is_visible()
    page.wait_for_url(redirect, timeout=5000)


def test_a_denial_in_the_example_shows_only_the_final_message(context, stored_server, make_user):
    username, password = make_user(stored_server)
    page = context.new_page()
    phone = open_phone_page(context, stored_server)
    pair_from_scratch(page, phone, stored_server, username, password)
    log_in(page, stored_server, username, password)
    expect_pending(page)
    status = page.locator("#toopher-status")
    expect(status).to_have_text(re.compile("on your phone"))
    expect(page.get_by_role("button", name="Check now")).to_be_visible()
    answer_on_phone(phone, "Log in?", "Deny")
    expect(status).to_contain_text("denied", timeout=PATIENCE_MS)
    # The message is left to be read on the pending page, without the controls.
    assert "/toopher/pending/" in page.url
    assert not page.locator("#toopher-controls").is_visible()
    assert not page.get_by_role("button", name="Cancel", exact=True).is_visible()
    page.wait_for_url(re.compile(r"/accounts/login/"), timeout=PATIENCE_MS)


def test_the_pending_page_script_has_no_inline_settings():
    """Settings travel in data attributes, never in an inline script (CSP)."""
    template = Path(ROOT / "django_toopher/templates/django_toopher/pending.html").read_text()
    assert "<script>" not in template and "toopher-controls" in template
