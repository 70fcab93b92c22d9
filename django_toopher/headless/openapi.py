"""The OpenAPI 3.1 document of the JSON API, built from one table of endpoints.

The test suite validates every request and answer it makes through the API against
this document (tests/headless), so it stays true.
"""

from __future__ import annotations

import functools
from typing import Any

from .responses import ERRORS

NULLABLE_STRING = {"type": ["string", "null"]}
NULLABLE_INT = {"type": ["integer", "null"]}

SCHEMAS: dict[str, Any] = {
    "Meta": {
        "type": "object",
        "description": "App clients only: the tokens to send from now on.",
        "properties": {
            "session_token": {**NULLABLE_STRING, "description": "Send as X-Session-Token."},
            "terminal_token": {"type": "string", "description": "Send as X-Toopher-Terminal."},
        },
        "additionalProperties": False,
    },
    "User": {
        "type": "object",
        "required": ["id", "username"],
        "properties": {"id": {"type": "string"}, "username": {"type": "string"}},
        "additionalProperties": False,
    },
    "Pending": {
        "type": "object",
        "description": "A pending login or action approval: a live step, or how it ended.",
        "required": ["status", "step", "final", "message", "kind", "action", "remaining",
                     "interval", "otp_required", "qr", "repair", "verification_code"],
        "properties": {
            "status": {"enum": ["pending", "granted", "denied", "expired", "cancelled",
                                "rate_limited", "refused"]},
            "step": {"enum": ["start", "name_terminal", "pushed", "pair", "pairing", "failed",
                              None]},
            "final": {"type": "boolean"},
            "message": {"type": "string"},
            "kind": {"enum": ["login", "action", None]},
            "action": NULLABLE_STRING,
            "remaining": NULLABLE_INT,
            "interval": {"type": "integer", "minimum": 1,
                         "description": "Seconds between two polls (POLL_INTERVAL)."},
            "otp_required": {"type": "boolean"},
            "qr": {"type": "boolean"},
            "repair": {"type": "boolean"},
            "verification_code": {
                "type": ["string", "null"], "pattern": "^[0-9]{1,8}$",
                "description": "Number matching: while the push waits (step pushed), the "
                               "number the user picks on the phone; show it. Else null.",
            },
        },
        "additionalProperties": False,
    },
    "Terminal": {
        "type": "object",
        "required": ["id", "name", "current", "created_at", "last_used_at"],
        "properties": {
            "id": {"type": "integer"},
            "name": {"type": "string"},
            "current": {"type": "boolean"},
            "created_at": {"type": "string", "format": "date-time"},
            "last_used_at": {"type": ["string", "null"], "format": "date-time"},
        },
        "additionalProperties": False,
    },
    "Account": {
        "type": "object",
        "required": ["user", "paired", "enabled", "mode", "recently_authenticated", "pairing",
                     "terminals", "recent_activity"],
        "properties": {
            "user": {"$ref": "#/components/schemas/User"},
            "paired": {"type": ["boolean", "null"],
                       "description": "null when Toopher cannot tell right now"},
            "enabled": {"type": "boolean"},
            "mode": {"enum": ["stored", "zero_storage"]},
            "recently_authenticated": {"type": "boolean"},
            "pairing": {
                "type": ["object", "null"],
                "properties": {"qr": {"type": "boolean"}, "remaining": {"type": "integer"}},
                "required": ["qr", "remaining"],
            },
            "terminals": {"type": "array", "items": {"$ref": "#/components/schemas/Terminal"}},
            "recent_activity": {
                "type": "array",
                "items": {
                    "type": "object",
                    "required": ["kind", "action", "terminal", "at"],
                    "properties": {"kind": {"type": "string"}, "action": {"type": "string"},
                                   "terminal": {"type": "string"},
                                   "at": {"type": "string", "format": "date-time"}},
                },
            },
        },
        "additionalProperties": False,
    },
    "Error": {
        "type": "object",
        "required": ["error"],
        "properties": {
            "error": {
                "type": "object",
                "required": ["code", "message"],
                "properties": {
                    "code": {"enum": sorted(ERRORS)},
                    "message": {"type": "string"},
                    "fields": {"type": "object",
                               "additionalProperties": {"type": "array",
                                                        "items": {"type": "string"}}},
                },
                "additionalProperties": False,
            },
            "data": {"type": "object",
                     "properties": {"pending": {"$ref": "#/components/schemas/Pending"}}},
            "meta": {"$ref": "#/components/schemas/Meta"},
        },
        "additionalProperties": False,
    },
}


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _envelope(data: dict[str, Any]) -> dict[str, Any]:
    return {
        "type": "object",
        "required": ["data"],
        "properties": {"data": data, "meta": _ref("Meta")},
        "additionalProperties": False,
    }


