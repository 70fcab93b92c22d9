"""What every JSON view shares: reading the body, answering a flow's Result."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, JsonResponse

from ...internal.flows.base import Result
from ...internal.state import Status
from ..body import parse
from ..responses import error, form_error, ok
from ..serializers import user_data


def body(request: HttpRequest) -> dict[str, Any] | JsonResponse:
    """The JSON object of the body (``{}`` when empty), or an ``invalid_request``
    (read once: :func:`django_toopher.headless.body.parse`)."""
    return parse(request)


def as_text(data: dict[str, Any], *names: str) -> dict[str, Any]:
    """``data`` reduced to ``names``, as a form would get them (strings; booleans as
    ``"1"``/``""``); anything else is dropped so the form says it is missing."""
    found: dict[str, Any] = {}
    for name in names:
        value = data.get(name)
        if isinstance(value, bool):
            found[name] = "1" if value else ""
        elif isinstance(value, str | int) and not isinstance(value, bool):
            found[name] = str(value)
    return found


def read_form(request: HttpRequest, form_class: Any, *names: str, **form_kwargs: Any
              ) -> Any:
    """A valid ``form_class`` bound to the JSON body's ``names``, or the error answer
    (``invalid_request`` for a body that is not a JSON object, ``invalid_input``)."""
    data = body(request)
    if isinstance(data, JsonResponse):
        return data
    form = form_class(data=as_text(data, *names), **form_kwargs)
    return form if form.is_valid() else form_error(form)


def answer(request: HttpRequest, result: Result) -> JsonResponse:
    """A flow's Result: the pending state, or the final status (``no_pending_login`` 404
    when there is none)."""
    if result.status is Status.NONE:
        return error("no_pending_login", result.message)
    data: dict[str, Any] = {"pending": result.present()}
    if result.problem:
        return error(result.problem, result.message, data=data)
    if result.status is Status.GRANTED and result.kind == "login":
        data["user"] = user_data(getattr(request, "user", None))
    return ok(data)
