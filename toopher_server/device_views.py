"""The device API (``app/api/v1/``): thin views over ``devices``, every call signed.

Each view runs only for a call that ``devices.verifier()`` verified (the enrolment: with
the key it carries), and answers JSON: the result, or ``{"error", "message",
"server_time"}`` with the error's status (``devicesig`` and ``device_errors`` codes).
A bug is logged and answered as JSON too. No answer may be cached.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from functools import wraps
from typing import Any

from django.core.exceptions import RequestDataTooBig, SuspiciousOperation
from django.db import DatabaseError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.http.request import RawPostDataException
from django.views.decorators.csrf import csrf_exempt

from . import devices, phones
from .api_views import not_cached
from .client_address import client_address
from .device_errors import MethodNotAllowed, NotFound, ServerError, TooLarge, Unavailable
from .device_json import (
    device_json,
    otp_seed_json,
    pairing_json,
    phrase_json,
    request_json,
)
from .devicesig import HEADER, DeviceSignatureError, Malformed, SignatureHeader
from .models import Device, Pairing

log = logging.getLogger(__name__)

#: The largest body the device API reads (an enrolment or a decision is far smaller).
MAX_BODY = 16 * 1024
DEFAULT_LIMIT = 20
MAX_LIMIT = 100

DeviceView = Callable[..., Any]


def error_json(error: DeviceSignatureError) -> JsonResponse:
    """The answer to a refused call."""
    return JsonResponse(error.as_json(int(time.time())), status=error.http_status)


def _guarded(
    request: HttpRequest, methods: tuple[str, ...], run: Callable[[], Any]
) -> HttpResponse:
    if request.method not in methods:
        response = error_json(MethodNotAllowed(f"use {' or '.join(methods)}"))
        response["Allow"] = ", ".join(methods)
        return not_cached(response)
    try:
        result = run()
    except DeviceSignatureError as error:
        return not_cached(error_json(error))
    except SuspiciousOperation:  # too many query fields, an unreadable body, ...
        return not_cached(error_json(Malformed("the request is malformed")))
    except DatabaseError as error:  # the database is away: a 503 to retry, not a bug
        log.warning("database unavailable in %s: %s", request.path_info, error)
        return not_cached(error_json(Unavailable("the service's database is not answering "
                                                 "now; retry shortly with a new nonce")))
    except Exception:  # noqa: BLE001 - a bug: logged, answered as JSON
        log.exception("unexpected error in %s", request.path_info)
        return not_cached(error_json(ServerError("the service failed to handle this call")))
    if not isinstance(result, HttpResponse):
        result = JsonResponse(result, safe=False)
    return not_cached(result)


def _body(request: HttpRequest) -> bytes:
    declared = request.META.get("CONTENT_LENGTH") or "0"
    if not declared.isdigit():
        raise Malformed("Content-Length must be a number")
    if int(declared) > MAX_BODY:
        raise TooLarge(f"the body must be at most {MAX_BODY} bytes")
    try:
        body = request.body
    except (RequestDataTooBig, RawPostDataException):
        raise TooLarge(f"the body must be at most {MAX_BODY} bytes") from None
    if len(body) > MAX_BODY:
        raise TooLarge(f"the body must be at most {MAX_BODY} bytes")
    return body


def _signed(request: HttpRequest) -> tuple[Device, bytes]:
    """Verify the call; the device that signed it and the body."""
    body = _body(request)
    device = devices.verify_call(
        request.method or "", request.get_full_path(), body, request.headers.get(HEADER)
    )
    return device, body


def signed(*methods: str) -> Callable[[DeviceView], Callable[..., HttpResponse]]:
    """Run ``view(request, device, body, *args)`` for a verified call of an enrolled device."""

    def decorator(view: DeviceView) -> Callable[..., HttpResponse]:
        @csrf_exempt
        @wraps(view)
        def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            def run() -> Any:
                device, body = _signed(request)
                return view(request, device, body, *args, **kwargs)

            return _guarded(request, methods, run)

        return wrapper

    return decorator


def _query(request: HttpRequest, states: tuple[str, ...]) -> tuple[str, int]:
    """``state`` (the first of ``states`` by default) and ``limit`` (1-100, default 20);
    any other parameter is refused."""
    params = request.GET
    unknown = sorted(set(params) - {"state", "limit"})
    if unknown or any(len(params.getlist(name)) > 1 for name in params):
        raise Malformed("the only query parameters are state and limit, each once")
    state = params.get("state", states[0])
    if state not in states:
        raise Malformed(f"state must be {' or '.join(states)}")
    limit_text = params.get("limit", str(DEFAULT_LIMIT))
    if not limit_text.isdigit() or not 1 <= int(limit_text) <= MAX_LIMIT:
        raise Malformed(f"limit must be a number from 1 to {MAX_LIMIT}")
    return state, int(limit_text)


def no_query(request: HttpRequest) -> None:
    """Refuse (``malformed``) a call with query parameters, for the calls that take none."""
    if request.GET:
        raise Malformed("this call takes no query parameters")


def no_body(body: bytes) -> None:
    """Refuse (``malformed``) a call with a body, for the calls that take none."""
    if body:
        raise Malformed("this call takes no body")


# --- the views ------------------------------------------------------------------------


@csrf_exempt
def enrol(request: HttpRequest) -> HttpResponse:
    """POST: enrol the key the body carries, signed with that key (201, or 200 again).

    GET on the same path lists the phone's devices (``phone_device_views``)."""
    if request.method == "GET":
        from .phone_device_views import device_list

        return device_list(request)

    def run() -> HttpResponse:
        address = client_address(request)
        devices.check_enrol_rate(address)
        body = _body(request)
        header = request.headers.get(HEADER)
        SignatureHeader.parse(header)  # unsigned or malformed before the body is read
        no_query(request)
        enrolment = devices.Enrolment.from_json(body)
        devices.verifier().verify(
            request.method or "", request.get_full_path(), body, header, key=enrolment.key
        )
        device, created = devices.enrol(enrolment, address)
        return JsonResponse(device_json(device), status=201 if created else 200)

    return _guarded(request, ("POST",), run)


