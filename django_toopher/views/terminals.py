"""The user's named browsers ("terminals"): list, rename, forget.

Only the logged-in user's own terminals are reachable: any other pk is a 404, the same
answer as for a pk that does not exist. Renaming and forgetting need a recent
authentication and a POST with a CSRF token; each change is audited.
"""

from __future__ import annotations

import logging

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods

from ..audit import record
from ..enrollment_forms import TerminalNameForm
from ..models import AuditEvent, Terminal
from ..reauth import reauthentication_required
from ..terminal import read_terminal_id

logger = logging.getLogger("django_toopher")


def _own_terminal(request: HttpRequest, pk: int) -> Terminal:
    return get_object_or_404(Terminal, pk=pk, user=request.user)


@never_cache
@login_required
@require_GET
def terminals(request: HttpRequest) -> HttpResponse:
    """List the user's terminals, marking this browser's."""
    current = read_terminal_id(request)
    rows = [
        {"terminal": t, "current": bool(current) and t.requester_terminal_id == current}
        for t in Terminal.objects.filter(user=request.user).order_by("name", "pk")
    ]
    return render(request, "django_toopher/terminals/list.html", {"rows": rows})


@never_cache
@require_http_methods(["GET", "POST"])
@reauthentication_required
def terminal_rename(request: HttpRequest, pk: int) -> HttpResponse:
    """Give one of the user's terminals a new friendly name."""
    terminal = _own_terminal(request, pk)
    status = 200
    if request.method == "POST":
        form = TerminalNameForm(request.POST)
        if form.is_valid():
            old, new = terminal.name, form.cleaned_data["name"]
            if new != old:
                Terminal.objects.filter(pk=terminal.pk, user=request.user).update(name=new)
                record(
                    AuditEvent.Kind.TERMINAL_RENAMED,
                    user=request.user,
                    request=request,
                    terminal_name=new,
                    detail=f"renamed from {old!r}"[:255],
                )
            messages.success(request, _("The browser is now called “%(name)s”.") % {"name": new})
            return redirect("django_toopher:terminals")
        status = 400
    else:
        form = TerminalNameForm(initial={"name": terminal.name})
    return render(
        request,
        "django_toopher/terminals/rename.html",
        {"form": form, "terminal": terminal},
        status=status,
    )


@never_cache
@require_http_methods(["GET", "POST"])
@reauthentication_required
def terminal_forget(request: HttpRequest, pk: int) -> HttpResponse:
    """Confirm (GET), then forget (POST) one of the user's terminals."""
    terminal = _own_terminal(request, pk)
    if request.method == "POST":
        name = terminal.name
        Terminal.objects.filter(pk=terminal.pk, user=request.user).delete()
        record(
            AuditEvent.Kind.TERMINAL_FORGOTTEN,
            user=request.user,
            request=request,
            terminal_name=name,
        )
        messages.success(request, _("“%(name)s” was forgotten.") % {"name": name})
        return redirect("django_toopher:terminals")
    return render(request, "django_toopher/terminals/forget.html", {"terminal": terminal})
