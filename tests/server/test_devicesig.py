"""toopher_server.devicesig: every way a device call can be refused, and the ways it passes."""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Callable

import pytest
import requests
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from hypothesis import given, settings
from hypothesis import strategies as st

from toopher_server import devicesig
from toopher_server.devicesig import (
    HEADER,
    BadSignature,
    Decision,
    DeviceSignatureError,
    DeviceVerifier,
    InvalidKey,
    Malformed,
    MemorySeenIds,
    Replay,
    SignatureHeader,
    Stale,
    UnknownDevice,
    Unsigned,
    jwk_thumbprint,
    load_jwk,
    load_spki,
    public_jwk,
    verify_p1363,
)
from toopher_server.testing import DeviceKey, SignedDevice

NOW = 1_800_000_000
PATH = "/app/api/v1/requests/ar_1/decision?x=1"
BODY = b'{"a":1}'


class Phone:
    """A device and a verifier that knows it (and a second enrolled device)."""

    def __init__(self, now: float = NOW, **window: int) -> None:
        self.now = now
        self.device = SignedDevice(DeviceKey.generate(), clock=lambda: self.now)
        self.other = SignedDevice(DeviceKey.generate(), clock=lambda: self.now)
        self.keys = {d.device_id: d.key.public_key for d in (self.device, self.other)}
        self.seen = MemorySeenIds(clock=lambda: self.now)
        self.verifier = DeviceVerifier(self.keys.get, self.seen, clock=lambda: self.now, **window)

    def header(self, method: str = "POST", path: str = PATH, body: bytes = BODY) -> str:
        return self.device.headers_for(method, path, body)[HEADER]

    def verify(
        self, header: str | None, method: str = "POST", path: str = PATH, body: bytes = BODY
    ) -> devicesig.VerifiedCall:
        return self.verifier.verify(method, path, body, header)


def _params(header: str) -> dict[str, str]:
    return dict(item.strip().split("=", 1) for item in header.split(","))


def _with(header: str, **changes: str) -> str:
    params = {**_params(header), **changes}
    return ", ".join(f"{k}={v}" for k, v in params.items())


def _refused(phone: Phone, error: type[DeviceSignatureError], header: str | None, **call) -> None:
    before = dict(phone.seen._seen)
    with pytest.raises(error):
        phone.verify(header, **call)
    assert phone.seen._seen == before, "a refused call recorded its one-time id"


# --- passing ----------------------------------------------------------------------------


def test_a_signed_call_verifies_and_names_its_device() -> None:
    phone = Phone()
    header = phone.header()
    call = phone.verify(header)
    assert call.device_id == phone.device.device_id
    assert call.timestamp == NOW and call.nonce == _params(header)["nonce"]
    assert len(phone.seen) == 1


@settings(max_examples=40, deadline=None)
@given(
    method=st.sampled_from(["GET", "POST", "PUT", "DELETE"]),
    path=st.from_regex(r"/[A-Za-z0-9/_.~%-]{0,40}(\?[A-Za-z0-9=&%_-]{1,30})?", fullmatch=True),
    body=st.binary(max_size=300),
)
def test_round_trip_for_any_method_path_and_body(method: str, path: str, body: bytes) -> None:
    phone = Phone()
    phone.verify(phone.header(method, path, body), method=method, path=path, body=body)


def test_an_absolute_url_signs_its_path_and_query_only() -> None:
    phone = Phone()
    header = phone.device.headers_for("GET", "https://tooph.example/app/x?y=1#frag", b"")
    phone.verify(header[HEADER], method="GET", path="/app/x?y=1", body=b"")


def test_parameters_in_any_order_and_with_tabs_verify() -> None:
    phone = Phone()
    params = _params(phone.header())
    reordered = ",\t".join(f"{k}={params[k]}" for k in ("sig", "nonce", "time", "device", "v"))
    phone.verify(reordered)


def test_the_clock_window_edges_are_inside() -> None:
    for offset in (-60, 10):
        phone = Phone()
        header = phone.header()
        phone.now = NOW - offset
        phone.verify(header)


def test_the_clock_window_is_configurable() -> None:
    phone = Phone(max_age=5, max_future=0)
    header = phone.header()
    phone.now = NOW + 6
    _refused(phone, Stale, header)
    phone.now = NOW - 1
    _refused(phone, Stale, header)
    with pytest.raises(ValueError):
        DeviceVerifier(phone.keys.get, phone.seen, max_age=-1)


