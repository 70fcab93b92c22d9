"""The body of a request to the JSON API: read once, as JSON, before anything else.

The API takes JSON only. A body is read here before the browser kind's CSRF check,
which would otherwise read ``request.POST``: Django would parse a form body there
(``TooManyFieldsSent``, ``RequestDataTooBig``, a broken multipart body) and the body
could not be read again (``RawPostDataException``). So a form encoding is refused
before anyone parses it, and every malformed body is a JSON ``invalid_request``.
"""

from __future__ import annotations

import json
from typing import Any

from django.core.exceptions import RequestDataTooBig
from django.http import HttpRequest, JsonResponse, UnreadablePostError
from django.http.request import RawPostDataException

from .responses import error

#: Where the parsed body is kept on the request.
_PARSED = "_toopher_json"
#: Encodings Django parses into ``request.POST``; the API never takes them.
MULTIPART = "multipart/form-data"
URLENCODED = "application/x-www-form-urlencoded"


def parse(request: HttpRequest) -> dict[str, Any] | JsonResponse:
    """The JSON object of the body (``{}`` when there is none), or ``invalid_request``.

    Parsed once per request; later calls answer the same object."""
    found = getattr(request, _PARSED, None)
    if found is None:
        found = _parse(request)
        if isinstance(found, dict):
            setattr(request, _PARSED, found)
    return found


def _parse(request: HttpRequest) -> dict[str, Any] | JsonResponse:
    try:
        raw = request.body
    except (RequestDataTooBig, RawPostDataException, UnreadablePostError):
        # Too large; read as a form by a middleware before us; the client went away.
        return error("invalid_request")
    content_type = request.content_type or ""
    # Multipart is refused even empty: Django's parser refuses a missing boundary.
    if content_type == MULTIPART or (content_type == URLENCODED and raw.strip()):
        return error("invalid_request")
    if not raw.strip():
        return {}
    try:
        data = json.loads(raw)
    except (UnicodeDecodeError, ValueError, RecursionError):
        # RecursionError: a body nested deeper than the parser's stack ([[[[...).
        return error("invalid_request")
    return data if isinstance(data, dict) else error("invalid_request")
