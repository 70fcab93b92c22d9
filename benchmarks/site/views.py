"""The two views the HTTP figures are measured against."""

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.cache import never_cache


def hello(request: HttpRequest) -> HttpResponse:
    """A minimal page for a logged-in user: reads the session and the user, nothing else."""
    return HttpResponse(f"hello {request.user.get_username()}", content_type="text/plain")


@never_cache
def session_probe(request: HttpRequest) -> JsonResponse:
    """The cheapest JSON endpoint that reads the session (the status poll's baseline)."""
    return JsonResponse({"keys": len(request.session.keys())})