# --- tampering with each signed field ---------------------------------------------------


@pytest.mark.parametrize(
    "call",
    [
        {"method": "PUT"},
        {"path": "/app/api/v1/requests/ar_2/decision?x=1"},
        {"path": "/app/api/v1/requests/ar_1/decision?x=2"},
        {"path": "/app/api/v1/requests/ar_1/decision"},
        {"body": b'{"a":2}'},
        {"body": b""},
    ],
)
def test_a_call_other_than_the_signed_one_is_a_bad_signature(call: dict) -> None:
    phone = Phone()
    _refused(phone, BadSignature, phone.header(), **call)


@pytest.mark.parametrize("field", ["time", "nonce", "device", "sig"])
def test_each_tampered_header_field_is_refused(field: str) -> None:
    phone = Phone()
    header = phone.header()
    params = _params(header)
    changed = {
        "time": str(NOW - 1),
        "nonce": params["nonce"][:-1] + ("A" if params["nonce"][-1] != "A" else "B"),
        "device": phone.other.device_id,
        "sig": base64.urlsafe_b64encode(
            bytes([base64.urlsafe_b64decode(params["sig"] + "==")[0] ^ 1])
            + base64.urlsafe_b64decode(params["sig"] + "==")[1:]
        )
        .rstrip(b"=")
        .decode(),
    }[field]
    _refused(phone, BadSignature, _with(header, **{field: changed}))


def test_signed_by_another_device_key_is_a_bad_signature() -> None:
    phone = Phone()
    thief = SignedDevice(DeviceKey.generate(), clock=lambda: NOW)
    forged = thief.headers_for("POST", PATH, BODY)[HEADER]
    _refused(phone, BadSignature, _with(forged, device=phone.device.device_id))


def test_a_device_cannot_sign_as_another_enrolled_device() -> None:
    phone = Phone()
    header = phone.other.headers_for("POST", PATH, BODY)[HEADER]
    phone.verify(header)  # as itself: fine
    _refused(
        phone,
        BadSignature,
        _with(phone.other.headers_for("POST", PATH, BODY)[HEADER], device=phone.device.device_id),
    )


def test_unknown_device_is_refused() -> None:
    phone = Phone()
    stranger = SignedDevice(DeviceKey.generate(), clock=lambda: NOW)
    _refused(phone, UnknownDevice, stranger.headers_for("POST", PATH, BODY)[HEADER])


# --- replay and time --------------------------------------------------------------------


def test_a_replayed_call_is_refused_and_a_refusal_does_not_burn_the_id() -> None:
    phone = Phone()
    header = phone.header()
    _refused(phone, BadSignature, header, body=b"other")  # does not record the id
    phone.verify(header)
    _refused(phone, Replay, header)
    phone.now = NOW + 30
    _refused(phone, Replay, header)


def test_a_reused_id_in_a_freshly_signed_call_is_a_replay() -> None:
    phone = Phone()
    phone.device = SignedDevice(
        phone.device.key, clock=lambda: phone.now, nonce_factory=lambda: "n" * 22
    )
    phone.verify(phone.header(body=b"one"), body=b"one")
    _refused(phone, Replay, phone.header(body=b"two"), body=b"two")


def test_one_time_ids_are_per_device() -> None:
    phone = Phone()
    fixed: Callable[[], str] = lambda: "same-id-for-both-devices"  # noqa: E731
    for key in (phone.device.key, phone.other.key):
        device = SignedDevice(key, clock=lambda: NOW, nonce_factory=fixed)
        phone.verify(device.headers_for("POST", PATH, BODY)[HEADER])


@pytest.mark.parametrize("offset", [61, 3600, -11, -3600])
def test_stale_and_future_times_are_refused(offset: int) -> None:
    phone = Phone()
    header = phone.header()
    phone.now = NOW + offset
    _refused(phone, Stale, header)


def test_memory_seen_ids_forget_expired_ids() -> None:
    now = [100.0]
    seen = MemorySeenIds(clock=lambda: now[0])
    assert seen.add("d", "n", 160) and not seen.add("d", "n", 160)
    now[0] = 161
    assert seen.add("d", "other", 220) and len(seen) == 1
    assert seen.add("d", "n", 221)


