"""The iframe protocol's building blocks (spec §5): signed results and flow state.

The result of an iframe flow is a flat dict of strings signed with ``toopher_sig``
(§5.5): fields sorted by key, form-encoded the Python 2 way (space as ``+``, ``~`` as
``%7E``), HMAC-SHA1 keyed with the raw consumer secret, base64.

Between the steps of a flow (pairing, naming the terminal, waiting), the state lives
in a token signed with Django's signing framework, carried in the page's links and
forms; it cannot be forged or replayed into another requester's flow.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import time
from typing import Any
from urllib.parse import quote_plus

from django.core import signing
from django.views.decorators.debug import sensitive_variables

from .models import AuthenticationRequest, Pairing, Requester, User

STATE_SALT = "toopher_server.iframe.state"
STATE_MAX_AGE = 30 * 60


def _quote(value: str) -> str:
    return quote_plus(value, safe="").replace("~", "%7E")


def encode_fields(fields: dict[str, str]) -> str:
    """The string that is signed: sorted ``k=v`` pairs, Python 2 ``urlencode`` style."""
    return "&".join(f"{_quote(k)}={_quote(v)}" for k, v in sorted(fields.items()))


@sensitive_variables("secret")
def signature(fields: dict[str, str], secret: str) -> str:
    """``toopher_sig`` of the fields (``toopher_sig`` itself excluded)."""
    data = {k: v for k, v in fields.items() if k != "toopher_sig"}
    digest = hmac.new(secret.encode(), encode_fields(data).encode(), hashlib.sha1).digest()
    return base64.b64encode(digest).decode("ascii")


def _bool(value: bool) -> str:
    return "true" if value else "false"


@sensitive_variables()
def signed_result(requester: Requester, state: dict[str, Any], fields: dict[str, str]) -> dict:
    """Add the common fields (session token, timestamp, metadata) and sign."""
    result = dict(fields)
    result["session_token"] = state.get("session_token", "")
    result["timestamp"] = str(int(time.time()))
    if state.get("requester_metadata") is not None:
        result["requester_metadata"] = state["requester_metadata"]
    valid = requester.secrets_valid_now()
    secret = valid[-1] if state.get("previous_secret") else valid[0]
    result["toopher_sig"] = signature(result, secret)
    return result


def authentication_fields(auth: AuthenticationRequest) -> dict[str, str]:
    return {
        "id": str(auth.id),
        "pending": _bool(auth.pending),
        "granted": _bool(auth.granted),
        "automated": _bool(auth.automated),
        "reason": auth.reason,
        "reason_code": str(auth.reason_code),
        "terminal_id": str(auth.terminal.id),
        "terminal_name": auth.terminal.name,
        "terminal_requester_specified_id": auth.terminal.requester_specified_id,
        "pairing_user_id": str(auth.user.id),
        "user_name": auth.user.name,
        "user_toopher_authentication_enabled": _bool(auth.user.toopher_authentication_enabled),
        "action_id": str(auth.action.id),
        "action_name": auth.action.name,
        "resource_type": "authentication_request",
    }


def pairing_fields(pairing: Pairing) -> dict[str, str]:
    return {
        "id": str(pairing.id),
        "enabled": _bool(pairing.enabled and not pairing.deactivated),
        "pending": _bool(pairing.pending),
        "pairing_user_id": str(pairing.user.id),
        "user_name": pairing.user.name,
        "user_toopher_authentication_enabled": _bool(pairing.user.toopher_authentication_enabled),
        "resource_type": "pairing",
    }


def user_fields(user: User) -> dict[str, str]:
    return {
        "id": str(user.id),
        "name": user.name,
        "toopher_authentication_enabled": _bool(user.toopher_authentication_enabled),
        "resource_type": "requester_user",
    }


def error_fields(error_code: int, message: str) -> dict[str, str]:
    return {"error_code": str(error_code), "error_message": message}


def dump_state(state: dict[str, Any]) -> str:
    return signing.dumps(state, salt=STATE_SALT, compress=True)


def load_state(token: str) -> dict[str, Any] | None:
    """The flow state, or None when the token is forged, damaged or too old."""
    if not token or len(token) > 4000:
        return None
    try:
        state = signing.loads(token, salt=STATE_SALT, max_age=STATE_MAX_AGE)
    except signing.BadSignature:
        return None
    return state if isinstance(state, dict) else None
