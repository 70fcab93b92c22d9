"""The JSON control API: what tests and scripts use to play the phone and the operator.

Every answer is JSON; every error is ``{"error_code", "error_message"}`` with a 4xx status.
Every call needs the instance's token (header ``X-Sandbox-Token``, see ``control_auth``).
See docs/sandbox.md for each path, body and answer.
"""

from __future__ import annotations

import json
from functools import wraps
from typing import Any

from django.http import HttpRequest, JsonResponse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt

from toopher_server import db, lifecycle, phones, totp
from toopher_server.errors import ApiError, bad_request, not_found, unexpected_error
from toopher_server.models import AuthenticationRequest, Pairing, Phone, Terminal
from toopher_server.params import parse_uuid, raw_body_text
from toopher_server.requesters import create_requester, ensure_requester
from toopher_server.serializers import authentication_request_json, pairing_json
from toopher_server.service import DEFAULT_ACTION, get_or_create_action
from toopher_server.urls_helpers import api_url

from .control_auth import check_control_token
from .models import Fault, Message
from .urls_helpers import phone_url

MAX_TEXT = 500


def control_view(*methods: str):
    """Token, JSON in, JSON out; ApiError becomes its JSON answer; wrong methods get a 405."""

    def decorator(view):
        @csrf_exempt
        @never_cache
        @wraps(view)
        def wrapper(request: HttpRequest, *args, **kwargs):
            if request.method not in methods:
                response = JsonResponse(
                    {"error_code": 405, "error_message": "Method not allowed."}, status=405
                )
                response["Allow"] = ", ".join(methods)
                return response
            try:
                check_control_token(request)
                return view(request, *args, **kwargs)
            except ApiError as error:
                return error.response()
            except Exception:  # noqa: BLE001 - a bug: answered as JSON, logged
                return unexpected_error(request.path_info)

        return wrapper

    return decorator


def json_body(request: HttpRequest) -> dict[str, Any]:
    """The request body as a JSON object ({} when empty); a 400 otherwise."""
    text = raw_body_text(request)
    if not text.strip():
        return {}
    try:
        data = json.loads(text)
    except ValueError as exc:
        raise bad_request("The request body is not valid JSON.") from exc
    if not isinstance(data, dict):
        raise bad_request("The request body must be a JSON object.")
    return data


def _bool(data: dict[str, Any], name: str, default: bool | None = None) -> bool:
    value = data.get(name, default)
    if not isinstance(value, bool):
        raise bad_request(f"{name} must be true or false.")
    return value


def _text(data: dict[str, Any], name: str, default: str = "") -> str:
    value = data.get(name, default)
    if value is None:
        return default
    if not isinstance(value, str):
        raise bad_request(f"{name} must be a string.")
    if len(value) > MAX_TEXT:
        raise bad_request(f"{name} is too long (at most {MAX_TEXT}).")
    return value


def _get(model, object_id: str, what: str):
    try:
        oid = parse_uuid(object_id, what)
    except ApiError as exc:
        raise not_found(f"No {what} with this id.") from exc
    obj = model.objects.filter(id=oid).first()
    if obj is None:
        raise not_found(f"No {what} with this id.")
    return obj


def pending_pairing_json(pairing: Pairing) -> dict[str, Any]:
    return {
        "id": str(pairing.id),
        "user_name": pairing.user.name,
        "requester_name": pairing.requester.name,
        "kind": pairing.kind,
        "created": pairing.created.isoformat(),
    }


def pending_authentication_json(auth: AuthenticationRequest) -> dict[str, Any]:
    return {
        "id": str(auth.id),
        "pairing_id": str(auth.pairing_id),
        "user_name": auth.user.name,
        "requester_name": auth.requester.name,
        "terminal_id": str(auth.terminal_id),
        "terminal_name": auth.terminal.name,
        "action_name": auth.action.name,
        "automation_allowed": auth.automation_allowed,
        "created": auth.created.isoformat(),
        "age_seconds": round((timezone.now() - auth.created).total_seconds(), 1),
        "expires_at": lifecycle.expires_at(auth).isoformat(),
    }


@control_view("POST")
def requesters(request: HttpRequest) -> JsonResponse:
    """POST control/requesters -> {"key", "secret", "api_url"} of a new requester.

    Optional body: {"name"}, and {"key", "secret"} to create (or update) a requester
    with exactly these credentials.
    """
    data = json_body(request)
    name = _text(data, "name") or "Sandbox requester"
    key, secret = _text(data, "key"), _text(data, "secret")
    if bool(key) != bool(secret):
        raise bad_request("key and secret go together.")
    if key and (len(key) > 200 or len(secret) > 200 or not key.isprintable()):
        raise bad_request("key and secret are printable and at most 200 characters.")
    requester = ensure_requester(key, secret, name) if key else create_requester(name)
    return JsonResponse(
        {
            "key": requester.key,
            "secret": requester.current_secret(),
            "api_url": api_url(request),
            "name": requester.name,
        }
    )


@control_view("POST")
def create_phone(request: HttpRequest) -> JsonResponse:
    """POST control/phones -> {"phone_id", "pairing_phrase"} of a new phone.

    Optional body: {"name", "phone_number", "pairing_phrase"} (a chosen two-word phrase).
    """
    data = json_body(request)
    number = _text(data, "phone_number")
    chosen = _text(data, "pairing_phrase")
    if len(number) > 32:
        raise bad_request("phone_number is too long (at most 32).")
    with db.atomic():
        phone = phones.create_phone(_text(data, "name")[:100] or "My phone", number)
        phrase = phones.add_phrase(phone, chosen) if chosen else phones.new_phrase(phone)
    return JsonResponse(
        {
            "phone_id": str(phone.id),
            "pairing_phrase": phrase.phrase,
            "phone_number": phone.phone_number,
            "phone_url": phone_url(request, str(phone.id)),
        }
    )