def _obj(**properties: Any) -> dict[str, Any]:
    return {"type": "object", "required": sorted(properties), "properties": properties,
            "additionalProperties": False}


SESSION = _obj(user={"oneOf": [_ref("User"), {"type": "null"}]},
               pending={"oneOf": [_ref("Pending"), {"type": "null"}]})
PENDING = {"type": "object", "required": ["pending"],
           "properties": {"pending": _ref("Pending"), "user": {
               "oneOf": [_ref("User"), {"type": "null"}]}},
           "additionalProperties": False}
PAIRING = _obj(pairing=_obj(status={"enum": ["pending", "unavailable", "paired", "denied",
                                             "expired", "failed", "none"]},
                            final={"type": "boolean"}, message={"type": "string"}),
               account=_ref("Account"))
ACTION = _obj(action={"type": "string"}, approved={"type": "boolean"})
ACCOUNT = _ref("Account")
TERMINALS = _obj(terminals={"type": "array", "items": _ref("Terminal")})
TERMINAL = _obj(terminal=_ref("Terminal"))
UNPAIRED = _obj(messages={"type": "array", "items": {"type": "string"}}, account=ACCOUNT)
CODES_STATE = {"remaining": {"type": "integer", "minimum": 0},
               "generated_at": {"type": ["string", "null"], "format": "date-time"}}
RECOVERY_CODES = _obj(**CODES_STATE)
NEW_RECOVERY_CODES = _obj(codes={"type": "array", "items": {"type": "string"}}, **CODES_STATE)
PNG = "image/png"


def _body(**properties: Any) -> dict[str, Any]:
    return {"required": False, "content": {"application/json": {"schema": {
        "type": "object", "properties": properties}}}}


TEXT = {"type": "string"}
FLAG = {"type": "boolean"}

#: (method, path, summary, request body or None, success schema or PNG, tag)
ENDPOINTS: list[tuple[str, str, str, Any, Any, str]] = [
    ("get", "session", "Who is logged in, and what waits for approval", None, SESSION,
     "login"),
    ("post", "login", "The password step (a pending login when approval is needed)",
     _body(username=TEXT, password=TEXT), SESSION, "login"),
    ("post", "logout", "End the session", None, SESSION, "login"),
    ("post", "pending/start", "Send the one push of the pending login or action", None,
     PENDING, "pending"),
    ("get", "pending/status", "Poll the pending login or action", None, PENDING, "pending"),
    ("post", "pending/cancel", "Cancel it", None, PENDING, "pending"),
    ("post", "pending/retry", "Try again after Toopher failed", None, PENDING, "pending"),
    ("post", "pending/otp", "Answer with the one-time password shown in the app",
     _body(otp=TEXT), PENDING, "pending"),
    ("post", "pending/terminal", "Name this browser or device", _body(name=TEXT), PENDING,
     "pending"),
    ("post", "pending/pair", "Pair a phone inside the pending login",
     _body(pairing_phrase=TEXT, use_qr=FLAG), PENDING, "pending"),
    ("get", "pending/pair/qr", "The QR code of the pending login's pairing", None, PNG,
     "pending"),
    ("post", "pending/recovery-code", "Log in with a recovery code instead of the phone",
     _body(code=TEXT), PENDING, "pending"),
    ("post", "pending/reset-email",
     "Mail a pairing reset link to the account's address (the same answer either way)",
     None, PENDING, "pending"),
    ("post", "pending/reset", "Reset the pairing with the token of an emailed link",
     _body(token=TEXT), PENDING, "pending"),
    ("post", "actions/begin", "Step-up: approved already, or begin the approval",
     _body(action=TEXT, max_age={"type": "integer"}), ACTION, "actions"),
    ("get", "actions/result", "Step-up: whether an action is approved", None, ACTION,
     "actions"),
    ("get", "account", "The security page's data", None, ACCOUNT, "account"),
    ("post", "account/reauthenticate", "Enter the password again", _body(password=TEXT),
     ACCOUNT, "account"),
    ("post", "account/pair", "Start pairing a phone", _body(pairing_phrase=TEXT, use_qr=FLAG),
     PAIRING, "account"),
    ("get", "account/pair/status", "Poll the pairing in progress", None, PAIRING, "account"),
    ("get", "account/pair/qr", "The QR code of the pairing in progress", None, PNG,
     "account"),
    ("post", "account/pair/cancel", "Cancel the pairing in progress", None, ACCOUNT,
     "account"),
    ("post", "account/unpair", "Remove the pairing (after a fresh approval)",
     _body(end_other_sessions=FLAG), UNPAIRED, "account"),
    ("get", "account/recovery-codes", "How many recovery codes are left", None,
     RECOVERY_CODES, "account"),
    ("post", "account/recovery-codes/new",
     "A new set of recovery codes, shown once (after a fresh approval)", None,
     NEW_RECOVERY_CODES, "account"),
    ("get", "account/terminals", "The user's named browsers and devices", None, TERMINALS,
     "account"),
    ("post", "account/terminals/{pk}/rename", "Rename one", _body(name=TEXT), TERMINAL,
     "account"),
    ("post", "account/terminals/{pk}/forget", "Forget one", None, TERMINALS, "account"),
]

