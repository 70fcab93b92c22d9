"""JSON shapes of spec §2, with the legacy alias fields older clients read."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from .models import Action, AuthenticationRequest, Pairing, Requester, Terminal, User


def _time(value: datetime) -> str:
    """``YYYY-MM-DD HH:MM:SS`` (the stored UTC time; isoformat is several times faster
    than strftime, and a status poll formats twenty of these)."""
    return value.isoformat(sep=" ", timespec="seconds")[:19]


def requester_json(requester: Requester) -> dict[str, Any]:
    return {
        "id": str(requester.id),
        "name": requester.name,
        "created": _time(requester.created),
        "modified": _time(requester.modified),
        "consumer": {"key": requester.key},
        "permitted_challenge_required": True,
        "permitted_critical_actions": True,
        "permitted_sms_authentication": True,
    }


def user_json(user: User) -> dict[str, Any]:
    return {
        "id": str(user.id),
        "name": user.name,
        "toopher_authentication_enabled": user.toopher_authentication_enabled,
        "disable_toopher_auth": not user.toopher_authentication_enabled,
        "created": _time(user.created),
        "modified": _time(user.modified),
        "requester": requester_json(user.requester),
        "number_of_pregenerated_otps_remaining": 0,
    }


def pairing_json(pairing: Pairing, user: dict[str, Any] | None = None) -> dict[str, Any]:
    """The pairing; ``user``: its user's JSON when the caller has it already."""
    return {
        "id": str(pairing.id),
        "enabled": pairing.enabled,
        "pending": pairing.pending,
        "deactivated": pairing.deactivated,
        "user": user if user is not None else user_json(pairing.user),
        "totp_length": 6,
        "reason": "",
        "reason_code": 0,
        "authenticator_type": "sandbox",
        "handleable": True,
        "created": _time(pairing.created),
        "modified": _time(pairing.modified),
        "created_seconds_since_epoch": int(pairing.created.timestamp()),
    }


def terminal_json(terminal: Terminal, user: dict[str, Any] | None = None) -> dict[str, Any]:
    """The terminal; ``user``: its user's JSON when the caller has it already."""
    return {
        "id": str(terminal.id),
        "name": terminal.name,
        "requester_specified_id": terminal.requester_specified_id,
        "name_extra": terminal.requester_specified_id,
        "user": user if user is not None else user_json(terminal.user),
        "created": _time(terminal.created),
        "modified": _time(terminal.modified),
    }


def action_json(action: Action) -> dict[str, Any]:
    return {
        "id": str(action.id),
        "name": action.name,
        "created": _time(action.created),
        "modified": _time(action.modified),
    }


def authentication_request_json(auth: AuthenticationRequest) -> dict[str, Any]:
    """The request, with its terminal, user, action and pairing (one user's JSON, shared);
    with number matching, the extension field ``verification_code`` (the official
    clients ignore members they do not know)."""
    user = user_json(auth.user)
    shown = {
        "id": str(auth.id),
        "pending": auth.pending,
        "granted": auth.granted,
        "automated": auth.automated,
        "reason": auth.reason,
        "reason_code": auth.reason_code,
        "cancelled": auth.cancelled,
        "totp_valid": auth.totp_valid,
        "automation_allowed": auth.automation_allowed,
        "challenge_required": auth.challenge_required,
        "terminal": terminal_json(
            auth.terminal, user if auth.terminal.user_id == auth.user_id else None
        ),
        "user": user,
        "action": action_json(auth.action),
        "pairing": pairing_json(
            auth.pairing, user if auth.pairing.user_id == auth.user_id else None
        ),
        "created": _time(auth.created),
        "modified": _time(auth.modified),
        "created_seconds_since_epoch": int(auth.created.timestamp()),
    }
    if auth.verification_code:
        shown["verification_code"] = auth.verification_code
    return shown
