"""Toopher API v1 (spec §3): thin views over ``service``, behind OAuth."""

from __future__ import annotations

import io
from functools import wraps

import segno
from django.db import DatabaseError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils.http import http_date
from django.views.decorators.csrf import csrf_exempt

from . import service
from .errors import ApiError, database_unavailable, error_response, unexpected_error
from .oauth import authenticate
from .params import Params
from .serializers import (
    authentication_request_json,
    pairing_json,
    terminal_json,
    user_json,
)
from .urls_helpers import api_url, base_url, reverse_here


def api_view(*methods: str):
    """Method check, OAuth, parameters and JSON errors around an API view.

    The view is called as ``view(request, requester, params, *args)`` and returns a
    response or something ``JsonResponse`` can serialize. No answer may be cached.
    """

    def decorator(view):
        @csrf_exempt
        @wraps(view)
        def wrapper(request: HttpRequest, *args, **kwargs):
            return not_cached(_answer(view, methods, request, *args, **kwargs))

        return wrapper

    return decorator


def _answer(view, methods, request: HttpRequest, *args, **kwargs) -> HttpResponse:
    if request.method not in methods:
        response = error_response(405, 405, "Method not allowed.")
        response["Allow"] = ", ".join(methods)
        return response
    try:
        requester = authenticate(request)
        params = Params.from_request(request)
        result = view(request, requester, params, *args, **kwargs)
    except ApiError as error:
        result = error.response()
    except DatabaseError as error:  # the database is away: a 503 to retry, not a bug
        return database_unavailable(request.path_info, error)
    except Exception:  # noqa: BLE001 - a bug: answered as JSON, logged
        return unexpected_error(request.path_info)
    if not isinstance(result, HttpResponse):
        result = JsonResponse(result, safe=False)
    return result


#: What ``never_cache`` writes, set directly: every API call pays for it, and Django's
#: version parses and rebuilds the header each time.
NOT_CACHED = "max-age=0, no-cache, no-store, must-revalidate, private"


def not_cached(response: HttpResponse) -> HttpResponse:
    """``response`` marked as never to be cached (every API answer is)."""
    response.headers["Expires"] = http_date()
    response.headers["Cache-Control"] = NOT_CACHED
    return response


@csrf_exempt
def index(request: HttpRequest) -> JsonResponse:
    """GET v1: a small description (unsigned), handy to check the service is up."""
    if request.method not in {"GET", "HEAD"}:
        response = error_response(405, 405, "Method not allowed.")
        response["Allow"] = "GET, HEAD"
        return response
    return JsonResponse({"service": "toopher_server", "api_url": api_url(request)})


@csrf_exempt
def not_found(request: HttpRequest, rest: str = "") -> JsonResponse:
    """Any other path under ``v1/`` or ``control/``: a JSON 404."""
    return error_response(404, 404, "No such endpoint.")


# --- pairings -------------------------------------------------------------------------------


@api_view("POST")
def pairing_create(request, requester, params):
    return pairing_json(service.pair_with_phrase(requester, params))


@api_view("POST")
def pairing_create_qr(request, requester, params):
    return pairing_json(service.pair_qr(requester, params))


@api_view("POST")
def pairing_create_sms(request, requester, params):
    return pairing_json(service.pair_sms(requester, params))


@api_view("GET", "POST")
def pairing_detail(request, requester, params, pairing_id: str):
    pairing = service.get_pairing(requester, pairing_id)
    if request.method == "POST":
        pairing = service.update_pairing(requester, pairing, params)
    return pairing_json(pairing)


@api_view("GET")
def pairing_qr(request, requester, params, pairing_id: str):
    pairing = service.get_pairing(requester, pairing_id)
    link = request.build_absolute_uri(reverse_here(request, "qr_link", [pairing.id]))
    buffer = io.BytesIO()
    segno.make(link, error="m").save(buffer, kind="png", scale=6, border=4)
    return HttpResponse(buffer.getvalue(), content_type="image/png")


@api_view("POST")
def pairing_generate_reset_link(request, requester, params, pairing_id: str):
    pairing = service.get_pairing(requester, pairing_id)
    return {"url": service.reset_link(requester, pairing, base_url(request), params)}


@api_view("POST")
def pairing_send_reset_link(request, requester, params, pairing_id: str):
    pairing = service.get_pairing(requester, pairing_id)
    service.send_reset_link(requester, pairing, base_url(request), params)
    return {}


# --- authentication requests ----------------------------------------------------------------


@api_view("POST")
def authentication_initiate(request, requester, params):
    return authentication_request_json(service.initiate(requester, params))


@api_view("GET")
def authentication_detail(request, requester, params, request_id: str):
    return authentication_request_json(service.get_authentication_request(requester, request_id))


@api_view("POST")
def authentication_otp(request, requester, params, request_id: str):
    auth = service.get_authentication_request(requester, request_id)
    return authentication_request_json(service.otp_auth(requester, auth, params))


@api_view("POST")
def authentication_cancel(request, requester, params, request_id: str):
    auth = service.get_authentication_request(requester, request_id)
    return authentication_request_json(service.cancel(requester, auth))


# --- users ------------------------------------------------------------------------------------


@api_view("POST")
def user_create(request, requester, params):
    return user_json(service.create_user(requester, params))


@api_view("GET")
def user_list(request, requester, params):
    return [user_json(u) for u in service.users_by_name(requester, params)]


@api_view("POST")
def user_reset(request, requester, params):
    service.reset_user(requester, params)
    return {}


@api_view("GET", "POST")
def user_detail(request, requester, params, user_id: str):
    user = service.get_user(requester, user_id)
    if request.method == "POST":
        user = service.update_user(requester, user, params)
    return user_json(user)


@api_view("GET")
def user_pairings(request, requester, params, user_id: str):
    user = service.get_user(requester, user_id)
    return [pairing_json(p) for p in service.user_pairings(requester, user, params)]


# --- user terminals ------------------------------------------------------------------------


@api_view("POST")
def terminal_create(request, requester, params):
    return terminal_json(service.create_terminal(requester, params))


@api_view("GET", "POST")
def terminal_detail(request, requester, params, terminal_id: str):
    terminal = service.get_terminal(requester, terminal_id)
    if request.method == "POST":
        terminal = service.update_terminal(requester, terminal, params)
    return terminal_json(terminal)
