"""Views the django_toopher tests log in to and protect."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views import View

from django_toopher.decorators import ToopherRequiredMixin, toopher_required
from django_toopher.headless.decorators import api_toopher_required
from django_toopher.headless.transport import token_session


def home(request: HttpRequest) -> HttpResponse:
    """Public; says who is logged in (the tests read it)."""
    user = request.user
    who = user.get_username() if user.is_authenticated else "anonymous"
    return HttpResponse(f"home: {who}", content_type="text/plain")


def plain(request: HttpRequest) -> HttpResponse:
    """Touches neither the session nor the user (for the zero-cost checks)."""
    return HttpResponse("plain", content_type="text/plain")


@login_required
def private(request: HttpRequest) -> HttpResponse:
    return HttpResponse(f"private: {request.user.get_username()}", content_type="text/plain")


@login_required
@toopher_required(action="Change email")
def change_email(request: HttpRequest) -> HttpResponse:
    if request.method == "POST":
        return HttpResponse("email changed", content_type="text/plain")
    return HttpResponse("change email form", content_type="text/plain")


@login_required
@toopher_required(action="Delete account", max_age=0)
def delete_account(request: HttpRequest) -> HttpResponse:
    return HttpResponse("account deleted", content_type="text/plain")


@login_required
@toopher_required(action="View reports", if_configured=True)
def reports(request: HttpRequest) -> HttpResponse:
    return HttpResponse("reports", content_type="text/plain")


class TransferView(ToopherRequiredMixin, View):
    toopher_action = "Transfer money"

    def get(self, request: HttpRequest) -> HttpResponse:
        return HttpResponse("transfer form", content_type="text/plain")


@token_session
@api_toopher_required(action="Change email")
def api_change_email(request: HttpRequest) -> JsonResponse:
    """A site's own JSON view behind the JSON step-up (tests/headless)."""
    return JsonResponse({"changed": True})
