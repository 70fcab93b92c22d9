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
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods

from ..enrollment_forms import TerminalNameForm
from ..models import Terminal
from ..reauth import reauthentication_required
from ..terminal import read_terminal_id
from ..terminal_changes import forget_terminal, rename_terminal

logger = logging.getLogger("django_toopher")


def _api_errors() -> tuple[type[BaseException], ...]:
    from toopher.errors import ToopherApiError

    return (ToopherApiError,)


UNREACHABLE = gettext_lazy(
    "Toopher cannot be reached right now. Nothing was changed; please try again in a moment."
)


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
            new = form.cleaned_data["name"]
            try:
                rename_terminal(terminal, new, request=request)
            except _api_errors() as exc:
                logger.warning("Renaming a terminal failed for user pk=%s: %s",
                               request.user.pk, type(exc).__name__)
                form.add_error(None, str(UNREACHABLE))
                status = 503
            else:
                messages.success(
                    request, _("The browser is now called “%(name)s”.") % {"name": new}
                )
                return redirect("django_toopher:terminals")
        else:
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
        try:
            forget_terminal(terminal, request=request)
        except _api_errors() as exc:
            logger.warning("Forgetting a terminal failed for user pk=%s: %s",
                           request.user.pk, type(exc).__name__)
            messages.error(request, str(UNREACHABLE))
            return redirect("django_toopher:terminals")
        messages.success(request, _("“%(name)s” was forgotten.") % {"name": name})
        return redirect("django_toopher:terminals")
    return render(request, "django_toopher/terminals/forget.html", {"terminal": terminal})
