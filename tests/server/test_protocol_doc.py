"""docs/authenticator-protocol.md: the worked example is true of the code.

The test reads the example's blocks (each after an ``<!-- example:NAME -->`` marker),
rebuilds every derived value with toopher_server, and verifies the signature.
"""

from __future__ import annotations

import base64
import json
import re
from pathlib import Path
from typing import Any

import pytest
from django.core.cache import cache
from django.urls import URLPattern, resolve

from toopher_server import devicesig, service
from toopher_server import urls as service_urls
from toopher_server.device_errors import DeviceApiError
from toopher_server.devices import PairingDecision
from toopher_server.devicesig import (
    HEADER,
    Decision,
    DeviceVerifier,
    MemorySeenIds,
    Replay,
    SignatureHeader,
    Stale,
    body_digest,
    jwk_thumbprint,
    load_jwk,
    public_jwk,
    signature_base,
    verify_p1363,
)
from toopher_server.params import Params
from toopher_server.testing import DeviceKey

DOC = Path(__file__).resolve().parents[2] / "docs" / "authenticator-protocol.md"
BLOCK = re.compile(r"<!-- example:([a-z-]+) -->\n```[a-z]*\n(.*?)\n```", re.S)


@pytest.fixture(scope="module")
def ex() -> dict[str, str]:
    blocks = dict(BLOCK.findall(DOC.read_text(encoding="utf-8")))
    assert set(blocks) == {
        "private-jwk",
        "public-jwk",
        "device-id",
        "method",
        "path",
        "body",
        "body-digest",
        "time",
        "nonce",
        "base-string",
        "signature",
        "request",
        "get-base-string",
    }
    return blocks


def test_the_private_key_gives_the_public_jwk_and_the_device_id(ex: dict[str, str]) -> None:
    private = json.loads(ex["private-jwk"])
    scalar = int.from_bytes(base64.urlsafe_b64decode(private["d"] + "="), "big")
    key = DeviceKey.from_private_value(scalar)
    public = json.loads(ex["public-jwk"])
    assert key.public_jwk == public == {k: private[k] for k in ("crv", "kty", "x", "y")}
    assert key.device_id == jwk_thumbprint(load_jwk(public)) == ex["device-id"]


def test_the_body_is_a_canonical_decision_with_its_digest(ex: dict[str, str]) -> None:
    body = ex["body"].encode()
    decision = Decision.from_json(body)
    assert (decision.decision, decision.code) == ("allow", "47")
    assert len(body) == 181
    assert body_digest(body) == ex["body-digest"]


def test_the_base_string_is_rebuilt_exactly(ex: dict[str, str]) -> None:
    base = signature_base(
        ex["method"],
        ex["path"],
        ex["body-digest"],
        int(ex["time"]),
        ex["nonce"],
        ex["device-id"],
    )
    assert base == ex["base-string"]
    assert base.count("\n") == 6 and not base.endswith("\n")


def test_the_signature_verifies_and_only_over_this_base_string(ex: dict[str, str]) -> None:
    key = load_jwk(ex["public-jwk"])
    signature = base64.urlsafe_b64decode(ex["signature"] + "==")
    assert len(ex["signature"]) == 86 and len(signature) == 64
    assert verify_p1363(key, signature, ex["base-string"].encode())
    assert not verify_p1363(key, signature, ex["get-base-string"].encode())


def _request(ex: dict[str, str]) -> tuple[str, str, dict[str, str], bytes]:
    head, body = ex["request"].split("\n\n", 1)
    request_line, *header_lines = head.split("\n")
    method, path, _ = request_line.split(" ")
    headers = dict(line.split(": ", 1) for line in header_lines)
    return method, path, headers, body.encode()


def test_the_request_as_sent_verifies_once_inside_the_window(ex: dict[str, str]) -> None:
    method, path, headers, body = _request(ex)
    assert (method, path, body) == (ex["method"], ex["path"], ex["body"].encode())
    assert headers["Content-Length"] == str(len(body))
    header = SignatureHeader.parse(headers[HEADER])
    assert header == SignatureHeader(
        ex["device-id"],
        int(ex["time"]),
        ex["nonce"],
        base64.urlsafe_b64decode(ex["signature"] + "=="),
    )
    assert headers[HEADER] == header.format()
    key = load_jwk(ex["public-jwk"])
    keys = {jwk_thumbprint(key): key}

    def verifier_at(now: int) -> DeviceVerifier:
        return DeviceVerifier(keys.get, MemorySeenIds(lambda: now), clock=lambda: now)

    for now in (1796585390, 1796585400, 1796585460):
        verifier = verifier_at(now)
        call = verifier.verify(method, path, body, headers[HEADER])
        assert call.device_id == ex["device-id"]
        with pytest.raises(Replay):
            verifier.verify(method, path, body, headers[HEADER])
    for now in (1796585389, 1796585461):
        with pytest.raises(Stale):
            verifier_at(now).verify(method, path, body, headers[HEADER])