@signed("GET")
def this_device(request: HttpRequest, device: Device, body: bytes) -> dict[str, Any]:
    """GET: the device that signed the call (an app checks it is still enrolled)."""
    no_query(request)
    return device_json(device)


@signed("POST")
def new_phrase(request: HttpRequest, device: Device, body: bytes) -> HttpResponse:
    """POST: a new pairing phrase for the user to type into a site (201)."""
    no_query(request)
    no_body(body)
    return JsonResponse(phrase_json(phones.new_phrase(device.phone)), status=201)


@signed("GET")
def pairing_list(request: HttpRequest, device: Device, body: bytes) -> dict[str, Any]:
    """GET: the device's pairings, pending (to answer) or enabled, newest first."""
    state, limit = _query(request, (Pairing.PENDING, Pairing.ENABLED))
    return {"pairings": [pairing_json(p) for p in devices.pairings(device, state, limit)]}


@signed("POST")
def pairing_decision(
    request: HttpRequest, device: Device, body: bytes, pairing_id: str
) -> dict[str, Any]:
    """POST: allow or deny a pending pairing on this device."""
    no_query(request)
    return pairing_json(devices.answer_pairing(device, pairing_id, body))


@signed("GET")
def pairing_otp_seed(
    request: HttpRequest, device: Device, body: bytes, pairing_id: str
) -> dict[str, Any]:
    """GET: the TOTP seed of an enabled pairing on this device (offline codes)."""
    no_query(request)
    return otp_seed_json(devices.active_pairing(device, pairing_id))


@signed("GET")
def request_list(request: HttpRequest, device: Device, body: bytes) -> dict[str, Any]:
    """GET: the pending authentication requests on this device, newest first."""
    _, limit = _query(request, ("pending",))
    return {
        "authentication_requests": [
            request_json(a) for a in devices.pending_requests(device, limit)
        ]
    }


@signed("GET")
def request_detail(
    request: HttpRequest, device: Device, body: bytes, request_id: str
) -> dict[str, Any]:
    """GET: one authentication request on this device, in any state."""
    no_query(request)
    return request_json(devices.request_on(device, request_id))


@signed("POST")
def request_decision(
    request: HttpRequest, device: Device, body: bytes, request_id: str
) -> dict[str, Any]:
    """POST: allow, deny or "this wasn't me" with the canonical decision body."""
    no_query(request)
    return request_json(devices.answer_request(device, request_id, body))


@signed("POST")
def pairing_claim(
    request: HttpRequest, device: Device, body: bytes, pairing_id: str
) -> dict[str, Any]:
    """POST, no body: claim a QR pairing the app scanned; the user then answers it."""
    no_query(request)
    no_body(body)
    return pairing_json(devices.claim_qr_pairing(device, pairing_id))


@csrf_exempt
def not_found(request: HttpRequest, rest: str = "") -> HttpResponse:
    """Any other path under ``app/api``: a JSON 404 in the device API's form."""
    return not_cached(error_json(NotFound("no such endpoint")))
