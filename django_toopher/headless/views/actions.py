"""Step-up through the JSON API: begin the approval of an action, then poll it as any
pending approval (``pending/status``), then read the result."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse, JsonResponse

from ...internal import state
from ...internal.flows import actions
from ...internal.flows.base import Result
from ..responses import error, ok
from ..serializers import pending_data
from ..transport import api_view
from .base import body

ACTION_MAX = 100


def _action(data: dict[str, Any]) -> str | JsonResponse:
    action = data.get("action")
    if not isinstance(action, str) or not action.strip() or len(action) > ACTION_MAX:
        return error("invalid_input", fields={"action": ["Name the action (1 to 100 "
                                                         "characters)."]})
    return action.strip()


def _max_age(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def step_up(request: HttpRequest, action: str, max_age: int | None = None, *,
            if_configured: bool = False) -> JsonResponse | None:
    """None when ``action`` may run now; else the JSON answer that says what to do
    (``not_authenticated``, ``unavailable``, or ``approval_required`` with the pending
    approval, whose push the client starts with ``pending/start``)."""
    decision = actions.check(request, action, max_age, if_configured=if_configured)
    if decision.verdict == "run":
        return None
    if decision.verdict == "login":
        return error("not_authenticated")
    if decision.verdict == "unavailable":
        return error("unavailable")
    waiting = state.load(request)
    data = {"pending": pending_data(Result(step=waiting.step, pending=waiting))} if waiting \
        else None
    return error("approval_required", data=data)


@api_view("POST")
def begin(request: HttpRequest) -> HttpResponse:
    """``{"action": "Change email", "max_age": 300}``: approved already, or begin."""
    data = body(request)
    if isinstance(data, HttpResponse):
        return data
    action = _action(data)
    if isinstance(action, JsonResponse):
        return action
    refusal = step_up(request, action, _max_age(data.get("max_age")))
    if refusal is not None:
        return refusal
    return ok({"action": action, "approved": True})


@api_view("GET")
def result(request: HttpRequest) -> HttpResponse:
    """``?action=Change%20email&max_age=300``: whether it is approved (not consumed)."""
    if not request.user.is_authenticated:
        return error("not_authenticated")
    action = _action({"action": request.GET.get("action")})
    if isinstance(action, JsonResponse):
        return action
    raw = request.GET.get("max_age", "")
    max_age = int(raw) if raw.isdigit() else None
    approved = actions.is_approved(request, action, max_age)
    return ok({"action": action, "approved": approved})
