"""Views of the demo pages. Thin: the second factor is django_toopher's business."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from django_toopher.app_settings import app_settings
from django_toopher.decorators import toopher_required
from django_toopher.models import AuditEvent

from .forms import ChangeEmailForm
from .sandbox import sandbox_requester


def home(request: HttpRequest) -> HttpResponse:
    """The landing page: what this site is and where to go next."""
    sandbox = bool(sandbox_requester())
    context = {
        "sandbox": sandbox,
        # Whoever holds the token can approve any login: shown to staff only.
        "control_token": settings.TOOPHER_SANDBOX_CONTROL_TOKEN
        if sandbox and request.user.is_staff
        else "",
    }
    return render(request, "demo_site/home.html", context)


#: The audit events that pair or unpair a phone, for the zero-storage account page.
PAIRING_EVENTS = (AuditEvent.Kind.PAIRED, AuditEvent.Kind.UNPAIRED, AuditEvent.Kind.ADMIN_RESET)


def paired_by_the_record(user: object) -> bool:
    """Zero-storage mode keeps no pairing here: did the user's last pairing event pair?

    The audit trail answers without a call to Toopher (which keeps the pairing).
    """
    last = (
        AuditEvent.objects.filter(user=user, kind__in=PAIRING_EVENTS)
        .order_by("-created_at", "-pk").values_list("kind", flat=True).first()
    )
    return last == AuditEvent.Kind.PAIRED


@login_required
def account(request: HttpRequest) -> HttpResponse:
    """The page a user lands on after an approved login."""
    user = request.user
    zero_storage = app_settings.MODE == "zero_storage"
    context = {
        "profile": getattr(user, "toopher_profile", None),
        "zero_storage": zero_storage,
        "paired_at_toopher": zero_storage and paired_by_the_record(user),
        "terminals": user.toopher_terminals.all(),
        "events": user.toopher_audit_events.order_by("-created_at")[:5],
        "login_action": app_settings.LOGIN_ACTION_NAME,
    }
    return render(request, "demo_site/account.html", context)


@login_required
@toopher_required(action="Change email")
@require_http_methods(["GET", "POST"])
def change_email(request: HttpRequest) -> HttpResponse:
    """Change the account's email: needs a fresh approval of "Change email" on the phone."""
    form = ChangeEmailForm(request.POST or None, user=request.user)
    if request.method == "POST" and form.is_valid():
        form.save()
        messages.success(request, f"Your email address is now {form.cleaned_data['email']}.")
        return redirect("account")
    return render(request, "demo_site/change_email.html", {"form": form})
