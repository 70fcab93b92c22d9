"""The user's named browsers ("terminals"): list, rename, forget.

Only the logged-in user's own terminals are reachable: any other pk is a 404, the same
answer as for a pk that does not exist. Renaming and forgetting need a recent
authentication and a CSRF-checked POST; each change is audited.
"""

from __future__ import annotations

import logging

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from ..forms import TerminalNameForm
from ..internal import failures
from ..internal.cookies import read_terminal_id
from ..internal.flows.base import message
from ..internal.flows.terminals import forget_terminal, rename_terminal
from ..models import Terminal
from .decorators import change_view
from .unavailable import guarded

logger = logging.getLogger("django_toopher")


def _own_terminal(request: HttpRequest, pk: int) -> Terminal:
    return get_object_or_404(Terminal, pk=pk, user=request.user)


@never_cache
@login_required
@require_GET
@guarded()
def terminals(request: HttpRequest) -> HttpResponse:
    """List the user's terminals, marking this browser's."""
    current = read_terminal_id(request)
    rows = [
        {"terminal": t, "current": bool(current) and t.requester_terminal_id == current}
        for t in Terminal.objects.filter(user_id=request.user.pk or 0).order_by("name", "pk")
    ]
    return render(request, "django_toopher/terminals/list.html", {"rows": rows})


def _rename(request: HttpRequest, terminal: Terminal, form: TerminalNameForm) -> int:
    """Rename from a valid form; the status of the page to show again (0: done)."""
    try:
        rename_terminal(terminal, form.cleaned_data["name"], request=request)
    except failures.CLIENT_ERRORS as exc:
        logger.warning("Renaming a terminal failed for user pk=%s: %s", request.user.pk,
                       failures.describe(exc))
        form.add_error(None, message("unreachable_nothing_changed"))
        return 503
    return 0


@change_view
def terminal_rename(request: HttpRequest, pk: int) -> HttpResponse:
    """Give one of the user's terminals a new friendly name."""
    terminal = _own_terminal(request, pk)
    form = TerminalNameForm(request.POST or None, initial={"name": terminal.name})
    status = 200
    if request.method == "POST":
        status = _rename(request, terminal, form) if form.is_valid() else 400
        if status == 0:
            messages.success(request, _("The browser is now called “%(name)s”.")
                             % {"name": form.cleaned_data["name"]})
            return redirect("django_toopher:terminals")
    return render(request, "django_toopher/terminals/rename.html",
                  {"form": form, "terminal": terminal}, status=status)


@change_view
def terminal_forget(request: HttpRequest, pk: int) -> HttpResponse:
    """Confirm (GET), then forget (POST) one of the user's terminals."""
    terminal = _own_terminal(request, pk)
    if request.method != "POST":
        return render(request, "django_toopher/terminals/forget.html", {"terminal": terminal})
    name = terminal.name
    try:
        forget_terminal(terminal, request=request)
    except failures.CLIENT_ERRORS as exc:
        logger.warning("Forgetting a terminal failed for user pk=%s: %s", request.user.pk,
                       failures.describe(exc))
        messages.error(request, message("unreachable_nothing_changed"))
        return redirect("django_toopher:terminals")
    messages.success(request, _("“%(name)s” was forgotten.") % {"name": name})
    return redirect("django_toopher:terminals")