HEADERS = [
    {"name": "X-Session-Token", "in": "header", "required": False,
     "schema": {"type": "string"}, "description": "App clients: the session token."},
    {"name": "X-Toopher-Terminal", "in": "header", "required": False,
     "schema": {"type": "string"}, "description": "App clients: the terminal token."},
    {"name": "X-CSRFToken", "in": "header", "required": False,
     "schema": {"type": "string"}, "description": "Browser clients: the CSRF token."},
]
CLIENT = {"name": "client", "in": "path", "required": True,
          "schema": {"enum": ["browser", "app"]}}
PK = {"name": "pk", "in": "path", "required": True, "schema": {"type": "integer"}}
QUERY = {"actions/result": [
    {"name": "action", "in": "query", "required": True, "schema": {"type": "string"}},
    {"name": "max_age", "in": "query", "required": False,
     "schema": {"type": "string", "pattern": "^[0-9]{1,9}$"},
     "description": "Seconds, in ASCII digits; anything else is invalid_input."},
]}


def _operation(method: str, path: str, summary: str, request: Any, success: Any,
               tag: str) -> dict[str, Any]:
    content = ({PNG: {}} if success == PNG
               else {"application/json": {"schema": _envelope(success)}})
    operation: dict[str, Any] = {
        "operationId": path.replace("/", "_").replace("{pk}", "pk") + f"_{method}",
        "summary": summary,
        "tags": [tag],
        "parameters": [CLIENT, *([PK] if "{pk}" in path else []), *QUERY.get(path, []),
                       *HEADERS],
        "responses": {
            "200": {"description": "OK", "content": content},
            "default": {"description": "An error with a stable code",
                        "content": {"application/json": {"schema": _ref("Error")}}},
        },
    }
    if request is not None:
        operation["requestBody"] = request
    return operation


@functools.lru_cache(maxsize=1)
def build() -> dict[str, Any]:
    """The whole document (paths relative to where the API is included)."""
    paths: dict[str, Any] = {}
    for method, path, *rest in ENDPOINTS:
        paths.setdefault(f"/{{client}}/v1/{path}", {})[method] = _operation(
            method, path, *rest)
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "django-toopher JSON API",
            "version": "1",
            "description": "The Toopher second-factor flow for single-page and mobile apps. "
            "Every answer under the API's prefix is JSON: an unknown path answers 404 "
            "not_found, a body that is not a JSON object (a form, multipart, too deep, too "
            "large) 400 invalid_request. See docs/headless.md.",
        },
        "paths": paths,
        "components": {"schemas": SCHEMAS},
    }
