"""``app/api/v1/push`` (protocol §9.12): the device's push subscription, signed like
every device call.

``GET`` the VAPID public key and whether this device is subscribed; ``PUT`` store the
browser's ``PushSubscription.toJSON()``; ``DELETE`` drop it.
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from ..device_views import no_body, no_query, signed
from ..models import Device
from . import subscriptions, vapid


@signed("GET", "PUT", "DELETE")
def push(request: HttpRequest, device: Device, body: bytes) -> dict[str, Any]:
    """GET, PUT or DELETE this device's push subscription."""
    no_query(request)
    if request.method == "PUT":
        subscriptions.subscribe(device, subscriptions.Subscription.from_json(body))
        return {"subscribed": True}
    no_body(body)
    if request.method == "DELETE":
        subscriptions.unsubscribe(device)
        return {"subscribed": False}
    return {
        "vapid_public_key": vapid.public_key(),
        "subscribed": subscriptions.is_subscribed(device),
    }