@control_view("POST")
def phone_phrase(request: HttpRequest, phone_id: str) -> JsonResponse:
    """POST control/phones/<id>/phrases -> {"pairing_phrase"}: a new phrase on that phone."""
    phone = _get(Phone, phone_id, "phone")
    chosen = _text(json_body(request), "pairing_phrase")
    phrase = phones.add_phrase(phone, chosen) if chosen else phones.new_phrase(phone)
    return JsonResponse({"pairing_phrase": phrase.phrase})


@control_view("GET")
def phone_requests(request: HttpRequest, phone_id: str) -> JsonResponse:
    """GET control/phones/<id>/requests -> the pending pairings and authentication requests."""
    phone = _get(Phone, phone_id, "phone")
    return JsonResponse(
        {
            "pairings": [pending_pairing_json(p) for p in phones.pending_pairings(phone)],
            "authentication_requests": [
                pending_authentication_json(a) for a in phones.pending_authentications(phone)
            ],
        }
    )


@control_view("POST")
def respond_pairing(request: HttpRequest, pairing_id: str) -> JsonResponse:
    """POST control/pairings/<id>/respond with {"allow": bool}."""
    pairing = _get(Pairing, pairing_id, "pairing")
    data = json_body(request)
    allow = _bool(data, "allow")
    pairing = phones.respond_pairing(str(pairing.id), allow)
    return JsonResponse(pairing_json(pairing))


@control_view("POST")
def respond_authentication(request: HttpRequest, request_id: str) -> JsonResponse:
    """POST control/authentication_requests/<id>/respond with {"grant", "reason", "automate"}."""
    auth = _get(AuthenticationRequest, request_id, "authentication request")
    data = json_body(request)
    grant = _bool(data, "grant")
    reason = _text(data, "reason")
    automate = _bool(data, "automate", False)
    auth = phones.respond_authentication(str(auth.id), grant, reason, automate)
    return JsonResponse(authentication_request_json(auth))


@control_view("POST")
def deactivate_pairing(request: HttpRequest, pairing_id: str) -> JsonResponse:
    """POST control/pairings/<id>/deactivate: the user removed the pairing in the app."""
    pairing = _get(Pairing, pairing_id, "pairing")
    return JsonResponse(pairing_json(phones.deactivate_pairing(str(pairing.id))))


@control_view("GET")
def pairing_otp(request: HttpRequest, pairing_id: str) -> JsonResponse:
    """GET control/pairings/<id>/otp -> {"otp": "123456"}."""
    pairing = _get(Pairing, pairing_id, "pairing")
    return JsonResponse({"otp": phones.otp_of(pairing), "seconds_left": totp.seconds_left()})


@control_view("POST")
def automations(request: HttpRequest) -> JsonResponse:
    """POST control/automations: the phone answers this terminal and action by itself.

    Body: {"pairing_id", "terminal_id", "action_name" (default "Log in"), "grant": bool}.
    """
    data = json_body(request)
    pairing = _get(Pairing, _text(data, "pairing_id"), "pairing")
    terminal = _get(Terminal, _text(data, "terminal_id"), "terminal")
    if terminal.user_id != pairing.user_id:
        raise bad_request("The terminal is not the pairing user's.")
    grant = _bool(data, "grant", True)
    action_name = _text(data, "action_name") or DEFAULT_ACTION
    if len(action_name) > 200:
        raise bad_request("action_name is too long (at most 200).")
    action = get_or_create_action(pairing.requester, action_name)
    phones.set_automation(pairing, terminal, action, grant)
    return JsonResponse(
        {
            "pairing_id": str(pairing.id),
            "terminal_id": str(terminal.id),
            "action_name": action.name,
            "grant": grant,
        }
    )


@control_view("GET")
def messages(request: HttpRequest) -> JsonResponse:
    """GET control/messages -> the SMS and emails the sandbox 'sent', newest first."""
    items = [
        {"kind": m.kind, "to": m.to, "subject": m.subject, "body": m.body,
         "created": m.created.isoformat()}
        for m in Message.objects.all()[:200]
    ]
    return JsonResponse({"messages": items})


def _fault_fields(data: dict[str, Any]) -> dict[str, Any]:
    latency = data.get("latency_ms", 0)
    if isinstance(latency, bool) or not isinstance(latency, int) or not 0 <= latency <= 60_000:
        raise bad_request("latency_ms must be an integer from 0 to 60000.")
    status = data.get("status")
    if status is not None and (
        isinstance(status, bool) or not isinstance(status, int) or not 100 <= status <= 599
    ):
        raise bad_request("status must be null or an HTTP status from 100 to 599.")
    malformed = _bool(data, "malformed", False)
    rate = data.get("rate", 1.0)
    if isinstance(rate, bool) or not isinstance(rate, int | float) or not 0 <= rate <= 1:
        raise bad_request("rate must be a number from 0 to 1.")
    return {"latency_ms": latency, "status": status, "malformed": malformed, "rate": float(rate)}


@control_view("POST", "DELETE")
def faults(request: HttpRequest) -> JsonResponse:
    """POST control/faults sets faults (for one "key" or all); DELETE clears them."""
    data = json_body(request)
    key = _text(data, "key") if "key" in data else ""
    if request.method == "DELETE":
        chosen = Fault.objects.filter(key=key) if "key" in data else Fault.objects.all()
        return JsonResponse({"cleared": chosen.delete()[0]})
    fields = _fault_fields(data)
    Fault.objects.update_or_create(key=key, defaults=fields)
    return JsonResponse({"key": key or None, **fields})
