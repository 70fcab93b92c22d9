"""A phone for tests: a device that enrols and answers over HTTP like the authenticator.

No Django import: it talks to a running ``toopher_server`` (any process, any host) with
``requests``, every call signed by :class:`~toopher_server.testing.device.DeviceAuth`::

    phone = TestPhone("http://127.0.0.1:8765")      # the service's mount point
    phone.enrol()
    pairing = api.pair(phone.new_phrase(), "ann")   # the site pairs (toopher.ToopherApi)
    phone.allow_pairing(pairing.id)
    request = api.authenticate(pairing.id, "Firefox")
    phone.allow(request.id)                          # or deny(), not_me()
    api.authenticate_with_otp(other.id, phone.otp(pairing.id))

The calls are those of docs/authenticator-protocol.md §9; a refused one raises
:class:`DeviceCallError` with the service's error code.
"""

from __future__ import annotations

import json
import time
from typing import Any

import requests

from toopher_server import totp
from toopher_server.testing.device import SignedDevice

__all__ = ["API_PREFIX", "DeviceCallError", "TestPhone"]

#: Where the device API lives under the service's mount point.
API_PREFIX = "/app/api/v1"


class DeviceCallError(Exception):
    """A device call the service refused: ``status``, ``code`` (``"replay"``, ...), ``body``."""

    def __init__(self, status: int, code: str, body: Any) -> None:
        super().__init__(f"{status} {code}: {body!r}")
        self.status = status
        self.code = code
        self.body = body


