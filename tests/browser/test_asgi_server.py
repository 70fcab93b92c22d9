"""The example site under uvicorn (example_project/asgi.py), as it is documented:
``uvicorn --app-dir example_project example_project.asgi:application``.

The site calls its own mounted sandbox over HTTP while it serves a request, so the
server must answer other requests meanwhile. Under ASGI Django runs each request's
sync code in a thread of its own: a status poll waiting on a slow Toopher holds up
neither the event loop nor anybody else's request.
"""

from __future__ import annotations

import sys
import threading
import time

import pytest
import requests

from tests.waiting import wait_until
from toopher_sandbox.testing import SandboxControl

from .flows import approved_login, open_phone, pair_from_scratch
from .server import PROJECT

sys.path.insert(0, str(PROJECT))
from example_project.sandbox_credentials import (  # noqa: E402
    derive_control_token,
    derive_credentials,
)

pytestmark = [pytest.mark.slow]

#: The sandbox's injected latency, and what "answered quickly" means meanwhile.
LATENCY_S = 2.0
QUICK_S = 1.0
TIMEOUT_S = 30


class AppClient:
    """An app client of the JSON API (X-Session-Token, no cookies), over HTTP."""

    def __init__(self, base_url: str) -> None:
        self.base = base_url + "/_toopher/app/v1/"
        self.http = requests.Session()
        self.headers: dict[str, str] = {}

    def call(self, method: str, path: str, data: dict | None = None) -> dict:
        self.http.cookies.clear()
        response = self.http.request(method, self.base + path, json=data,
                                     headers=self.headers, timeout=TIMEOUT_S)
        body = response.json()
        meta = body.get("meta", {})
        if meta.get("session_token"):
            self.headers["X-Session-Token"] = meta["session_token"]
        if meta.get("terminal_token"):
            self.headers["X-Toopher-Terminal"] = meta["terminal_token"]
        return body


def paired_app_client(server, control: SandboxControl, username: str, password: str):
    """Pair a phone through the API, log in again: a push waits on the phone."""
    phone = control.new_phone(name=f"phone of {username}")
    app = AppClient(server.base_url)
    assert app.call("POST", "login", {"username": username, "password": password}
                    )["data"]["user"]["username"] == username
    app.call("POST", "account/pair", {"pairing_phrase": phone["pairing_phrase"]})
    control.respond_pairing(control.wait_for_pending(phone["phone_id"], "pairings")["id"])
    wait_until(
        lambda: app.call("GET", "account/pair/status")["data"]["pairing"]["status"] == "paired",
        TIMEOUT_S, interval=0.2, message="the pairing",
    )
    app.call("POST", "logout")
    app.call("POST", "login", {"username": username, "password": password})
    assert app.call("POST", "pending/start")["data"]["pending"]["step"] == "name_terminal"
    app.call("POST", "pending/terminal", {"name": "ASGI test client"})
    pending = app.call("POST", "pending/start")["data"]["pending"]
    assert pending["step"] == "pushed", pending
    return app, pending["interval"]


def test_a_poll_waiting_on_a_slow_toopher_does_not_hold_up_other_requests(
    asgi_server, make_user
):
    secret_key = asgi_server.env["SECRET_KEY"]
    control = SandboxControl(asgi_server.url("/sandbox"), token=derive_control_token(secret_key))
    consumer_key, _ = derive_credentials(secret_key)
    username, password = make_user(asgi_server)
    app, interval = paired_app_client(asgi_server, control, username, password)
    time.sleep(interval + 0.2)  # the next poll asks Toopher (at most once per interval)

    slow: dict[str, float | dict] = {}

    def poll() -> None:
        started = time.monotonic()
        slow["body"] = app.call("GET", "pending/status")
        slow["seconds"] = time.monotonic() - started

    control.set_faults(latency_ms=int(LATENCY_S * 1000), key=consumer_key)
    try:
        waiting = threading.Thread(target=poll)
        waiting.start()
        time.sleep(0.3)  # the poll is now inside the sandbox's latency
        quick = []
        for path in ("/_toopher/browser/v1/session", "/"):
            started = time.monotonic()
            response = requests.get(asgi_server.url(path), timeout=TIMEOUT_S)
            quick.append(time.monotonic() - started)
            assert response.status_code == 200
        still_waiting = waiting.is_alive()
        waiting.join(TIMEOUT_S)
    finally:
        control.clear_faults(key=consumer_key)

    assert still_waiting, "the poll did not wait on the sandbox: nothing was shown"
    assert max(quick) < QUICK_S, quick
    assert slow["seconds"] >= LATENCY_S, slow
    assert slow["body"]["data"]["pending"]["status"] == "pending", slow


@pytest.mark.browser
def test_the_html_login_on_uvicorn(context, asgi_server, make_user):
    """Password, pending page, approval on the phone, logged in: all served by uvicorn,
    the site calling its own sandbox on the same server meanwhile."""
    username, password = make_user(asgi_server)
    page = context.new_page()
    phone = open_phone(context, asgi_server)
    response = page.goto(asgi_server.url("/"))
    assert "uvicorn" in response.headers.get("server", ""), response.headers
    pair_from_scratch(page, phone, asgi_server, username, password)
    approved_login(page, phone, asgi_server, username, password)
