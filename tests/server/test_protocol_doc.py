"""docs/authenticator-protocol.md: the worked example is true of the code.

The test reads the example's blocks (each after an ``<!-- example:NAME -->`` marker),
rebuilds every derived value with toopher_server, and verifies the signature.
"""

from __future__ import annotations

import base64
import json
import re
from pathlib import Path

import pytest

from toopher_server import devicesig
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
    ]
    assert documented == {(c.code, str(c.http_status)) for c in classes}


def test_the_js_thumbprint_input_matches_public_jwk_order() -> None:
    key = DeviceKey.from_private_value(7)
    jwk = public_jwk(key.public_key)
    assert list(jwk) == ["crv", "kty", "x", "y"]
