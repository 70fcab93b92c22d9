"""The authenticator app's files (no browser): the shell page with its strict policy and
translated strings, the manifest, the service worker and the app's files, under the
service alone and under the sandbox's prefix."""

from __future__ import annotations

import json
import re
import struct
from urllib.parse import urljoin

import pytest
from django.test import Client

from toopher_server import app_views

pytestmark = [pytest.mark.urls("tests.server.urls")]

REQUIRED_CSP = (
    "default-src 'self'",
    "script-src 'self'",
    "connect-src 'self'",
    "img-src 'self' data:",
    "worker-src 'self'",
    "manifest-src 'self'",
    "frame-ancestors 'none'",
    "base-uri 'none'",
    "form-action 'self'",
)


def _directives(response) -> set[str]:
    return {part.strip() for part in response["Content-Security-Policy"].split(";")}


def test_the_shell_page_has_a_strict_policy_and_no_inline_script() -> None:
    response = Client().get("/app/")
    assert response.status_code == 200
    assert set(REQUIRED_CSP) <= _directives(response)
    assert "unsafe" not in response["Content-Security-Policy"]
    html = response.content.decode()
    scripts = re.findall(r"<script([^>]*)>(.*?)</script>", html, re.S)
    # Only the module by URL and the JSON data block, which the browser never runs.
    assert [attrs.strip() for attrs, _ in scripts] == [
        'id="app-strings" type="application/json"', 'type="module" src="app.js"',
    ]
    assert ' style="' not in html and "<style" not in html
    strings = json.loads(scripts[0][1])
    assert strings["allow"] == "Allow" and strings["not_me"] == "This wasn't me"
    assert '<html lang="en">' in html
    assert response["Cache-Control"] == "no-cache"


@pytest.mark.parametrize(
    ("language", "allow"),
    [("de", "Erlauben"), ("fr", "Autoriser"), ("es", "Permitir"), ("pt-br", "Permitir"),
     ("ja", "許可")],
)
def test_the_shell_speaks_the_request_language(language: str, allow: str) -> None:
    response = Client(HTTP_ACCEPT_LANGUAGE=language).get("/app/")
    html = response.content.decode()
    assert f'<html lang="{language}">' in html
    strings = json.loads(re.search(r'id="app-strings"[^>]*>(.*?)</script>', html, re.S)[1])
    assert strings["allow"] == allow
    assert all(text for text in strings.values())
    assert "Accept-Language" in response["Vary"]


def test_the_manifest_makes_the_app_installable() -> None:
    client = Client()
    response = client.get("/app/manifest.webmanifest")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/manifest+json"
    manifest = json.loads(response.content)
    assert manifest["start_url"] == "./" and manifest["scope"] == "./"
    assert manifest["display"] == "standalone"
    assert manifest["name"] and manifest["short_name"] and manifest["theme_color"]
    sizes = {(icon["sizes"], icon["purpose"]) for icon in manifest["icons"]}
    assert sizes == {("192x192", "any"), ("512x512", "any"), ("512x512", "maskable")}
    for icon in manifest["icons"]:
        png = client.get(f"/app/{icon['src']}")
        assert png.status_code == 200 and png["Content-Type"] == "image/png"
        width, height = struct.unpack(">II", png.content[16:24])
        assert f"{width}x{height}" == icon["sizes"]


def test_the_service_worker_is_served_from_the_app_and_lists_the_shell() -> None:
    client = Client()
    response = client.get("/app/sw.js")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/javascript")
    assert response["Cache-Control"] == "no-cache"
    text = response.content.decode()
    assert f'const VERSION = "{app_views.cache_version()}";' in text
    shell = json.loads(re.search(r"const SHELL = (\[.*?\]);", text)[1])
    assert "./" in shell and "app.js" in shell
    for name in shell:
        assert client.get(urljoin("/app/sw.js", name)).status_code == 200, name
    pushing = (app_views.APP_DIR / "sw-push.js").is_file()
    assert ('importScripts("sw-push.js")' in text) == pushing


@pytest.mark.parametrize("name", app_views.OPTIONAL_FILES)
def test_the_optional_parts_are_served_only_when_present(name: str) -> None:
    response = Client().get(f"/app/{name}")
    assert response.status_code == (200 if (app_views.APP_DIR / name).is_file() else 404)


@pytest.mark.parametrize(
    "path", ["/app/other.js", "/app/..%2Fapp_views.py", "/app/APP.JS", "/app/style.css"]
)
def test_no_other_file_is_served(path: str) -> None:
    assert Client().get(path).status_code == 404


def test_the_app_pages_answer_only_reads() -> None:
    client = Client()
    for path in ("/app/", "/app/sw.js", "/app/manifest.webmanifest", "/app/app.js"):
        assert client.post(path).status_code == 405
        assert client.head(path).status_code == 200


@pytest.mark.urls("tests.urls")
def test_the_sandbox_serves_the_app_under_its_prefix() -> None:
    response = Client().get("/sandbox/app/")
    assert response.status_code == 200
    assert "default-src 'self'" in response["Content-Security-Policy"]
    assert Client().get("/sandbox/app/sw.js").status_code == 200


def test_the_optional_parts_join_the_worker_when_they_arrive(tmp_path, monkeypatch) -> None:
    """With ``sw-push.js`` and ``qr.js`` present (the push and QR features), the worker
    imports the first inside a try/catch, keeps both offline, and is a new version."""
    before = Client().get("/app/sw.js").content.decode()
    for path in app_views.APP_DIR.iterdir():
        (tmp_path / path.name).write_bytes(path.read_bytes())
    (tmp_path / "sw-push.js").write_text("self.addEventListener('push', () => {});\n")
    (tmp_path / "qr.js").write_text("export async function scanQrCode() {}\n")
    monkeypatch.setattr(app_views, "APP_DIR", tmp_path)
    client = Client()
    text = client.get("/app/sw.js").content.decode()
    assert re.search(r'try \{\s*importScripts\("sw-push.js"\);\s*\} catch', text)
    shell = json.loads(re.search(r"const SHELL = (\[.*?\]);", text)[1])
    assert {"qr.js", "sw-push.js"} <= set(shell)
    assert re.search(r'VERSION = "(\w+)"', text)[1] != re.search(r'VERSION = "(\w+)"', before)[1]
    pushed = client.get("/app/sw-push.js")
    assert pushed.status_code == 200 and pushed["Content-Type"].startswith("text/javascript")
