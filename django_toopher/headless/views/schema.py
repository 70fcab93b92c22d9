"""The OpenAPI document, served where the API is included."""

from __future__ import annotations

from django.http import HttpRequest, JsonResponse
from django.views.decorators.csrf import csrf_exempt

from ...internal.http import login_not_required
from ..openapi import build
from ..responses import error


@login_not_required
@csrf_exempt
def openapi(request: HttpRequest) -> JsonResponse:
    """``openapi.json``: the OpenAPI 3.1 document of the JSON API (GET or HEAD; any
    other method gets a JSON ``method_not_allowed``, and changes nothing)."""
    if request.method not in ("GET", "HEAD"):
        return error("method_not_allowed")
    document = dict(build())
    document["servers"] = [{"url": request.build_absolute_uri("./").rstrip("/")}]
    return JsonResponse(document)
