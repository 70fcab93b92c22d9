"""The phone simulator: a page a person uses like the Toopher app.

A phone's page is reached by its URL (see ``phone_access``); the list shows only the
phones this browser made or opened. The pages are not the control API: they need no
token, only Django's CSRF protection on their forms.

Plain forms (CSRF-protected) that redirect back, so it works without JavaScript; a
small script polls ``state`` and refreshes the live part of the page when something
new arrives.
"""

from __future__ import annotations

import hashlib
import re
from urllib.parse import urlencode

from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from toopher_server import lifecycle, phones, remembered, totp
from toopher_server.errors import ApiError
from toopher_server.models import AuthenticationRequest, AutomationRule, Pairing, Phone

from .models import Message
from .phone_access import known_phones, remember_phone

PHONE_COOKIE = "toopher_sandbox_phone"
UUID_IN_TEXT = re.compile(
    r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"
)
MAX_FIELD = 500


def _field(request: HttpRequest, name: str) -> str:
    return (request.POST.get(name) or "")[:MAX_FIELD].strip()


def _back(phone: Phone, notice: str = "") -> HttpResponseRedirect:
    url = reverse("toopher_sandbox:phone", args=[str(phone.id)])
    if notice:
        url += "?" + urlencode({"notice": notice})
    return HttpResponseRedirect(url)


def _phone(phone_id) -> Phone:
    return get_object_or_404(Phone, id=phone_id)


@never_cache
@require_http_methods(["GET", "POST"])
def phone_list(request: HttpRequest) -> HttpResponse:
    """GET: the phones; POST: a new phone (then open it)."""
    if request.method == "POST":
        phone = phones.create_phone(_field(request, "name")[:100] or _("My phone"))
        phones.new_phrase(phone)
        response = _back(phone)
        response.set_cookie(PHONE_COOKIE, str(phone.id), samesite="Lax", httponly=True)
        remember_phone(request, response, phone)
        return response
    return render(
        request,
        "toopher_sandbox/phone_list.html",
        {"phones": known_phones(request), "last_phone": request.COOKIES.get(PHONE_COOKIE)},
    )


def _automations(pairing: Pairing):
    """The pairing's rules still in force (an expired one no longer applies)."""
    rules = remembered.live(AutomationRule.objects.filter(pairing=pairing))
    return rules.select_related("terminal", "action")


def _context(phone: Phone) -> dict:
    pairings = list(phones.active_pairings(phone))
    for pairing in pairings:  # extra attributes the template shows
        setattr(pairing, "current_otp", phones.otp_of(pairing))  # noqa: B010
        setattr(pairing, "automation_rules", list(_automations(pairing)))  # noqa: B010
    pending_pairings = list(phones.pending_pairings(phone))
    pending_authentications = list(phones.pending_authentications(phone))
    now = timezone.now()
    for auth in pending_authentications:
        setattr(auth, "age", lifecycle.age_text((now - auth.created).total_seconds()))  # noqa: B010
    return {
        "phone": phone,
        "phrase": phones.current_phrase(phone),
        "pending_pairings": pending_pairings,
        "pending_authentications": pending_authentications,
        "pending_count": len(pending_pairings) + len(pending_authentications),
        "expiry_seconds": lifecycle.request_expiry(),
        "pairings": pairings,
        "seconds_left": totp.seconds_left(),
        "texts": list(
            Message.objects.filter(kind=Message.SMS, to=phone.phone_number)[:5]
            if phone.phone_number
            else []
        ),
    }


def _signature(context: dict) -> str:
    """Changes whenever the live part of the page would look different (except OTPs)."""
    parts = [context["phrase"].phrase if context["phrase"] else ""]
    parts += [f"p{p.id}" for p in context["pending_pairings"]]
    parts += [f"a{a.id}" for a in context["pending_authentications"]]
    for pairing in context["pairings"]:
        parts.append(f"e{pairing.id}")
        parts += [f"r{r.id}{r.grant}" for r in pairing.automation_rules]
    return hashlib.sha256("|".join(parts).encode()).hexdigest()[:16]


@never_cache
@require_GET
def phone_page(request: HttpRequest, phone_id) -> HttpResponse:
    phone = _phone(phone_id)
    context = _context(phone)
    context["signature"] = _signature(context)
    context["notice"] = (request.GET.get("notice") or "")[:200]
    response = render(request, "toopher_sandbox/phone.html", context)
    response.set_cookie(PHONE_COOKIE, str(phone.id), samesite="Lax", httponly=True)
    remember_phone(request, response, phone)
    return response


@never_cache
@require_GET
def phone_state(request: HttpRequest, phone_id) -> JsonResponse:
    """What the page script polls: a signature of the live content, and the OTPs."""
    phone = _phone(phone_id)
    context = _context(phone)
    return JsonResponse(
        {
            "signature": _signature(context),
            "pending": context["pending_count"],
            "seconds_left": context["seconds_left"],
            "otps": {str(p.id): p.current_otp for p in context["pairings"]},
        }
    )


@require_POST
def phone_new_phrase(request: HttpRequest, phone_id) -> HttpResponse:
    phone = _phone(phone_id)
    phones.new_phrase(phone)
    return _back(phone)


@require_POST
def phone_respond_pairing(request: HttpRequest, phone_id, pairing_id) -> HttpResponse:
    phone = _phone(phone_id)
    pairing = get_object_or_404(Pairing, id=pairing_id, phone=phone)
    allow = request.POST.get("answer") == "allow"
    try:
        phones.respond_pairing(str(pairing.id), allow)
    except ApiError as error:
        return _back(phone, error.message)
    return _back(phone, _("Pairing allowed.") if allow else _("Pairing denied."))


@require_POST
def phone_respond_authentication(request: HttpRequest, phone_id, request_id) -> HttpResponse:
    phone = _phone(phone_id)
    auth = get_object_or_404(AuthenticationRequest, id=request_id, pairing__phone=phone)
    grant = request.POST.get("answer") == "allow"
    automate = request.POST.get("automate") == "on"
    reason = _field(request, "reason") or ("" if grant else "Denied on the phone")
    try:
        phones.respond_authentication(str(auth.id), grant, reason, automate)
    except ApiError as error:
        return _back(phone, error.message)
    return _back(phone, _("Request allowed.") if grant else _("Request denied."))


@require_POST
def phone_remove_pairing(request: HttpRequest, phone_id, pairing_id) -> HttpResponse:
    phone = _phone(phone_id)
    pairing = get_object_or_404(Pairing, id=pairing_id, phone=phone)
    phones.deactivate_pairing(str(pairing.id))
    return _back(phone, _("Pairing removed."))


@require_POST
def phone_remove_automation(request: HttpRequest, phone_id, rule_id: int) -> HttpResponse:
    phone = _phone(phone_id)
    AutomationRule.objects.filter(id=rule_id, pairing__phone=phone).delete()
    return _back(phone, _("Automation removed."))


@require_POST
def phone_scan(request: HttpRequest, phone_id) -> HttpResponse:
    """'Scan' a QR code: paste its link (or the pairing id) to claim the pairing."""
    phone = _phone(phone_id)
    match = UUID_IN_TEXT.search(_field(request, "link"))
    if match is None:
        return _back(phone, _("That is not a Toopher pairing link."))
    pairing = Pairing.objects.filter(id=match.group(0).lower()).first()
    if pairing is None or not phones.claim_pairing(pairing, phone):
        return _back(phone, _("No pending pairing for this code."))
    return _back(phone, _("Code scanned: allow or deny the pairing below."))
