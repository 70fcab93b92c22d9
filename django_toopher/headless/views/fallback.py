"""What answers under the API's prefix when no endpoint does: a JSON ``not_found``.

An unknown path, or an endpoint's path with an id that is not a terminal id
(``abc``, ``-1``, ``1.5``), would otherwise get Django's HTML 404 page, and a POST
there the CSRF middleware's HTML 403; the OpenAPI document promises JSON.
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt

from ...internal.http import login_not_required
from ..responses import error


@login_not_required
@never_cache
@csrf_exempt
def not_found(request: HttpRequest, *args: Any, **kwargs: Any) -> JsonResponse:
    """Any method, any path: ``404 not_found`` (nothing is read, nothing changes)."""
    return error("not_found")
