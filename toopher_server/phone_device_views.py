"""The device API's calls for several devices and remembered browsers (protocol §9.13-§9.14).

Thin views behind ``device_views.signed`` (verification, JSON errors, never cached) over
``phone_devices`` and ``remembered``: each reaches only the phone of the device that
signed the call; anything else is ``not_found``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils import timezone

from . import phone_devices, remembered
from .client_address import client_address
from .device_json import device_json
from .device_views import no_body, no_query, signed
from .devices import _json_object
from .devicesig import Malformed
from .models import AutomationRule, Device


def _unix(value: datetime | None) -> int | None:
    return None if value is None else int(value.timestamp())


def listed_device_json(device: Device, caller: Device) -> dict[str, Any]:
    """A device of the phone as the list shows it: ``current`` is the caller."""
    return {
        **device_json(device),
        "last_seen": _unix(device.last_seen),
        "current": device.id == caller.id,
    }


def remembered_json(rule: AutomationRule) -> dict[str, Any]:
    """A remembered browser: which site, account, browser and action, until when."""
    return {
        "id": str(rule.pk),
        "pairing_id": str(rule.pairing_id),
        "site": rule.pairing.requester.name,
        "user": rule.pairing.user.name,
        "terminal": rule.terminal.name,
        "action": rule.action.name,
        "created": _unix(rule.created),
        "expires": _unix(rule.expires),
    }


def _devices(device: Device) -> dict[str, Any]:
    phone_id = device.phone_id
    return {
        "devices": [listed_device_json(d, device) for d in phone_devices.devices_of(phone_id)]
    }


def _remembered(device: Device) -> dict[str, Any]:
    rules = remembered.on_phone(device.phone, timezone.now())
    return {"remembered_browsers": [remembered_json(rule) for rule in rules]}


@signed("GET")
def device_list(request: HttpRequest, device: Device, body: bytes) -> dict[str, Any]:
    """GET (on the enrolment's path, ``devices``): the devices of this device's phone."""
    no_query(request)
    return _devices(device)


@signed("POST")
def invitation(request: HttpRequest, device: Device, body: bytes) -> HttpResponse:
    """POST: a one-time code with which another device joins this phone (201)."""
    no_query(request)
    no_body(body)
    made = phone_devices.invite(device)
    return JsonResponse({"code": made.code, "expires_in": made.expires_in}, status=201)


@signed("POST")
def join(request: HttpRequest, device: Device, body: bytes) -> dict[str, Any]:
    """POST ``{"code": ...}``: this fresh device joins the inviter's phone."""
    no_query(request)
    value = _json_object(body, "the join body")
    if set(value) != {"code"}:
        raise Malformed('the body must be {"code": "<invitation code>"}')
    joined = phone_devices.join(device, value["code"], client_address(request))
    return _devices(joined)


@signed("DELETE", "PATCH")
def device_detail(
    request: HttpRequest, device: Device, body: bytes, device_id: str
) -> dict[str, Any]:
    """DELETE: remove a device of this phone (this one too); PATCH ``{"label": ...}``:
    rename one. Either way, the phone's devices."""
    no_query(request)
    target = phone_devices.device_on(device, device_id)
    if request.method == "PATCH":
        value = _json_object(body, "the rename body")
        if set(value) != {"label"}:
            raise Malformed('the body must be {"label": "<name>"}')
        phone_devices.rename(target, value["label"], by=f"device:{device.id}")
    else:
        phone_devices.remove(target, by=f"device:{device.id}")
    return _devices(device)


@signed("GET")
def remembered_list(request: HttpRequest, device: Device, body: bytes) -> dict[str, Any]:
    """GET: the browsers remembered for this phone's pairings, newest first."""
    no_query(request)
    return _remembered(device)


@signed("DELETE")
def remembered_detail(
    request: HttpRequest, device: Device, body: bytes, rule_id: str
) -> dict[str, Any]:
    """DELETE: forget a remembered browser of this phone; those left."""
    no_query(request)
    remembered.forget(device.phone, rule_id, by=f"device:{device.id}")
    return _remembered(device)
