"""A signed device on Django's test client, and the rows a test pairs it with.

The compatibility suite plays the phone over HTTP with ``toopher_server.testing.TestPhone``;
these unit tests call the views in process, so that they can look at the rows.
"""

from __future__ import annotations

import json
from typing import Any

from django.test import Client

from toopher_server import phones, requesters, service
from toopher_server.models import AuthenticationRequest, Pairing, Requester, Terminal
from toopher_server.testing import SignedDevice

API = "/app/api/v1"
#: The decisions that allow (and so pick the number, with number matching).
ALLOWS = ("allow", "allow_always")


class DeviceClient:
    """One device calling the device API through Django's test client."""

    def __init__(self, device: SignedDevice | None = None, label: str = "Test phone") -> None:
        self.device = device or SignedDevice()
        self.label = label
        self.client = Client(REMOTE_ADDR="127.0.0.1")

    def call(
        self,
        method: str,
        path: str,
        body: bytes = b"",
        *,
        sign: bool = True,
        headers: dict[str, str] | None = None,
    ) -> Any:
        """Send one call, signed by this device unless ``sign`` is false."""
        signed = self.device.headers_for(method, path, body) if sign else {}
        return self.client.generic(
            method,
            path,
            body,
            content_type="application/json",
            headers={**signed, **(headers or {})},
        )

    def enrol(self) -> Any:
        body = json.dumps({"jwk": self.device.key.public_jwk, "label": self.label}).encode()
        return self.call("POST", f"{API}/devices", body)

    def phrase(self) -> str:
        response = self.call("POST", f"{API}/pairing_phrases")
        assert response.status_code == 201, response.content
        return str(response.json()["pairing_phrase"])

    def decision_body(
        self, auth: AuthenticationRequest, decision: str = "allow", **change: Any
    ) -> bytes:
        shown = {
            "site": auth.requester.name,
            "user": auth.user.name,
            "action": auth.action.name,
            "terminal": auth.terminal.name,
            # Number matching: allow picks the right number unless the test says otherwise.
            "code": (auth.verification_code or None) if decision in ALLOWS else None,
        }
        shown.update(change)
        return self.device.decision(str(auth.id), decision, **shown)

    def decide(self, auth: AuthenticationRequest, decision: str = "allow", **change: Any) -> Any:
        body = self.decision_body(auth, decision, **change)
        return self.call("POST", f"{API}/authentication_requests/{auth.id}/decision", body)

    def answer_pairing(self, pairing: Pairing, decision: str = "allow") -> Any:
        body = json.dumps(
            {
                "decision": decision,
                "pairing_id": str(pairing.id),
                "site": pairing.requester.name,
                "user": pairing.user.name,
            },
            sort_keys=True,
            separators=(",", ":"),
        ).encode()
        return self.call("POST", f"{API}/pairings/{pairing.id}/decision", body)


def new_requester(name: str = "Example Shop") -> Requester:
    return requesters.create_requester(name)


def paired(requester: Requester, phone: DeviceClient, user: str = "alice@example.com") -> Pairing:
    """Pair ``user`` with the enrolled ``phone`` by its phrase and allow it there."""
    pairing = service.pair_user_with_phrase(requester, user, phone.phrase())
    response = phone.answer_pairing(pairing)
    assert response.status_code == 200, response.content
    pairing.refresh_from_db()
    return pairing


def authentication(
    requester: Requester, pairing: Pairing, terminal: str = "Firefox on Linux"
) -> AuthenticationRequest:
    """A pending request of ``pairing`` from a terminal named ``terminal``."""
    term = Terminal.objects.create(user=pairing.user, name=terminal)
    auth = service.start_authentication(requester, pairing, term, "Log in")
    return AuthenticationRequest.objects.select_related(
        "requester", "user", "action", "terminal", "pairing"
    ).get(pk=auth.pk)


def simulated_phone_pairing(requester: Requester, user: str = "bob@example.com") -> Pairing:
    """A pairing on an unkeyed (sandbox-style) phone, allowed by the phone rules."""
    phone = phones.create_phone("Simulator")
    pairing = service.pair_user_with_phrase(requester, user, phones.new_phrase(phone).phrase)
    return phones.respond_pairing(str(pairing.id), True)


def enrolled() -> DeviceClient:
    """A device, enrolled."""
    client = DeviceClient()
    assert client.enrol().status_code == 201
    return client


def row(auth: AuthenticationRequest) -> tuple[Any, ...]:
    """What a refused call must leave unchanged: the request's outcome and its time."""
    fresh = AuthenticationRequest.objects.get(pk=auth.pk)
    return (fresh.pending, fresh.granted, fresh.reason, fresh.cancelled, fresh.modified)
