"""Step-up through the JSON API: begin the approval of an action, then poll it as any
pending approval (``pending/status``), then read the result."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse, JsonResponse

from ...forms import ActionForm
from ...internal import state
from ...internal.flows import actions
from ...internal.flows.actions import Verdict
from ...internal.flows.base import Result
from ..responses import error, form_error, ok
from ..transport import api_view
from .base import as_text, body


def _read(data: dict[str, Any]) -> ActionForm | JsonResponse:
    """A valid :class:`ActionForm` of ``data`` (the JSON body, or the query string),
    or the ``invalid_input`` answer. ``max_age`` must be a whole number, not a bool."""
    fields = as_text(data, "action")
    max_age = data.get("max_age")
    if max_age is not None:
        exact = isinstance(max_age, int | str) and not isinstance(max_age, bool)
        fields["max_age"] = str(max_age) if exact else repr(max_age)
    form = ActionForm(data=fields)
    return form if form.is_valid() else form_error(form)


def step_up(request: HttpRequest, action: str, max_age: int | None = None, *,
            if_configured: bool = False) -> JsonResponse | None:
    """None when ``action`` may run now; else the JSON answer that says what to do
    (``not_authenticated``, ``unavailable``, or ``approval_required`` with the pending
    approval, whose push the client starts with ``pending/start``)."""
    decision = actions.check(request, action, max_age, if_configured=if_configured)
    if decision.verdict is Verdict.RUN:
        return None
    if decision.verdict is Verdict.LOGIN:
        return error("not_authenticated")
    if decision.verdict is Verdict.UNAVAILABLE:
        return error("unavailable")
    waiting = state.load(request)
    data = {"pending": Result(step=waiting.step, pending=waiting).present()} if waiting \
        else None
    return error("approval_required", data=data)


@api_view("POST")
def begin(request: HttpRequest) -> HttpResponse:
    """``{"action": "Change email", "max_age": 300}``: approved already, or begin."""
    data = body(request)
    if isinstance(data, HttpResponse):
        return data
    form = _read(data)
    if isinstance(form, JsonResponse):
        return form
    action = form.cleaned_data["action"]
    refusal = step_up(request, action, form.cleaned_data["max_age"])
    if refusal is not None:
        return refusal
    return ok({"action": action, "approved": True})


@api_view("GET")
def result(request: HttpRequest) -> HttpResponse:
    """``?action=Change%20email&max_age=300``: whether it is approved (not consumed)."""
    if not request.user.is_authenticated:
        return error("not_authenticated")
    form = _read({name: request.GET.get(name) for name in ("action", "max_age")})
    if isinstance(form, JsonResponse):
        return form
    action = form.cleaned_data["action"]
    approved = actions.is_approved(request, action, form.cleaned_data["max_age"])
    return ok({"action": action, "approved": approved})
