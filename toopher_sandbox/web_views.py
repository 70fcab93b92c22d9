"""The sandbox's own pages: its home and the QR deep link opened by a simulated phone.

The reset-link page is the service's (``toopher_server.web_views``).
"""

from __future__ import annotations

import uuid

from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from toopher_server import phones
from toopher_server.api_views import index as service_index
from toopher_server.models import Phone, Requester
from toopher_server.urls_helpers import api_url, base_url
from toopher_server.web_views import pairing_or_404

from .models import Message
from .phone_access import known_phones
from .phone_views import PHONE_COOKIE
from .urls_helpers import control_url, phone_url


@csrf_exempt
def api_index(request: HttpRequest) -> HttpResponse:
    """GET v1 of the sandbox: the service's answer, naming the sandbox and its phone page."""
    response = service_index(request)
    if response.status_code != 200 or not isinstance(response, JsonResponse):
        return response
    return JsonResponse({"service": "toopher_sandbox", "api_url": api_url(request),
                         "phone_url": phone_url(request)})


@never_cache
def index(request: HttpRequest) -> HttpResponse:
    """The sandbox home page: where things are, the requesters, the outbox."""
    return render(
        request,
        "toopher_sandbox/index.html",
        {
            "api_url": api_url(request),
            "base_url": base_url(request),
            "control_url": control_url(request),
            "requesters": Requester.objects.order_by("-created")[:10],
            "outbox": Message.objects.all()[:20],
        },
    )


@never_cache
@require_http_methods(["GET", "POST"])
def qr_link(request: HttpRequest, pairing_id: str) -> HttpResponse:
    """The QR deep link: choose the phone that 'scanned' it, which then shows the pairing."""
    pairing = pairing_or_404(pairing_id)
    error = ""
    if request.method == "POST":
        chosen = _uuid_or_none(request.POST.get("phone_id"))
        phone = Phone.objects.filter(id=chosen).first() if chosen is not None else None
        if phone is None:
            error = _("Choose a phone.")
        elif not phones.claim_pairing(pairing, phone):
            error = _("This pairing is no longer waiting to be scanned.")
        else:
            return HttpResponseRedirect(reverse("toopher_sandbox:phone", args=[str(phone.id)]))
    return render(
        request,
        "toopher_sandbox/qr_link.html",
        {
            "pairing": pairing,
            "phones": known_phones(request),
            "last_phone": request.COOKIES.get(PHONE_COOKIE, ""),
            "error": error,
        },
        status=400 if error else 200,
    )


def _uuid_or_none(value) -> uuid.UUID | None:
    try:
        return uuid.UUID(str(value))
    except ValueError:
        return None