def test_the_get_example_is_the_base_string_of_an_empty_body(ex: dict[str, str]) -> None:
    lines = ex["get-base-string"].split("\n")
    assert lines[3] == body_digest(b"")
    assert (
        signature_base(lines[1], lines[2], lines[3], int(lines[4]), lines[5], lines[6])
        == ex["get-base-string"]
    )


def test_the_documented_error_codes_are_the_codes_of_the_code() -> None:
    text = DOC.read_text(encoding="utf-8")
    documented = set(re.findall(r"^\| `([a-z_]+)` \| (\d{3}) \|", text, re.M))
    classes = [
        devicesig.Unsigned,
        devicesig.Malformed,
        devicesig.InvalidKey,
        devicesig.UnknownDevice,
        devicesig.BadSignature,
        devicesig.Stale,
        devicesig.Replay,
        *DeviceApiError.__subclasses__(),
    ]
    assert documented == {(c.code, str(c.http_status)) for c in classes}


def test_the_js_thumbprint_input_matches_public_jwk_order() -> None:
    key = DeviceKey.from_private_value(7)
    jwk = public_jwk(key.public_key)
    assert list(jwk) == ["crv", "kty", "x", "y"]


# --- §9: the calls, each example run against the service --------------------------------

CALL = re.compile(r"<!-- call:([a-z-]+) -->\n```http\n(.*?)\n```", re.S)
CALLS = [
    "enrol", "me", "phrase", "pairings", "pairing-decision", "otp-seed", "requests",
    "request", "decision", "claim", "push-key", "push-subscribe", "push-unsubscribe",
]  # fmt: skip
#: §9.13-§9.14 (remembered browsers, several devices), walked by their own test below.
DEVICES2_CALLS = [
    "invite", "join", "devices", "remembered", "forget", "rename-device", "remove-device",
]  # fmt: skip
EXAMPLE_PAIRING = "0f6c2d4e-8b1a-4f3e-9c7d-2a5b6e8f1c30"
EXAMPLE_QR_PAIRING = "9a7c3e52-4d1b-4e8a-b6f0-3c2d1e0f9a8b"
EXAMPLE_REQUEST = "5b3e7c1e-1d2a-4c55-9d0a-7c9f2f6a1b42"
#: Members whose documented values the walk below reproduces exactly.
SAME_VALUES = {"site", "user", "action", "terminal", "state", "label", "algorithm", "digits",
               "period"}  # fmt: skip


@pytest.fixture(scope="module")
def calls() -> dict[str, dict[str, Any]]:
    blocks = dict(CALL.findall(DOC.read_text(encoding="utf-8")))
    names = CALLS + DEVICES2_CALLS
    assert set(blocks) == {f"{name}-{part}" for name in names for part in ("request", "answer")}
    parsed: dict[str, dict[str, Any]] = {}
    for name in names:
        head, _, body = blocks[f"{name}-request"].partition("\n\n")
        method, path, _ = head.split("\n")[0].split(" ")
        status_line, _, answer = blocks[f"{name}-answer"].partition("\n\n")
        parsed[name] = {
            "method": method,
            "path": path,
            "body": body.encode(),
            "status": int(status_line.split(" ")[1]),
            "answer": json.loads(answer),
        }
    return parsed


