"""Headless Firefox ESR (Debian's ``firefox-esr``) with a profile that uses the test's
push service and reaches nothing beyond loopback."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

CANDIDATES = ("firefox-esr", "firefox")


def firefox_path() -> str:
    """The Firefox to run; skips the test without one, fails it under ``CI``."""
    for name in CANDIDATES:
        found = shutil.which(name)
        if found:
            return found
    reason = "Firefox is missing (Debian: apt-get install firefox-esr)"
    if os.environ.get("CI"):
        pytest.fail(f"{reason}. The Web Push test must run in CI.")
    pytest.skip(reason)


def prefs(push_server_url: str) -> dict[str, object]:
    """The profile's prefs: the local push service, notifications allowed, and every
    other connection of Firefox's own sent to a closed loopback port."""
    dead = "http://127.0.0.1:9/"
    return {
        "dom.push.enabled": True,
        "dom.push.connection.enabled": True,
        "dom.push.serverURL": push_server_url,
        "dom.push.testing.allowInsecureServerURL": True,
        "dom.push.testing.ignorePermission": True,
        "dom.push.requestTimeout": 5000,
        "dom.serviceWorkers.enabled": True,
        "dom.serviceWorkers.testing.enabled": True,
        "permissions.default.desktop-notification": 1,
        "dom.webnotifications.enabled": True,
        "alerts.useSystemBackend": False,
        # Nothing beyond loopback: a proxy that does not exist, except for loopback.
        "network.proxy.type": 1,
        "network.proxy.http": "127.0.0.1",
        "network.proxy.http_port": 9,
        "network.proxy.ssl": "127.0.0.1",
        "network.proxy.ssl_port": 9,
        "network.proxy.no_proxies_on": "127.0.0.1,localhost",
        "network.proxy.allow_hijacking_localhost": False,
        "network.dns.disablePrefetch": True,
        "network.prefetch-next": False,
        "network.captive-portal-service.enabled": False,
        "network.connectivity-service.enabled": False,
        "services.settings.server": dead,
        "browser.safebrowsing.malware.enabled": False,
        "browser.safebrowsing.phishing.enabled": False,
        "browser.safebrowsing.downloads.enabled": False,
        "browser.safebrowsing.provider.mozilla.updateURL": dead,
        "browser.shell.checkDefaultBrowser": False,
        "browser.startup.homepage_override.mstone": "ignore",
        "browser.aboutwelcome.enabled": False,
        "browser.newtabpage.enabled": False,
        "browser.region.network.url": "",
        "browser.region.update.enabled": False,
        "app.update.enabled": False,
        "app.normandy.enabled": False,
        "extensions.update.enabled": False,
        "extensions.getAddons.cache.enabled": False,
        "datareporting.policy.dataSubmissionEnabled": False,
        "datareporting.healthreport.uploadEnabled": False,
        "toolkit.telemetry.enabled": False,
        "toolkit.telemetry.unified": False,
        "toolkit.telemetry.server": dead,
        "geo.provider.network.url": "",
        "identity.fxaccounts.enabled": False,
    }


class Firefox:
    """One headless Firefox process on a fresh profile, opened at ``url``."""

    def __init__(self, workdir: Path, push_server_url: str, url: str) -> None:
        profile = workdir / "profile"
        profile.mkdir(parents=True)
        (profile / "user.js").write_text(
            "".join(f"user_pref({json.dumps(k)}, {json.dumps(v)});\n"
                    for k, v in prefs(push_server_url).items()),
            encoding="utf-8",
        )
        env = {**os.environ, "HOME": str(workdir), "MOZ_HEADLESS": "1",
               "MOZ_CRASHREPORTER_DISABLE": "1"}
        self.log_path = workdir / "firefox.log"
        self._log = self.log_path.open("wb")
        self.process = subprocess.Popen(  # noqa: S603
            [firefox_path(), "--headless", "--no-remote", "--profile", str(profile), url],
            env=env, stdout=self._log, stderr=subprocess.STDOUT,
        )  # fmt: skip

    def log_tail(self, size: int = 3000) -> str:
        return self.log_path.read_bytes()[-size:].decode("utf-8", "replace")

    def close(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=10)
        self._log.close()
