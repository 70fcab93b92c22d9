"""Pages of the service outside the API: the QR code's deep link and the reset-link page."""

from __future__ import annotations

import uuid

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.crypto import constant_time_compare
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods

from . import audit, db, phones, reset_links
from .models import Pairing, ResetLink


def pairing_or_404(pairing_id: str) -> Pairing:
    """The pairing with this id (any requester's), or a 404."""
    try:
        pid = uuid.UUID(pairing_id)
    except ValueError as exc:
        raise Http404("No such pairing") from exc
    pairing = Pairing.objects.select_related("user", "requester").filter(id=pid).first()
    if pairing is None:
        raise Http404("No such pairing")
    return pairing


@never_cache
@require_GET
def qr_link(request: HttpRequest, pairing_id: str) -> HttpResponse:
    """The QR code's deep link opened in a browser: it says to scan it with the app.

    Opening the link changes nothing: only a phone's own confirmation pairs it.
    """
    return render(request, "toopher_server/qr_link.html", {"pairing": pairing_or_404(pairing_id)})


@never_cache
@require_http_methods(["GET", "POST"])
def reset_pairing(request: HttpRequest, pairing_id: str) -> HttpResponse:
    """A one-time reset link: answer the question (if any) and the pairing is deactivated."""
    pairing = pairing_or_404(pairing_id)
    token = (request.GET.get("reset_authorization") or "")[: reset_links.MAX_TOKEN]
    link = reset_links.find(pairing, token)
    context = {"pairing": pairing, "link": link, "token": token, "error": "", "done": False}
    if link is None or link.used:
        context["error"] = _("This reset link is not valid or has already been used.")
        return render(request, "toopher_server/reset.html", context, status=404)
    if request.method == "POST":
        answer = (request.POST.get("answer") or "")[:500].strip()
        expected = link.security_answer.strip()
        if expected and not constant_time_compare(answer.lower(), expected.lower()):
            context["error"] = _("That answer is not right.")
            return render(request, "toopher_server/reset.html", context, status=400)
        with db.atomic():
            if not ResetLink.objects.filter(pk=link.pk, used=False).update(used=True):
                context["error"] = _("This reset link has already been used.")
                return render(request, "toopher_server/reset.html", context, status=404)
            phones.deactivate_pairing(str(pairing.id), audit.PAIRING_RESET, by="reset link")
        context["done"] = True
    return render(request, "toopher_server/reset.html", context)
