"""The two views the HTTP figures are measured against, and the forced login."""

from django.contrib.auth import login
from django.contrib.auth.forms import AuthenticationForm
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST


def hello(request: HttpRequest) -> HttpResponse:
    """A minimal page for a logged-in user: reads the session and the user, nothing else."""
    return HttpResponse(f"hello {request.user.get_username()}", content_type="text/plain")


@never_cache
def session_probe(request: HttpRequest) -> JsonResponse:
    """The cheapest JSON endpoint that reads the session (the status poll's baseline)."""
    return JsonResponse({"keys": len(request.session.keys())})


@csrf_exempt
@require_POST
def forced_login(request: HttpRequest) -> HttpResponse:
    """The password, then ``login()`` with the second factor counted as done
    (``django_toopher.testing``'s ``approved_login``, what ``force_login_verified`` uses):
    the cheap logins of the memory figure. Only with django_toopher, only on loopback."""
    from django_toopher.testing import approved_login

    form = AuthenticationForm(request, data=request.POST)
    if not form.is_valid():
        return HttpResponse("bad credentials", status=400, content_type="text/plain")
    with approved_login():
        login(request, form.get_user())
    return HttpResponse("ok", content_type="text/plain")