class TestPhone:
    """An enrolled authenticator, played in Python (one key, one service)."""

    __test__ = False  # not a pytest test class, despite its name

    def __init__(
        self,
        base_url: str,
        device: SignedDevice | None = None,
        *,
        label: str = "Test phone",
        timeout: float = 10.0,
    ) -> None:
        """``base_url`` is the service's mount point (``http://host:port`` or with a prefix)."""
        self.base_url = base_url.rstrip("/")
        self.device = device or SignedDevice()
        self.label = label
        self.timeout = timeout
        self.session = requests.Session()
        self.session.auth = self.device.auth()

    @property
    def device_id(self) -> str:
        """The device id (the thumbprint of its key)."""
        return self.device.device_id

    # --- the calls ------------------------------------------------------------------------

    def call(self, method: str, path: str, body: Any = None) -> Any:
        """One signed call to ``API_PREFIX + path``; the JSON answer, or
        :class:`DeviceCallError`. ``body``: bytes as they are, anything else as JSON."""
        if body is not None and not isinstance(body, bytes):
            body = json.dumps(body).encode("utf-8")
        headers = {"Content-Type": "application/json"} if body is not None else {}
        response = self.session.request(
            method,
            f"{self.base_url}{API_PREFIX}{path}",
            data=body,
            headers=headers,
            timeout=self.timeout,
        )
        try:
            answer = response.json()
        except ValueError:
            answer = response.text
        if response.status_code >= 400:
            code = answer.get("error", "") if isinstance(answer, dict) else ""
            raise DeviceCallError(response.status_code, str(code), answer)
        return answer

    def enrol(self) -> dict[str, Any]:
        """Register this device's public key (signed with it)."""
        return dict(
            self.call("POST", "/devices", {"jwk": self.device.key.public_jwk, "label": self.label})
        )

    enroll = enrol

    def me(self) -> dict[str, Any]:
        """The service's record of this device."""
        return dict(self.call("GET", "/devices/me"))

    def new_phrase(self) -> str:
        """A new pairing phrase, for the user to type into a site."""
        return str(self.call("POST", "/pairing_phrases")["pairing_phrase"])

    def pairings(self, state: str = "pending") -> list[dict[str, Any]]:
        """The pairings on this device, ``pending`` (to answer) or ``enabled``."""
        return list(self.call("GET", f"/pairings?state={state}")["pairings"])

    def pending_requests(self) -> list[dict[str, Any]]:
        """The pending authentication requests on this device, newest first."""
        return list(
            self.call("GET", "/authentication_requests?state=pending")["authentication_requests"]
        )

    def request(self, request_id: str) -> dict[str, Any]:
        """One authentication request on this device, in any state."""
        return dict(self.call("GET", f"/authentication_requests/{request_id}"))

    def answer_pairing(self, pairing_id: str, allow: bool = True) -> dict[str, Any]:
        """Allow or deny a pending pairing, repeating the site and account shown."""
        shown = self._pending_pairing(pairing_id)
        body = {
            "decision": "allow" if allow else "deny",
            "pairing_id": shown["id"],
            "site": shown["site"],
            "user": shown["user"],
        }
        canonical = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
        return dict(self.call("POST", f"/pairings/{pairing_id}/decision", canonical.encode()))

    def allow_pairing(self, pairing_id: str) -> dict[str, Any]:
        return self.answer_pairing(pairing_id, True)

    def deny_pairing(self, pairing_id: str) -> dict[str, Any]:
        return self.answer_pairing(pairing_id, False)

    def answer(
        self, request_id: str, decision: str = "allow", code: str | None = None
    ) -> dict[str, Any]:
        """Answer a request as shown: ``allow``, ``deny`` or ``not_me``."""
        shown = self.request(request_id)
        body = self.device.decision(
            shown["id"],
            decision,
            site=shown["site"],
            user=shown["user"],
            action=shown["action"],
            terminal=shown["terminal"],
            code=code,
        )
        return dict(self.call("POST", f"/authentication_requests/{request_id}/decision", body))

    def allow(self, request_id: str) -> dict[str, Any]:
        return self.answer(request_id, "allow")

    def deny(self, request_id: str) -> dict[str, Any]:
        return self.answer(request_id, "deny")

    def not_me(self, request_id: str) -> dict[str, Any]:
        return self.answer(request_id, "not_me")

    def otp_seed(self, pairing_id: str) -> dict[str, Any]:
        """The TOTP seed of an enabled pairing on this device."""
        return dict(self.call("GET", f"/pairings/{pairing_id}/otp_seed"))

    def otp(self, pairing_id: str, at: float | None = None) -> str:
        """The pairing's one-time password now (what the app shows offline)."""
        return totp.totp(self.otp_seed(pairing_id)["secret"], at)

    def claim_qr(self, pairing_id: str) -> dict[str, Any]:
        """Claim the QR pairing whose code was scanned (§9.11); then allow or deny it."""
        return dict(self.call("POST", f"/pairings/{pairing_id}/claim"))

    # --- waiting --------------------------------------------------------------------------

    def wait_for_request(
        self, request_id: str | None = None, timeout: float = 5.0
    ) -> dict[str, Any]:
        """The newest pending request (or the one with ``request_id``) once it shows."""
        deadline = time.monotonic() + timeout
        while True:
            for shown in self.pending_requests():
                if request_id is None or shown["id"] == request_id:
                    return shown
            if time.monotonic() > deadline:
                raise TimeoutError(f"no pending request {request_id or ''} on {self.device_id}")
            time.sleep(0.05)

    def _pending_pairing(self, pairing_id: str) -> dict[str, Any]:
        for shown in self.pairings("pending"):
            if shown["id"] == pairing_id:
                return shown
        # Not pending here: answer anyway, so the service says why (not_found, not_pending).
        return {"id": pairing_id, "site": "", "user": ""}

    def close(self) -> None:
        """Close the HTTP session."""
        self.session.close()

    def __repr__(self) -> str:
        return f"<TestPhone {self.device_id} at {self.base_url}>"

    # --- several devices and remembered browsers (protocol §9.13, §9.14) -------------------

    def allow_always(self, request_id: str) -> dict[str, Any]:
        """Allow, and remember this browser for this action (§9.13)."""
        return self.answer(request_id, "allow_always")

    def remembered(self) -> list[dict[str, Any]]:
        """The browsers remembered for this phone's pairings, newest first."""
        return list(self.call("GET", "/remembered_browsers")["remembered_browsers"])

    def forget(self, remembered_id: str) -> list[dict[str, Any]]:
        """Forget a remembered browser; those left."""
        answer = self.call("DELETE", f"/remembered_browsers/{remembered_id}")
        return list(answer["remembered_browsers"])

    def invite(self) -> str:
        """A one-time code with which another device joins this phone."""
        return str(self.call("POST", "/devices/me/invitations")["code"])

    def join(self, code: str) -> list[dict[str, Any]]:
        """Join the phone whose invitation ``code`` is (this device enrolled, fresh)."""
        return list(self.call("POST", "/devices/join", {"code": code})["devices"])

    def devices(self) -> list[dict[str, Any]]:
        """The devices of this phone, oldest first (``current``: this one)."""
        return list(self.call("GET", "/devices")["devices"])

    def remove_device(self, device_id: str | None = None) -> list[dict[str, Any]]:
        """Remove a device of this phone (by default this one); the devices left."""
        return list(self.call("DELETE", f"/devices/{device_id or self.device_id}")["devices"])
