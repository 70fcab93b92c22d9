"""Faults injected into API v1 responses: latency, an error status, a body that is not JSON."""

from __future__ import annotations

import random
import time
from dataclasses import dataclass

from django.http import HttpResponse

from . import memo, serial
from .models import Fault

MAX_LATENCY_MS = 60_000
MALFORMED_BODY = b'<html><body>502 Bad Gateway</body></html>{"error_code": '
#: Header that marks an injected malformed answer (the JSON-errors middleware keeps it).
INJECTED_HEADER = "X-Sandbox-Fault"


@dataclass(frozen=True)
class ActiveFault:
    """A fault that fired for one response."""

    latency_ms: int
    status: int | None
    malformed: bool


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
