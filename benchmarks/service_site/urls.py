"""The service's own URLconf (``toopher_server.project_urls``) and ``bench/bare``.

``bench/bare`` is the yardstick of the service figure: a plain ``JsonResponse`` through
the same middleware, server, processes and settings as the API, that reads nothing
(no OAuth, no database).
"""

from django.http import HttpRequest, JsonResponse
from django.urls import path
from django.views.decorators.csrf import csrf_exempt

from toopher_server.project_urls import urlpatterns as service_urlpatterns

BARE_PATH = "/bench/bare"


@csrf_exempt
def bare(request: HttpRequest) -> JsonResponse:
    """A JSON answer that does nothing, the fastest Django view on this stack."""
    return JsonResponse({"ok": True})


urlpatterns = [path(BARE_PATH.lstrip("/"), bare), *service_urlpatterns]
