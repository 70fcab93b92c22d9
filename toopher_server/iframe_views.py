"""The Toopher iframe (spec §5): ``web/authenticate``, ``web/manage_user`` and the legacy names.

The entry URL is checked like any API call (OAuth in the query string, nonce, clock
window) plus its ``expires`` (or v1 ``ttl``). The flow then runs on small pages (pair
with a phrase, name this terminal, wait for the phone, OTP fallback) and ends with a
page that posts the signed result to the parent window::

    window.parent.postMessage(JSON.stringify({status: "toopher-api-complete",
                                              payload: {...signed fields...}}), "*")
"""

from __future__ import annotations

import secrets
import time
from importlib import resources
from typing import Any
from urllib.parse import urlencode

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.decorators.clickjacking import xframe_options_exempt
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods

from . import db, iframe, phones, ratelimit, reset_links, service
from .errors import NOT_AUTHORIZED_MESSAGE, ApiError
from .models import AuthenticationRequest, Pairing, Requester, Terminal, User
from .oauth import authenticate_with_secret as verify_oauth
from .params import Params
from .urls_helpers import base_url, reverse_here

TERMINAL_COOKIE = "toopher_server_terminal"
AUTHENTICATE, MANAGE, UNPAIR = "authenticate", "manage", "unpair"
NAME_LENGTH = 200


def _error_page(request: HttpRequest, message: str, status: int) -> HttpResponse:
    return render(
        request, "toopher_server/iframe.html", {"mode": "error", "message": message}, status=status
    )


def _expired(params: Params) -> str | None:
    """Why the URL's lifetime is not acceptable, or None."""
    raw = params.text("expires", "ttl", max_length=20)
    if raw is None:
        return "The iframe URL has no expiry (expires)."
    try:
        expires = int(raw)
    except ValueError:
        return "The iframe URL has an invalid expiry."
    if expires < time.time():
        return "This Toopher link has expired. Reload the page to try again."
    return None


def _entry(request: HttpRequest, kind: str, inline_default: bool) -> HttpResponse:
    try:
        requester, previous_secret = verify_oauth(request, unsigned=("terminal_name",))
        params = Params.from_request(request)
        username = params.text("username", required=True, max_length=NAME_LENGTH)
        state = {
            "rid": str(requester.id),
            "kind": kind,
            "username": username,
            "action_name": params.text("action_name", max_length=NAME_LENGTH) or "Log In",
            "session_token": params.text("session_token", max_length=500,
                                         empty_is_absent=False) or "",
            "requester_metadata": params.text("requester_metadata", max_length=2000,
                                              empty_is_absent=False),
            "automation_allowed": params.boolean("automation_allowed", default=True),
            "challenge_required": params.boolean("challenge_required", default=False),
            "inline": params.boolean("allow_inline_pairing", default=inline_default),
            "reset_email": params.text("reset_email", max_length=320) or "",
            "terminal_name": params.text("terminal_name", max_length=NAME_LENGTH) or "",
            # The result is signed with the secret the site signed the URL with.
            "previous_secret": previous_secret,
        }
    except ApiError as error:
        return _error_page(request, error.message, error.status)
    problem = _expired(params)
    if problem:
        return _error_page(request, problem, 403)
    return _advance(request, requester, state)


@xframe_options_exempt
@never_cache
@require_GET
def web_authenticate(request: HttpRequest) -> HttpResponse:
    """W1: authentication with inline pairing (``allow_inline_pairing`` defaults to true)."""
    return _entry(request, AUTHENTICATE, inline_default=True)


@xframe_options_exempt
@never_cache
@require_GET
def web_auth(request: HttpRequest) -> HttpResponse:
    """W3: the older ``web/auth``: ``web/authenticate`` without inline pairing."""
    return _entry(request, AUTHENTICATE, inline_default=False)


@xframe_options_exempt
@never_cache
@require_GET
def web_manage_user(request: HttpRequest) -> HttpResponse:
    """W2 (and the older ``web/pair``): pair, unpair, opt in or out."""
    return _entry(request, MANAGE, inline_default=True)


@xframe_options_exempt
@never_cache
@require_GET
def web_unpair(request: HttpRequest) -> HttpResponse:
    """W3: the v1 ``web/unpair``: remove the user's pairing."""
    return _entry(request, UNPAIR, inline_default=False)


@xframe_options_exempt
@never_cache
@require_GET
def web_error(request: HttpRequest) -> HttpResponse:
    """``web/error.html?message=...``."""
    message = (request.GET.get("message") or "Something went wrong.")[:500]
    return _error_page(request, message, 200)