# --- malformed headers, paths, keys -----------------------------------------------------


def test_no_header_is_unsigned() -> None:
    phone = Phone()
    for header in (None, "", "   "):
        _refused(phone, Unsigned, header)


@pytest.mark.parametrize(
    "mangle",
    [
        lambda h: h.replace("v=1", "v=2"),
        lambda h: h.replace("v=1, ", ""),
        lambda h: h + ", v=1",
        lambda h: h + ", extra=1",
        lambda h: h.replace("time=", "time=0"),
        lambda h: h.replace("time=", "time=-"),
        lambda h: h.replace("time=", "time= "),
        lambda h: _with(h, nonce="short"),
        lambda h: _with(h, nonce="x" * 65),
        lambda h: _with(h, nonce="has+plus/slash====="),
        lambda h: _with(h, device="bad.id"),
        lambda h: _with(h, device=""),
        lambda h: _with(h, sig=_params(h)["sig"][:-1]),
        lambda h: _with(h, sig=_params(h)["sig"] + "A"),
        lambda h: _with(h, sig=_params(h)["sig"][:-1] + "B"),  # non-canonical last char
        lambda h: _with(h, sig=_params(h)["sig"][:-2] + "=="),
        lambda h: h.replace(",", ";"),
        lambda h: h.replace("sig=", "sig"),
        lambda h: h + "," + " " * 600,
        lambda h: "garbage",
    ],
)
def test_malformed_headers_are_refused(mangle: Callable[[str], str]) -> None:
    phone = Phone()
    header = mangle(phone.header())
    _refused(phone, Malformed, header)


@pytest.mark.parametrize(
    "call",
    [
        {"method": "post"},
        {"method": ""},
        {"path": "app/no/slash"},
        {"path": "/with space"},
        {"path": "/with\nnewline"},
        {"path": "/x#fragment"},
        {"path": "/caf\u00e9"},
        {"path": "/" + "a" * 2048},
    ],
)
def test_malformed_method_or_path_is_refused(call: dict) -> None:
    phone = Phone()
    _refused(phone, Malformed, phone.header(), **call)


def test_signature_base_refuses_a_bad_digest() -> None:
    with pytest.raises(Malformed):
        devicesig.signature_base("GET", "/", "ABC", NOW, "n" * 22, "d")


def test_header_format_round_trips() -> None:
    header = SignatureHeader("dev", NOW, "n" * 22, bytes(range(64)))
    assert SignatureHeader.parse(header.format()) == header
    assert header.format().startswith("v=1, device=dev, time=1800000000, nonce=")


KEY = DeviceKey.from_private_value(0x1234567890ABCDEF)


def test_jwk_round_trip_and_webcrypto_members_and_json_text() -> None:
    jwk = KEY.public_jwk
    assert set(jwk) == {"crv", "kty", "x", "y"} and len(jwk["x"]) == len(jwk["y"]) == 43
    webcrypto = {**jwk, "ext": True, "key_ops": ["verify"], "alg": "ES256"}
    for form in (jwk, webcrypto, json.dumps(webcrypto)):
        assert public_jwk(load_jwk(form)) == jwk


def _jwk(**changes: object) -> dict:
    jwk: dict = dict(KEY.public_jwk)
    jwk.update(changes)
    return {k: v for k, v in jwk.items() if v is not None}


@pytest.mark.parametrize(
    "jwk",
    [
        _jwk(kty="RSA"),
        _jwk(crv="P-384"),
        _jwk(kty=None),
        _jwk(d=KEY.public_jwk["x"]),
        _jwk(alg="RS256"),
        _jwk(x=None),
        _jwk(y=7),
        _jwk(x="!!!"),
        _jwk(x=KEY.public_jwk["x"] + "="),
        _jwk(x=KEY.public_jwk["x"][:-2]),  # 31 bytes
        _jwk(x=base64.urlsafe_b64encode(b"\x00" * 33).rstrip(b"=").decode()),
        _jwk(y=base64.urlsafe_b64encode((1).to_bytes(32, "big")).rstrip(b"=").decode()),
        "not json",
        "[1, 2]",
        [1, 2],
    ],
)
def test_malformed_jwks_are_invalid_keys(jwk: object) -> None:
    with pytest.raises(InvalidKey) as info:
        load_jwk(jwk)  # type: ignore[arg-type]
    assert info.value.code == "invalid_key" and isinstance(info.value, Malformed)


