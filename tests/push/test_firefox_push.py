"""The real chain, offline: Firefox subscribes through a push service on loopback; a
password login at the example site (django_toopher, stored mode, its Toopher service
``toopher_server`` under gunicorn) makes the service push; Firefox decrypts it and the
service worker (the app's ``sw.js`` with ``sw-push.js``) shows the notification and
tells the page the request's id; a tap on the notification (dispatched in the worker:
no driver clicks a headless notification) takes the app's window to
``#/requests/<id>``; the device allows the request and the login completes.

Firefox: Debian's ``firefox-esr``, headless (skipped without it, failed under ``CI``).
The push service: :class:`tests.push.mozpush.MozillaPushServer`. The device: Python's
:class:`~toopher_server.testing.TestPhone`, registering the page's subscription signed.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlencode

import pytest

import toopher
from toopher_server.testing import TestPhone

from ..scale.cluster import Browser, Instance, create_users, manage, site_environment
from ..server.live_service import LiveService
from .firefox import Firefox, firefox_path
from .mozpush import MozillaPushServer

pytestmark = pytest.mark.slow

#: Seconds for Firefox to start, register the worker and subscribe (with retries).
SUBSCRIBE_TIMEOUT = 120
#: Seconds from initiate to the worker's message on the page.
PUSH_TIMEOUT = 30
PASSWORD = "correct horse battery staple"


@pytest.fixture(scope="module")
def service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveService]:
    firefox_path()  # skip (or fail in CI) before starting anything
    live = LiveService(Path(tmp_path_factory.mktemp("push-live")))
    live.env["DJANGO_SETTINGS_MODULE"] = "tests.push.live_settings"
    try:
        live.start()
        yield live
    finally:
        live.stop()


@pytest.fixture(scope="module")
def push_server() -> Iterator[MozillaPushServer]:
    server = MozillaPushServer()
    yield server
    server.close()


@pytest.fixture(scope="module")
def site(
    service: LiveService, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[Instance, dict[str, str]]]:
    """The example site, its Toopher service the one above (stored mode, SQLite), and its
    environment (for ``manage.py``)."""
    workdir = Path(tmp_path_factory.mktemp("push-site"))
    env = site_environment(
        database_url=f"sqlite:///{workdir / 'site.sqlite3'}", cache_url="locmemcache://",
        key_prefix="push", api_url=f"{service.instances[0].base_url}/v1",
        key=service.requester["key"], secret=service.requester["secret"],
        session_engine="django.contrib.sessions.backends.db",
    )  # fmt: skip
    manage(env, "migrate", "--noinput", "-v", "0")
    instance = Instance("site", env, workdir, workers=1, threads=4).start(wait=True)
    try:
        yield instance, env
    finally:
        instance.stop()


def test_a_login_wakes_the_service_worker_in_firefox_and_the_approval_logs_in(
    service: LiveService,
    site: tuple[Instance, dict[str, str]],
    push_server: MozillaPushServer,
    tmp_path: Path,
) -> None:
    """Issue 22 end to end: a password login at the example site, the push, the worker's
    notification and message, a tap that opens the request, the approval, the login."""
    base = service.instances[0].base_url
    api = toopher.ToopherApi(
        service.requester["key"], service.requester["secret"], api_url=f"{base}/v1"
    )
    phone = TestPhone(base)
    phone.enrol()
    pairing = api.pair(phone.new_phrase(), "ann")
    phone.allow_pairing(str(pairing.id))
    site_instance, site_env = site
    create_users(site_env, PASSWORD, [{"username": "ann", "pairing_id": str(pairing.id)}])
    vapid_key = phone.call("GET", "/push")["vapid_public_key"]

    query = urlencode({"vapid": vapid_key, "report": push_server.report_url, "click": "1"})
    firefox = Firefox(tmp_path, push_server.server_url, f"{base}/app/push-test?{query}")
    try:
        report = push_server.wait_for_report(
            lambda r: r.get("kind") in ("subscription", "error"), SUBSCRIBE_TIMEOUT
        )
        subscription = report.get("subscription")
        assert subscription, (report, push_server.reports, firefox.log_tail())
        assert subscription["endpoint"].startswith(f"http://127.0.0.1:{push_server.http_port}/")
        assert phone.call("PUT", "/push", subscription) == {"subscribed": True}

        browser = Browser([site_instance.base_url], random.Random(22))
        browser.log_in("ann", PASSWORD)
        browser.name_terminal(browser.pending(), "Firefox on Linux")
        browser.pending()  # the push goes out
        (waiting,) = phone.pending_requests()
        request_id = waiting["id"]

        message = push_server.wait_for_report(
            lambda r: r.get("kind") == "message" and r["data"].get("request_id") == request_id,
            PUSH_TIMEOUT,
        )
        assert message["data"] == {"type": "toopher-push", "request_id": request_id}
        assert request_id in message["tags"]  # shown, tagged, before the page was told
        shown = push_server.wait_for_report(
            lambda r: r.get("kind") == "message" and r["data"].get("type") == "test-notification",
            PUSH_TIMEOUT,
        )["data"]
        assert shown["tag"] == request_id and shown["data"] == {"request_id": request_id}
        assert shown["title"] and shown["outcome"] == "shown", shown
        # The page then taps the notification: the app's window goes to the request.
        opened = push_server.wait_for_report(lambda r: r.get("kind") == "opened", PUSH_TIMEOUT)
        assert opened["path"] == "/app/" and opened["hash"] == f"#/requests/{request_id}"
        (push,) = [p for p in push_server.pushes if p["channel"] in subscription["endpoint"]]
        assert push["headers"]["urgency"] == "high"
        assert push["headers"]["content-encoding"] == "aes128gcm"

        phone.allow(request_id)
        assert browser.poll_until_final(PUSH_TIMEOUT)["status"] == "granted"
        assert browser.account_username() == "ann"
    finally:
        firefox.close()
        phone.close()
        api.close()
