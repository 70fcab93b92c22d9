"""Faults injected into API v1 responses: latency, an error status, a body that is not JSON."""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import wraps

from django.http import HttpRequest, HttpResponse
from django.views.decorators.csrf import csrf_exempt

from toopher_server.api_views import not_cached
from toopher_server.errors import unexpected_error
from toopher_server.middleware import KEEP_AS_IS_HEADER
from toopher_server.oauth import consumer_key_of

from .models import Fault
from .speedups import memo, serial

MAX_LATENCY_MS = 60_000
MALFORMED_BODY = b'<html><body>502 Bad Gateway</body></html>{"error_code": '
#: Header that marks an injected malformed answer (the JSON-errors middleware keeps it).
INJECTED_HEADER = KEEP_AS_IS_HEADER


@dataclass(frozen=True)
class ActiveFault:
    """A fault that fired for one response."""

    latency_ms: int
    status: int | None
    malformed: bool


def injecting(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """The API view ``view`` behind the fault set for the caller's consumer key, if any:
    its latency first, then its error status instead of the view, or the view's answer
    made unreadable."""

    @csrf_exempt
    @wraps(view)
    def wrapper(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        try:
            fault = fault_for(consumer_key_of(request)) if configured() else None
        except Exception:  # noqa: BLE001 - a bug: answered as JSON, logged
            return unexpected_error(request.path_info)
        if fault is None:
            return view(request, *args, **kwargs)
        delay(fault)
        injected = status_response(fault)
        if injected is not None:
            return not_cached(injected)
        response = view(request, *args, **kwargs)
        return corrupt(response) if fault.malformed else response

    return wrapper


def configured() -> bool:
    """True when any fault is set (for anyone): only then is a call's key looked at."""
    return memo.remembered("faults-any", "", Fault.objects.exists)


def fault_for(key: str) -> ActiveFault | None:
    """The fault for this consumer key (its own, else the global one) if it fires now."""
    faults = memo.remembered(
        "faults", key, lambda: {f.key: f for f in Fault.objects.filter(key__in={key, ""})}
    )
    fault = faults.get(key) or faults.get("")
    if fault is None:
        return None
    if fault.rate < 1.0 and random.random() >= fault.rate:  # noqa: S311 (simulation)
        return None
    return ActiveFault(fault.latency_ms, fault.status, fault.malformed)


def delay(fault: ActiveFault) -> None:
    """Wait the fault's latency (letting other requests run meanwhile)."""
    if fault.latency_ms:
        with serial.released():
            time.sleep(min(fault.latency_ms, MAX_LATENCY_MS) / 1000.0)


def status_response(fault: ActiveFault) -> HttpResponse | None:
    """The injected error response, if the fault has a status."""
    if fault.status is None:
        return None
    if fault.malformed:
        return _malformed(fault.status)
    return HttpResponse(
        b'{"error_code": %d, "error_message": "Injected fault"}' % fault.status,
        status=fault.status,
        content_type="application/json",
    )


def corrupt(response: HttpResponse) -> HttpResponse:
    """Replace a response body with one that is not JSON (same status)."""
    return _malformed(response.status_code)


def _malformed(status: int) -> HttpResponse:
    response = HttpResponse(MALFORMED_BODY, status=status, content_type="text/html")
    response[INJECTED_HEADER] = "malformed"
    return response
