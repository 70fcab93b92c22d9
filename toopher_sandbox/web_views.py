"""Pages outside the API: the sandbox home, the QR deep link and the reset-link page."""

from __future__ import annotations

import uuid

from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.crypto import constant_time_compare
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from . import db, phones
from .models import Message, Pairing, Phone, Requester, ResetLink
from .phone_access import known_phones
from .phone_views import PHONE_COOKIE
from .urls_helpers import api_url, base_url, control_url


def _pairing_or_404(pairing_id: str) -> Pairing:
    try:
        pid = uuid.UUID(pairing_id)
    except ValueError as exc:
        raise Http404("No such pairing") from exc
    pairing = Pairing.objects.select_related("user", "requester").filter(id=pid).first()
    if pairing is None:
        raise Http404("No such pairing")
    return pairing


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
    pairing = _pairing_or_404(pairing_id)
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


@never_cache
@require_http_methods(["GET", "POST"])
def reset_pairing(request: HttpRequest, pairing_id: str) -> HttpResponse:
    """A one-time reset link: answer the question (if any) and the pairing is deactivated."""
    pairing = _pairing_or_404(pairing_id)
    token = (request.GET.get("reset_authorization") or "")[:100]
    link = ResetLink.objects.filter(token=token, pairing=pairing).first() if token else None
    context = {"pairing": pairing, "link": link, "token": token, "error": "", "done": False}
    if link is None or link.used:
        context["error"] = _("This reset link is not valid or has already been used.")
        return render(request, "toopher_sandbox/reset.html", context, status=404)
    if request.method == "POST":
        answer = (request.POST.get("answer") or "")[:500].strip()
        expected = link.security_answer.strip()
        if expected and not constant_time_compare(answer.lower(), expected.lower()):
            context["error"] = _("That answer is not right.")
            return render(request, "toopher_sandbox/reset.html", context, status=400)
        with db.atomic():
            if not ResetLink.objects.filter(pk=link.pk, used=False).update(used=True):
                context["error"] = _("This reset link has already been used.")
                return render(request, "toopher_sandbox/reset.html", context, status=404)
            phones.deactivate_pairing(str(pairing.id))
        context["done"] = True
    return render(request, "toopher_sandbox/reset.html", context)