def _shape(value: Any) -> Any:
    """The members and types of a JSON value (lists by their first item)."""
    if isinstance(value, dict):
        return {key: _shape(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_shape(value[0])] if value else []
    return type(value).__name__


def _values(value: Any) -> list[tuple[str, Any]]:
    if isinstance(value, list):
        return [pair for item in value for pair in _values(item)]
    if isinstance(value, dict):
        found = [(k, v) for k, v in value.items() if k in SAME_VALUES]
        return found + [pair for v in value.values() for pair in _values(v)]
    return []


def test_every_documented_call_is_a_device_route_and_every_route_documented(
    calls: dict[str, dict[str, Any]],
) -> None:
    documented = set()
    for call in calls.values():
        match = resolve(call["path"].split("?")[0], urlconf="toopher_server.urls")
        module = match.func.__module__  # device_views, or a feature's (phone_device_views)
        assert module.startswith("toopher_server.") and module.endswith(
            ("device_views", "push.views")
        ), module
        assert match.func.__name__ != "not_found", call["path"]
        documented.add(match.route)
    routes = {str(p.pattern) for p in service_urls.app_api if isinstance(p, URLPattern)}
    assert routes - documented == {r"^(?P<rest>app/api(?:/.*)?)$"}


def test_the_documented_bodies_are_what_the_service_parses(
    calls: dict[str, dict[str, Any]], ex: dict[str, str]
) -> None:
    enrolment = json.loads(calls["enrol"]["body"])
    assert enrolment["jwk"] == json.loads(ex["public-jwk"])
    assert calls["enrol"]["answer"]["device_id"] == ex["device-id"]
    PairingDecision.from_json(calls["pairing-decision"]["body"])
    decision = Decision.from_json(calls["decision"]["body"])
    assert decision.request_id == EXAMPLE_REQUEST and decision.code == "47"


@pytest.mark.django_db
@pytest.mark.urls("tests.server.urls")
def test_the_documented_calls_answer_as_documented(calls: dict[str, dict[str, Any]]) -> None:
    """Walk §9 in order with a real device: each status, shape and shown value as documented."""
    from .device_client import DeviceClient, authentication, new_requester

    cache.clear()
    phone = DeviceClient(label="Alice's phone")
    requester = new_requester("Example Shop")
    pairing: Any = None
    auth: Any = None
    for name in CALLS:
        call = calls[name]
        path = call["path"]
        body = call["body"]
        if name == "enrol":
            body = json.dumps({"jwk": phone.device.key.public_jwk, "label": "Alice's phone"})
            body = body.encode()
        if pairing is not None:
            path = path.replace(EXAMPLE_PAIRING, str(pairing.id))
            body = body.replace(EXAMPLE_PAIRING.encode(), str(pairing.id).encode())
        if auth is not None:
            path = path.replace(EXAMPLE_REQUEST, str(auth.id))
            body = phone.decision_body(auth) if name == "decision" else body
        if name == "claim":  # the site shows a QR code, which the app scans
            qr = service.pair_qr(requester, Params([("user_name", "alice@example.com")]))
            path = path.replace(EXAMPLE_QR_PAIRING, str(qr.id))
        response = phone.call(call["method"], path, body)
        assert response.status_code == call["status"], (name, response.content)
        answer = response.json()
        assert _shape(answer) == _shape(call["answer"]), name
        assert _values(answer) == _values(call["answer"]), name
        if name == "phrase":
            phrase = answer["pairing_phrase"]
            pairing = service.pair_user_with_phrase(requester, "alice@example.com", phrase)
        if name == "otp-seed":
            auth = authentication(requester, pairing, "Firefox on Linux")


@pytest.mark.django_db
@pytest.mark.urls("tests.server.urls")
def test_the_documented_device_calls_answer_as_documented(
    calls: dict[str, dict[str, Any]],
) -> None:
    """Walk §9.13-§9.14 with two real devices: each status, shape and shown value."""
    from .device_client import DeviceClient, authentication, new_requester, paired

    cache.clear()
    phone, tablet = DeviceClient(label="Alice's phone"), DeviceClient(label="Alice's tablet")
    assert phone.enrol().status_code == 201
    pairing = paired(new_requester("Example Shop"), phone)
    auth = authentication(pairing.requester, pairing, "Firefox on Linux")
    assert phone.decide(auth, "allow_always").status_code == 200
    assert tablet.enrol().status_code == 201
    by = {"join": tablet}
    found: dict[str, str] = {}
    for name in DEVICES2_CALLS:
        call = calls[name]
        path, body = call["path"], call["body"]
        for example, value in found.items():
            path = path.replace(example, value)
            body = body.replace(example.encode(), value.encode())
        response = by.get(name, phone).call(call["method"], path, body)
        assert response.status_code == call["status"], (name, response.content)
        answer = response.json()
        assert _shape(answer) == _shape(call["answer"]), name
        assert _values(answer) == _values(call["answer"]), name
        shown = answer.get("devices", [])
        assert [d["current"] for d in shown] == [
            d["current"] for d in call["answer"].get("devices", [])
        ], name
        if name == "invite":
            found[call["answer"]["code"]] = answer["code"]
        if name == "join":
            found["q0bN2vJm4Xc7Yw9Rz1Kt5Lp8Hs3Gd6Fa0Ue2Ii4Oo7Q"] = tablet.device.device_id
        if name == "remembered":
            rule_id = answer["remembered_browsers"][0]["id"]
            found["/remembered_browsers/12"] = f"/remembered_browsers/{rule_id}"