@xframe_options_exempt
@never_cache
@csrf_exempt  # the signed flow state is the proof that this browser is in this flow
@require_http_methods(["GET", "POST"])
def web_flow(request: HttpRequest) -> HttpResponse:
    """One step of a flow; the state comes back in ``state`` (query or form)."""
    state = iframe.load_state(request.POST.get("state") or request.GET.get("state") or "")
    if state is None:
        return _error_page(request, "This Toopher session has expired. Reload the page.", 400)
    requester = Requester.objects.filter(id=str(state.get("rid") or "")).first()
    if requester is None:
        return _error_page(request, "This Toopher session is no longer valid.", 400)
    notice = ""
    if request.method == "POST":
        try:
            result = _act(request, requester, state, (request.POST.get("action") or "")[:20])
        except ApiError as error:
            result, notice = None, error.message
        if isinstance(result, HttpResponse):
            return result
        if isinstance(result, str):
            notice = result
    return _advance(request, requester, state, notice)


# --- the state machine ---------------------------------------------------------------------------


def _render(request: HttpRequest, mode: str, state: dict, **context: Any) -> HttpResponse:
    token = iframe.dump_state(state)
    flow_url = reverse_here(request, "iframe-flow")
    context.update(mode=mode, state=token, flow_url=flow_url,
                   refresh_url=f"{flow_url}?{urlencode({'state': token})}",
                   username=state["username"], action_name=state["action_name"])
    response = render(request, "toopher_server/iframe.html", context)
    if state.get("terminal_id"):
        _remember_terminal(request, response, state["terminal_id"])
    return response


def _result(request: HttpRequest, requester: Requester, state: dict, fields: dict,
            summary: str) -> HttpResponse:
    payload = iframe.signed_result(requester, state, fields)
    return render(request, "toopher_server/iframe.html",
                  {"mode": "result", "payload": payload, "summary": summary})


def _error_result(request, requester, state, code: int, message: str) -> HttpResponse:
    return _result(request, requester, state, iframe.error_fields(code, message), message)


def _remember_terminal(request: HttpRequest, response: HttpResponse, value: str) -> None:
    secure = request.is_secure()
    response.set_cookie(TERMINAL_COOKIE, value, max_age=10 * 365 * 24 * 3600, httponly=True,
                        secure=secure, samesite="None" if secure else "Lax")


def _usable_or_latest(user: User | None) -> Pairing | None:
    if user is None:
        return None
    return (user.pairings.filter(state=Pairing.ENABLED, deactivated=False).first()
            or user.pairings.first())


def _advance(request: HttpRequest, requester: Requester, state: dict,
             notice: str = "") -> HttpResponse:
    user = service.find_user(requester, state["username"])
    if state["kind"] == AUTHENTICATE:
        return _advance_authentication(request, requester, state, user, notice)
    if state["kind"] == UNPAIR:
        return _unpair(request, requester, state, user)
    return _advance_management(request, requester, state, user, notice)


def _advance_authentication(request, requester, state, user, notice):
    if user is not None and not user.toopher_authentication_enabled:
        return _error_result(request, requester, state, 704,
                             "The specified user has disabled Toopher authentication.")
    if state.get("auth_id"):
        auth = _auth_of(requester, state["auth_id"])
        if auth.pending:
            return _render(request, "wait_auth", state, auth=auth, notice=notice,
                           can_reset=bool(state["reset_email"]))
        word = "granted" if auth.granted else "denied"
        return _result(request, requester, state, iframe.authentication_fields(auth),
                       f"The request was {'automatically ' if auth.automated else ''}{word}.")
    waiting = _pairing_in_progress(request, requester, state, notice)
    if waiting is not None:
        return waiting
    pairing = _usable_or_latest(user)
    if pairing is None:
        if state["inline"]:
            return _render(request, "pair", state, notice=notice)
        return _error_result(request, requester, state, 705, "No matching user exists.")
    if pairing.deactivated:
        return _error_result(request, requester, state, 707, "Pairing has been deactivated")
    if not pairing.enabled:
        return _error_result(request, requester, state, 601, NOT_AUTHORIZED_MESSAGE)
    try:
        with db.atomic():  # a refused push (429) leaves no terminal behind either
            terminal = _terminal(request, state, user)
            if terminal is None:
                return _render(request, "name_terminal", state, notice=notice)
            ratelimit.check(ratelimit.PUSH, requester, user.name)
            auth = service.start_authentication(
                requester, pairing, terminal, state["action_name"],
                automation_allowed=state["automation_allowed"],
                challenge_required=state["challenge_required"],
            )
    except ApiError as error:
        return _error_page(request, error.message, error.status)
    state["auth_id"] = str(auth.id)
    return _advance_authentication(request, requester, state, user, notice)


