"""The shape of every answer of the JSON API: ``{"data": ..., "meta": ...}`` or
``{"error": {"code", "message", "fields"?}}``, with stable, documented codes."""

from __future__ import annotations

from typing import Any

from django.http import JsonResponse
from django.utils.translation import gettext_lazy as _

from ..adapter import MESSAGES

#: Every error code, its HTTP status and its default (translated) message.
ERRORS: dict[str, tuple[int, Any]] = {
    "invalid_request": (400, _("The request is not valid JSON of the expected shape.")),
    "invalid_input": (400, _("Some fields are not valid.")),
    "invalid_credentials": (400, _("That user name and password do not match.")),
    "invalid_otp": (400, _("That code is not right.")),
    "invalid_recovery_code": (400, _("That recovery code is not right.")),
    "invalid_link": (400, MESSAGES["reset_link_invalid"]),
    "refused": (400, _("Toopher did not accept this. Check it and try again.")),
    "not_authenticated": (401, _("Log in first.")),
    "reauthentication_required": (403, _("Enter your password again to continue.")),
    "approval_required": (403, _("Approve this action on your phone to continue.")),
    "unavailable": (403, _("This needs a paired phone. Pair a phone first.")),
    "no_usable_password": (403, _("Your account has no password here. To continue, log out "
                                  "and log in again.")),
    "csrf_failed": (403, _("The CSRF token is missing or not valid.")),
    "not_found": (404, _("There is nothing here.")),
    "no_pending_login": (404, _("There is no login or action waiting for approval.")),
    "method_not_allowed": (405, _("This method is not allowed here.")),
    "conflict": (409, _("That cannot be done in the current state.")),
    "rate_limited": (429, _("Too many attempts. Wait a few minutes before you try again.")),
    "toopher_unavailable": (503, _("Toopher cannot be reached right now. Try again.")),
    "service_unavailable": (503, MESSAGES["busy"]),
    "server_error": (500, _("Something went wrong on our side. Try again.")),
}


def ok(data: dict[str, Any], status: int = 200, meta: dict[str, Any] | None = None
       ) -> JsonResponse:
    """A successful answer."""
    body: dict[str, Any] = {"data": data}
    if meta:
        body["meta"] = meta
    return JsonResponse(body, status=status)


def error(code: str, message: str = "", *, fields: dict[str, list[str]] | None = None,
          data: dict[str, Any] | None = None) -> JsonResponse:
    """An error answer with a stable ``code`` (see :data:`ERRORS`)."""
    status, default = ERRORS[code]
    body: dict[str, Any] = {"code": code, "message": str(message or default)}
    if fields:
        body["fields"] = fields
    answer: dict[str, Any] = {"error": body}
    if data is not None:
        answer["data"] = data
    return JsonResponse(answer, status=status)


def form_error(form: Any) -> JsonResponse:
    """``invalid_input`` with each field's messages (``__all__`` for the form's own)."""
    fields = {name: [str(m) for m in messages] for name, messages in form.errors.items()}
    first = next(iter(fields.values()), [""])[0]
    return error("invalid_input", first, fields=fields)
