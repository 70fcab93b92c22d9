"""The authenticator web app at ``app/``: its shell page, manifest, service worker and files.

Everything the app needs is served under ``app/`` by these views (not from
``STATIC_URL``), so the service worker's scope is the app and every URL the app uses
is relative to it, wherever the service is mounted. The app's own files live in
``static/toopher_server/app/``; ``qr.js`` and ``sw-push.js`` are optional parts
(QR scanning, Web Push) served when present and 404 otherwise. The pages carry a strict
Content-Security-Policy: no inline script or style, no other origin.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.template.loader import render_to_string
from django.utils.translation import get_language, gettext
from django.views.decorators.http import require_safe

from .app_strings import translated

#: The app's files on disk.
APP_DIR = Path(__file__).resolve().parent / "static" / "toopher_server" / "app"
#: The files of the offline shell, cached by the service worker (besides the page).
SHELL_FILES = (
    "app.css",
    "app.js",
    "api.js",
    "store.js",
    "totp.js",
    "icon-192.png",
    "icon-512.png",
    "icon-maskable-512.png",
)
#: Parts other features add when present (QR scanning, Web Push).
OPTIONAL_FILES = ("qr.js", "sw-push.js")
CONTENT_TYPES = {
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".png": "image/png",
}
#: The app's pages: nothing inline, nothing from another origin.
CSP = "; ".join(
    (
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "connect-src 'self'",
        "img-src 'self' data:",
        "media-src 'self'",
        "worker-src 'self'",
        "manifest-src 'self'",
        "object-src 'none'",
        "frame-ancestors 'none'",
        "base-uri 'none'",
        "form-action 'self'",
    )
)
THEME_COLOR = "#0f1a2e"
BACKGROUND_COLOR = "#f4f6fa"
#: Revalidate every time: the service worker, not the HTTP cache, keeps the app offline.
CACHE_CONTROL = "no-cache"


def _secured(response: HttpResponse) -> HttpResponse:
    response["Content-Security-Policy"] = CSP
    response["X-Content-Type-Options"] = "nosniff"
    response["Referrer-Policy"] = "no-referrer"
    response["Cache-Control"] = CACHE_CONTROL
    return response


def _present(name: str) -> Path | None:
    path = APP_DIR / name
    return path if path.is_file() else None


def shell_files() -> list[str]:
    """The files the service worker keeps offline: the shell's and the optional parts
    that are present."""
    return [*SHELL_FILES, *(name for name in OPTIONAL_FILES if _present(name))]


def _files_version() -> str:
    """A hash of the app's files: a new version of any of them is a new cache."""
    digest = hashlib.sha256()
    for name in SHELL_FILES + OPTIONAL_FILES:
        path = _present(name)
        digest.update(name.encode() + b"\0" + (path.read_bytes() if path else b"-") + b"\0")
    return digest.hexdigest()[:16]


def cache_version() -> str:
    """The service worker's cache version: the files and the shell's template."""
    template = Path(__file__).resolve().parent / "templates" / "toopher_server" / "app"
    digest = hashlib.sha256(_files_version().encode())
    for path in sorted(template.glob("*")):
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


@require_safe
def shell(request: HttpRequest) -> HttpResponse:
    """The app's one page; the JavaScript draws every screen in it."""
    context = {
        "strings": translated(),
        "language": get_language() or "en",
        "theme_color": THEME_COLOR,
    }
    response = render(request, "toopher_server/app/shell.html", context)
    response["Vary"] = "Accept-Language, Cookie"
    return _secured(response)


@require_safe
def manifest(request: HttpRequest) -> HttpResponse:
    """The web app manifest: installable, standalone, scoped to the app."""
    icons = [
        {"src": "icon-192.png", "sizes": "192x192", "type": "image/png", "purpose": "any"},
        {"src": "icon-512.png", "sizes": "512x512", "type": "image/png", "purpose": "any"},
        {
            "src": "icon-maskable-512.png",
            "sizes": "512x512",
            "type": "image/png",
            "purpose": "maskable",
        },
    ]
    body = {
        "name": gettext("Toopher Authenticator"),
        "short_name": "Toopher",
        "lang": get_language() or "en",
        "start_url": "./",
        "scope": "./",
        "id": "./",
        "display": "standalone",
        "theme_color": THEME_COLOR,
        "background_color": BACKGROUND_COLOR,
        "icons": icons,
    }
    response = HttpResponse(
        json.dumps(body, ensure_ascii=False), content_type="application/manifest+json"
    )
    return _secured(response)


@require_safe
def service_worker(request: HttpRequest) -> HttpResponse:
    """``sw.js``: served from ``app/`` so that its scope is the app."""
    context = {
        "version": cache_version(),
        "shell_files": json.dumps(["./", "manifest.webmanifest", *shell_files()]),
        "has_push": _present("sw-push.js") is not None,
    }
    text = render_to_string("toopher_server/app/sw.js", context)
    response = HttpResponse(text, content_type=CONTENT_TYPES[".js"])
    return _secured(response)


@require_safe
def app_file(request: HttpRequest, name: str) -> HttpResponse:
    """One of the app's files (a shell file, or an optional part when present)."""
    path = _present(name) if name in SHELL_FILES + OPTIONAL_FILES else None
    if path is None:
        raise Http404(name)
    response = HttpResponse(path.read_bytes(), content_type=CONTENT_TYPES[path.suffix])
    return _secured(response)