def test_spki_in_der_pem_base64_and_base64url() -> None:
    der = KEY.spki_der
    pem = KEY.public_key.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    forms = [
        der,
        pem,
        pem.decode(),
        base64.b64encode(der).decode(),
        base64.urlsafe_b64encode(der).rstrip(b"=").decode(),
    ]
    for form in forms:
        assert public_jwk(load_spki(form)) == KEY.public_jwk


def _other_spki(private: object) -> bytes:
    return private.public_key().public_bytes(  # type: ignore[attr-defined]
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )


@pytest.mark.parametrize(
    "spki",
    [
        b"",
        b"\x30\x03\x02\x01\x01",
        KEY.spki_der[:-1],
        KEY.spki_der[:-1] + bytes([KEY.spki_der[-1] ^ 0xFF]),  # a point off the curve
        "not base64 at all!",
        "-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n",
        _other_spki(ec.generate_private_key(ec.SECP384R1())),
        _other_spki(rsa.generate_private_key(65537, 2048)),
    ],
)
def test_malformed_spki_are_invalid_keys(spki: bytes | str) -> None:
    with pytest.raises(InvalidKey):
        load_spki(spki)


def test_thumbprint_is_rfc7638_of_the_required_members() -> None:
    jwk = KEY.public_jwk
    text = '{"crv":"P-256","kty":"EC","x":"' + jwk["x"] + '","y":"' + jwk["y"] + '"}'
    expected = base64.urlsafe_b64encode(hashlib.sha256(text.encode()).digest()).rstrip(b"=")
    assert jwk_thumbprint(KEY.public_key) == expected.decode() == KEY.device_id
    assert jwk_thumbprint({**jwk, "ext": True}) == KEY.device_id


def test_verify_p1363_refuses_bad_lengths_zero_and_out_of_range_values_and_der() -> None:
    message = b"message"
    good = KEY.sign(message)
    assert verify_p1363(KEY.public_key, good, message)
    order = devicesig._ORDER.to_bytes(32, "big")
    for bad in (
        good[:63],
        good + b"\0",
        bytes(64),
        good[:32] + bytes(32),
        order + good[32:],
        good[:32] + order,
    ):
        assert not verify_p1363(KEY.public_key, bad, message)
    der = KEY.private_key.sign(message, ec.ECDSA(devicesig.hashes.SHA256()))
    assert not verify_p1363(KEY.public_key, der, message)


# --- enrollment: the key the call carries ------------------------------------------------


def test_enrollment_verifies_with_the_carried_key_and_its_thumbprint() -> None:
    phone = Phone()
    newcomer = SignedDevice(DeviceKey.generate(), clock=lambda: NOW)
    body = json.dumps({"jwk": newcomer.key.public_jwk}).encode()
    header = newcomer.headers_for("POST", "/app/api/v1/devices", body)[HEADER]
    key = load_jwk(json.loads(body)["jwk"])
    call = phone.verifier.verify("POST", "/app/api/v1/devices", body, header, key=key)
    assert call.device_id == newcomer.device_id
    with pytest.raises(UnknownDevice):  # the header names another id than the key's
        phone.verifier.verify(
            "POST",
            "/app/api/v1/devices",
            body,
            _with(header, device=phone.device.device_id),
            key=key,
        )


# --- error codes ----------------------------------------------------------------------


def test_error_codes_and_statuses_are_stable() -> None:
    table = {
        Unsigned: ("unsigned", 401),
        Malformed: ("malformed", 400),
        InvalidKey: ("invalid_key", 400),
        UnknownDevice: ("unknown_device", 401),
        BadSignature: ("bad_signature", 401),
        Stale: ("stale", 401),
        Replay: ("replay", 401),
    }
    for cls, (code, status) in table.items():
        assert (cls.code, cls.http_status) == (code, status)
    error = Stale("the signed time is more than 60 s old")
    assert error.as_json(NOW) == {
        "error": "stale",
        "message": "the signed time is more than 60 s old",
        "server_time": NOW,
    }
    assert Replay("x").as_json() == {"error": "replay", "message": "x"}


# --- requests --------------------------------------------------------------------------


