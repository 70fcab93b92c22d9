"""The service's own URLconf (``toopher_server.project_urls``), ``bench/bare`` and
``bench/floor``.

``bench/bare`` is the yardstick of the service figure: a plain ``JsonResponse`` through
the same middleware, server, processes and settings as the API, that reads nothing
(no OAuth, no database). ``bench/floor`` makes only the two statements of a verified
read, the bound no verified call can pass.
"""

import secrets
import time

from django.db import connection
from django.http import HttpRequest, JsonResponse
from django.urls import path
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt

from toopher_server.project_urls import urlpatterns as service_urlpatterns

from . import BARE_PATH, FLOOR_PATH


@csrf_exempt
def bare(request: HttpRequest) -> JsonResponse:
    """A JSON answer that does nothing, the fastest Django view on this stack."""
    return JsonResponse({"ok": True})


@csrf_exempt
def floor(request: HttpRequest) -> JsonResponse:
    """The two statements every verified read must make, and nothing else: record a
    nonce, read one row. No OAuth, no ORM: a bound below any verified read."""
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO toopher_server_nonce (key, nonce, timestamp, created) "
            "VALUES (%s, %s, %s, %s)",
            ["floor", secrets.token_hex(16), int(time.time()), timezone.now()],
        )
        cursor.execute(
            "SELECT id, pending, granted, reason FROM toopher_server_authenticationrequest "
            "WHERE id = %s", [request.GET.get("id", "")],
        )
        row = cursor.fetchone()
    return JsonResponse(
        {"id": str(row[0]), "pending": row[1], "granted": row[2], "reason": row[3]})


urlpatterns = [
    path(BARE_PATH.lstrip("/"), bare), path(FLOOR_PATH.lstrip("/"), floor),
    *service_urlpatterns,
]
