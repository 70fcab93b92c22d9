"""The OpenAPI document, served where the API is included."""

from __future__ import annotations

from django.http import HttpRequest, JsonResponse
from django.views.decorators.http import require_GET

from ...views.compat import login_not_required
from ..openapi import build


@login_not_required
@require_GET
def openapi(request: HttpRequest) -> JsonResponse:
    """``openapi.json``: the OpenAPI 3.1 document of the JSON API."""
    document = dict(build())
    document["servers"] = [{"url": request.build_absolute_uri("./").rstrip("/")}]
    return JsonResponse(document)