def _pairing_in_progress(request, requester, state, notice) -> HttpResponse | None:
    """While this flow's own pairing is pending, wait; once answered, go on."""
    if not state.get("pairing_id"):
        return None
    pairing = Pairing.objects.select_related("user").filter(
        id=state["pairing_id"], requester=requester).first()
    if pairing is None:
        state.pop("pairing_id")
        return None
    if pairing.pending and not pairing.deactivated:
        return _render(request, "wait_pairing", state, notice=notice)
    if state["kind"] == MANAGE or not pairing.enabled:
        summary = "Paired with Toopher." if pairing.enabled else "The pairing was denied."
        return _result(request, requester, state, iframe.pairing_fields(pairing), summary)
    state.pop("pairing_id")
    return None


def _terminal(request: HttpRequest, state: dict, user: User) -> Terminal | None:
    rsid = state.get("terminal_id") or request.COOKIES.get(TERMINAL_COOKIE, "")[:64]
    if not rsid:
        if not state.get("terminal_name"):
            return None
        rsid = secrets.token_hex(16)  # v1: a name from the host page, a new browser
    terminal = Terminal.objects.filter(user=user, requester_specified_id=rsid).first()
    if terminal is None and state.get("terminal_name"):  # v1: the host page gave the name
        terminal = Terminal.objects.create(user=user, name=state["terminal_name"],
                                           requester_specified_id=rsid)
    if terminal is not None:
        state["terminal_id"] = rsid
    return terminal


def _auth_of(requester: Requester, auth_id: str) -> AuthenticationRequest:
    return AuthenticationRequest.objects.select_related(
        "user", "terminal", "action", "pairing").get(id=auth_id, requester=requester)


def _advance_management(request, requester, state, user, notice):
    waiting = _pairing_in_progress(request, requester, state, notice)
    if waiting is not None:
        return waiting
    pairing = _usable_or_latest(user)
    if pairing is None or not pairing.usable:
        return _render(request, "pair", state, notice=notice,
                       deactivated=bool(pairing and pairing.deactivated))
    return _render(request, "manage", state, notice=notice, pairing=pairing, user=user)


def _unpair(request, requester, state, user):
    pairing = _usable_or_latest(user)
    if pairing is None:
        return _error_result(request, requester, state, 705, "No matching user exists.")
    phones.deactivate_pairing(str(pairing.id), by="iframe")
    pairing.refresh_from_db()
    return _result(request, requester, state, iframe.pairing_fields(pairing), "Pairing removed.")


# --- actions (form posts) ------------------------------------------------------------------------


def _act(request: HttpRequest, requester: Requester, state: dict, action: str):
    """Apply one form post; return a response, a notice, or None."""

    def field(name: str, limit: int = NAME_LENGTH) -> str:
        return (request.POST.get(name) or "")[:limit].strip()

    user = service.find_user(requester, state["username"])
    if action == "pair":
        phrase = field("pairing_phrase", 100)
        if not phrase:
            return "Type the pairing phrase shown in the Toopher app."
        try:
            pairing = service.pair_user_with_phrase(requester, state["username"], phrase)
        except ratelimit.RateLimited as error:
            return error.message
        except ApiError:
            return "That phrase is not waiting on any phone. Check it and try again."
        state["pairing_id"] = str(pairing.id)
        return None
    if action == "name_terminal" and user is not None:
        name = field("terminal_name")
        if not name:
            return "Give this computer a name."
        rsid = secrets.token_hex(16)
        Terminal.objects.create(user=user, name=name, requester_specified_id=rsid)
        state["terminal_id"] = rsid
        return None
    if action == "otp" and state.get("auth_id"):
        auth = _auth_of(requester, state["auth_id"])
        service.otp_auth(requester, auth, Params([("otp", field("otp", 20))]))
        return None
    if action == "reset" and state.get("auth_id") and state["reset_email"]:
        auth = _auth_of(requester, state["auth_id"])
        reset_links.email(requester, auth.pairing, base_url(request), state["reset_email"])
        return f"A reset link was sent to {state['reset_email']}."
    if action == "cancel" and state.get("auth_id"):
        service.cancel(requester, _auth_of(requester, state["auth_id"]))
        return None
    if action == "unpair" and user is not None:
        return _unpair(request, requester, state, user)
    if action in {"enable", "disable"} and user is not None:
        user.toopher_authentication_enabled = action == "enable"
        user.save(update_fields=["toopher_authentication_enabled", "modified"])
        word = "enabled" if action == "enable" else "disabled"
        return _result(request, requester, state, iframe.user_fields(user),
                       f"Toopher is {word} for {user.name}.")
    return "That did not work; try again."


@require_GET
def toopher_web_js(request: HttpRequest) -> HttpResponse:
    """``static/toopher-web.js``: the helper script host pages load (§5.3)."""
    source = resources.files("toopher_server").joinpath(
        "static", "toopher_server", "toopher-web.js"
    )
    return HttpResponse(source.read_bytes(), content_type="application/javascript")