def test_a_requests_session_signs_every_call() -> None:
    phone = Phone()
    session = requests.Session()
    session.auth = phone.device.auth()
    for request in (
        requests.Request("GET", "https://tooph.example/app/api/v1/requests", params={"a": "b c"}),
        requests.Request("POST", "https://tooph.example/app/api/v1/x", json={"k": "v"}),
        requests.Request("POST", "https://tooph.example/app/api/v1/y", data={"k": "v"}),
        requests.Request("DELETE", "https://tooph.example/app/api/v1/z"),
    ):
        prepared = session.prepare_request(request)
        body = prepared.body or b""
        phone.verify(
            prepared.headers[HEADER],
            method=prepared.method or "",
            path=prepared.path_url,
            body=body.encode() if isinstance(body, str) else body,
        )
    assert len(phone.seen) == 4


def test_a_streamed_body_cannot_be_signed() -> None:
    with pytest.raises(TypeError):
        SignedDevice().headers_for("POST", "/x", iter([b"a"]))  # type: ignore[arg-type]


# --- the decision body -------------------------------------------------------------------

SHOWN = {
    "request_id": "ar_1",
    "site": "Example",
    "user": "alice",
    "action": "Log in",
    "terminal": "Firefox on Linux",
}


def test_decision_json_is_canonical_and_complete() -> None:
    body = Decision(decision="allow", code="42", **SHOWN).to_json()
    assert body == (
        b'{"action":"Log in","code":"42","decision":"allow","request_id":"ar_1",'
        b'"site":"Example","terminal":"Firefox on Linux","user":"alice"}'
    )
    assert Decision.from_json(body).code == "42"
    assert b'"code":null' in Decision(decision="deny", **SHOWN).to_json()


text = st.text(max_size=40)


@settings(max_examples=60, deadline=None)
@given(
    decision=st.sampled_from(devicesig.DECISIONS),
    fields=st.fixed_dictionaries({k: text for k in SHOWN}),
    code=st.none() | st.from_regex(r"[0-9]{1,8}", fullmatch=True),
)
def test_decision_round_trip(decision: str, fields: dict, code: str | None) -> None:
    original = Decision(decision=decision, code=code, **fields)
    assert Decision.from_json(original.to_json()) == original
    assert original.mismatches(**fields) == []


def test_decision_mismatches_name_the_fields_that_differ() -> None:
    decision = Decision(decision="allow", code="7", **SHOWN)
    other = {**SHOWN, "user": "mallory", "terminal": "Chrome"}
    assert decision.mismatches(**other) == ["user", "terminal"]


@pytest.mark.parametrize(
    "body",
    [
        b"not json",
        b"[]",
        b"[" * 100_000,
        b"\xff",
        Decision(decision="allow", **SHOWN).to_json().replace(b":", b": ", 1),
        json.dumps({**SHOWN, "decision": "allow", "code": None}).encode(),  # key order, spaces
        json.dumps({**SHOWN, "decision": "allow"}, sort_keys=True, separators=(",", ":")).encode(),
        json.dumps(
            {**SHOWN, "decision": "allow", "code": None, "x": 1},
            sort_keys=True,
            separators=(",", ":"),
        ).encode(),
        Decision(decision="allow", **SHOWN).to_json().replace(b"allow", b"maybe"),
        Decision(decision="allow", **SHOWN).to_json().replace(b"null", b'"4a"'),
        Decision(decision="allow", **SHOWN).to_json().replace(b"null", b"42"),
        Decision(decision="allow", **SHOWN).to_json().replace(b'"alice"', b"1"),
        Decision(decision="allow", **SHOWN).to_json().replace(b"alice", b"\\ud800"),
        Decision(decision="allow", **SHOWN).to_json().replace(b"alice", b"\\u0061lice"),
        Decision(decision="allow", **SHOWN).to_json().replace(b"alice", b"a" * 1025),
        Decision(decision="allow", **SHOWN).to_json() + b"\n",
    ],
)
def test_malformed_decision_bodies_are_refused(body: bytes) -> None:
    with pytest.raises(Malformed):
        Decision.from_json(body)


def test_non_ascii_text_is_utf8_not_escaped() -> None:
    body = Decision(decision="not_me", **{**SHOWN, "user": "zoë", "site": "東京"}).to_json()
    assert "zoë".encode() in body and "東京".encode() in body
    assert Decision.from_json(body).user == "zoë"
