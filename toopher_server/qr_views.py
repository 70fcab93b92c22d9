"""The QR decoder of the authenticator app, served under ``app/`` beside the app.

``app/qr.js`` scans with the browser's ``BarcodeDetector`` where it reads QR codes, and
otherwise imports the vendored jsQR (``static/toopher_server/vendor/jsqr/``, see its
README) from ``app/vendor/jsqr.js``: same origin and same folder as the app, so the
app's Content-Security-Policy (``script-src 'self'``) allows it wherever the service is
mounted and whatever ``STATIC_URL`` is.
"""

from __future__ import annotations

import hashlib
from functools import cache
from pathlib import Path

from django.http import HttpRequest, HttpResponse
from django.views.decorators.http import etag, require_safe

#: The vendored decoder, unchanged from its release.
JSQR = Path(__file__).resolve().parent / "static" / "toopher_server" / "vendor" / "jsqr" / "jsQR.js"


@cache
def _jsqr() -> tuple[bytes, str]:
    body = JSQR.read_bytes()
    return body, hashlib.sha256(body).hexdigest()[:32]


@require_safe
@etag(lambda request: _jsqr()[1])
def jsqr(request: HttpRequest) -> HttpResponse:
    """``app/vendor/jsqr.js``: jsQR, revalidated by its ETag (304 when unchanged)."""
    response = HttpResponse(_jsqr()[0], content_type="text/javascript; charset=utf-8")
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "no-cache"
    return response
