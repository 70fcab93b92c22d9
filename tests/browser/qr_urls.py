"""The service at the root, plus a test page under ``app/`` that loads ``app/qr.js``.

``app/qr-scan-test`` is a page with the authenticator app's Content-Security-Policy
(nothing inline, nothing from another origin) and a ``<video>`` for the camera; the
test drives ``qr.js`` in it. Until the app's own views serve ``app/qr.js`` (they come
first when present), this URLconf serves it the same way, from the app's folder.
"""

from pathlib import Path

from django.http import HttpRequest, HttpResponse
from django.urls import include, path

import toopher_server

APP_DIR = Path(toopher_server.__file__).resolve().parent / "static" / "toopher_server" / "app"
#: The app's policy: scripts and everything else from this origin only.
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; connect-src 'self'; "
    "img-src 'self' data:; media-src 'self'; object-src 'none'; base-uri 'none'"
)
PAGE = """<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>QR scan test</title></head>
<body><video id="camera" muted playsinline width="320" height="240"></video></body>
</html>
"""


def _secured(response: HttpResponse) -> HttpResponse:
    response["Content-Security-Policy"] = CSP
    response["X-Content-Type-Options"] = "nosniff"
    return response


def scan_page(request: HttpRequest) -> HttpResponse:
    return _secured(HttpResponse(PAGE))


def qr_module(request: HttpRequest) -> HttpResponse:
    body = (APP_DIR / "qr.js").read_bytes()
    return _secured(HttpResponse(body, content_type="text/javascript; charset=utf-8"))


urlpatterns = [
    path("", include("toopher_server.urls")),
    path("app/qr-scan-test", scan_page),
    path("app/qr.js", qr_module),
]
