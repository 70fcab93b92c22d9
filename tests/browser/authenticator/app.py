"""The authenticator app in a phone-sized Chromium page, and the site's side of it.

``AppUnderTest`` holds one browser context emulating a 360x640 phone with the app open
at the example server's ``/sandbox/app/``, the Toopher API v1 client of the server's
sandbox requester (the site), and the control API (to read the server's view).
"""

from __future__ import annotations

import json
import os
import re
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from playwright.sync_api import expect

from tests.waiting import wait_until
from toopher import ToopherApi
from toopher.resources import AuthenticationRequest
from toopher_sandbox.testing import SandboxControl

from ..csp_watch import watch_csp
from ..server import PROJECT, ExampleServer

sys.path.insert(0, str(PROJECT))
from example_project.sandbox_credentials import (  # noqa: E402
    derive_control_token,
    derive_credentials,
)

#: A phone's screen.
PHONE = {"viewport": {"width": 360, "height": 640}, "is_mobile": True, "has_touch": True,
         "device_scale_factor": 2}
#: A JS function (store, key) -> what the app keeps in IndexedDB under that key.
STORED_JS = """(store, key) => new Promise((resolve, reject) => {
  const open = indexedDB.open("toopher-authenticator");
  open.onerror = () => reject(open.error);
  open.onsuccess = () => {
    const get = open.result.transaction(store).objectStore(store).get(key);
    get.onsuccess = () => resolve(get.result);
    get.onerror = () => reject(get.error);
  };
})"""
#: Playwright's wait for one element, in milliseconds.
TIMEOUT_MS = 20_000


@dataclass
class AppUnderTest:
    """The app's page, the site's API client and what the test learns on the way."""

    server: ExampleServer
    context: Any
    page: Any
    api: ToopherApi
    control: SandboxControl
    csp_reports: list[str]
    user_name: str = field(default_factory=lambda: f"alice-{os.getpid()}@example.com")
    pairing_id: str = ""

    @property
    def url(self) -> str:
        """The app's URL (the service is mounted under /sandbox/)."""
        return self.server.url("/sandbox/app/")

    def open(self, route: str = "#/") -> None:
        """Open the app at a hash route and wait for its first screen."""
        self.page.goto(self.url + route)
        self.page.wait_for_function("() => window.toopherApp && window.toopherApp.ready")

    def go(self, route: str) -> None:
        """Move to a hash route in the running app (no page load)."""
        self.page.evaluate("route => { location.hash = route; }", route)

    @contextmanager
    def first_load_held(self, screen: str, url: re.Pattern[str]) -> Iterator[None]:
        """Go to the hash route ``screen`` with its first request to ``url`` (its first
        load) held, unanswered, until the block ends; the block starts once it is sent."""
        held: list[Any] = []
        self.page.route(url, lambda route: route.continue_() if held else held.append(route))
        try:
            self.go(screen)
            wait_until(lambda: self.page.evaluate("0") or held, message=f"a request to {url}")
            yield
        finally:
            for route in held:
                route.continue_()
            self.page.unroute(url)

    def requests_listed(self) -> None:
        """Wait until the requests screen's list has answered its first load (a request
        made before then is in that answer, which announces nothing as new)."""
        expect(self.page.locator(".list")).to_have_attribute("aria-busy", "false")

    def request(self, terminal: str = "Firefox on Linux", action: str = "Log in") -> str:
        """The site asks the paired phone to approve; answers the request id."""
        return self.api.authenticate(self.pairing_id, terminal, action).id

    def allow(self, article: Any, request_id: str) -> None:
        """Tap Allow on a request, or with number matching the number the site shows."""
        code = self.status(request_id).verification_code
        article.get_by_role("button", name=code or "Allow", exact=True).click()

    def status(self, request_id: str) -> AuthenticationRequest:
        """The site's view of a request (API v1 A2)."""
        return self.api.get_authentication_status(request_id)

    def stored(self, store: str, key: str) -> Any:
        """What the app keeps in its IndexedDB ``store`` under ``key``."""
        return self.page.evaluate(f"([store, key]) => ({STORED_JS})(store, key)", [store, key])

    def remove_device(self, device_id: str) -> None:
        """An operator removes the device from the service's database."""
        self.server.manage(
            "shell", "-c",
            "from toopher_server.models import Device; "
            f"Device.objects.filter(id={device_id!r}).delete()",
        )

    def server_device(self, device_id: str) -> dict[str, Any]:
        """The service's record of a device, read from its database."""
        code = (
            "import json; from toopher_server.models import Device; "
            f"d = Device.objects.get(id={device_id!r}); "
            "print(json.dumps({'id': d.id, 'public_jwk': d.public_jwk, 'label': d.label}))"
        )
        return json.loads(self.server.manage("shell", "-c", code).strip().splitlines()[-1])


def open_app(browser: Any, server: ExampleServer) -> AppUnderTest:
    """A new phone-sized context with the app's page, not yet set up."""
    context = browser.new_context(**PHONE)
    context.set_default_timeout(TIMEOUT_MS)
    reports = watch_csp(context)
    page = context.new_page()
    secret_key = server.env["SECRET_KEY"]
    key, secret = derive_credentials(secret_key)
    api = ToopherApi(key, secret, server.url("/sandbox/v1"))
    control = SandboxControl(server.url("/sandbox"), token=derive_control_token(secret_key))
    return AppUnderTest(server, context, page, api, control, reports)
