"""Any input, however broken, ends in the module's own typed error, never another exception.

A view turns these errors into clean answers; anything else would be a 500.
"""

from __future__ import annotations

import json

from hypothesis import given, settings
from hypothesis import strategies as st

from toopher_server.devicesig import (
    HEADER,
    Decision,
    DeviceSignatureError,
    DeviceVerifier,
    InvalidKey,
    Malformed,
    MemorySeenIds,
    load_jwk,
    load_spki,
)
from toopher_server.secretbox import DecryptError, SecretBox, generate_key
from toopher_server.testing import SignedDevice

NOW = 1_800_000_000
DEVICE = SignedDevice(clock=lambda: NOW)
VERIFIER = DeviceVerifier(
    {DEVICE.device_id: DEVICE.key.public_key}.get, MemorySeenIds(lambda: NOW), clock=lambda: NOW
)
GOOD = DEVICE.headers_for("POST", "/x", b"{}")[HEADER]
BOX = SecretBox([generate_key()])

header_like = st.one_of(
    st.none(),
    st.text(max_size=300),
    st.builds(
        lambda cut, junk: GOOD[:cut] + junk + GOOD[cut:],
        st.integers(0, len(GOOD)),
        st.text(max_size=5),
    ),
)


@settings(max_examples=200, deadline=None)
@given(
    method=st.text(max_size=10),
    path=st.text(max_size=60),
    body=st.binary(max_size=50),
    header=header_like,
)
def test_verify_raises_only_device_signature_errors(
    method: str, path: str, body: bytes, header: str | None
) -> None:
    try:
        VERIFIER.verify(method, path, body, header)
    except DeviceSignatureError:
        pass


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=10),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner),
    max_leaves=10,
)


@settings(max_examples=200, deadline=None)
@given(body=st.binary(max_size=200) | json_values.map(lambda v: json.dumps(v).encode()))
def test_decision_parsing_raises_only_malformed(body: bytes) -> None:
    try:
        Decision.from_json(body)
    except Malformed:
        pass


jwk_like = st.fixed_dictionaries(
    {},
    optional={
        "kty": st.sampled_from(["EC", "RSA", 1]),
        "crv": st.sampled_from(["P-256", "P-384", None]),
        "x": st.text(max_size=50) | st.integers(),
        "y": st.text(max_size=50),
        "alg": st.text(max_size=6),
        "d": st.text(max_size=3),
    },
)


@settings(max_examples=200, deadline=None)
@given(jwk=jwk_like | json_values | st.text(max_size=80))
def test_jwk_import_raises_only_invalid_key(jwk: object) -> None:
    try:
        load_jwk(jwk)  # type: ignore[arg-type]
    except InvalidKey:
        pass


@settings(max_examples=200, deadline=None)
@given(spki=st.binary(max_size=120) | st.text(max_size=120))
def test_spki_import_raises_only_invalid_key(spki: bytes | str) -> None:
    try:
        load_spki(spki)
    except InvalidKey:
        pass


@settings(max_examples=200, deadline=None)
@given(token=st.text(max_size=120), aad=st.binary(max_size=10))
def test_decrypt_raises_only_decrypt_errors(token: str, aad: bytes) -> None:
    for candidate in (token, f"tsb1.{BOX.primary_key_id}.{token}"):
        try:
            BOX.decrypt(candidate, aad)
        except DecryptError:
            pass
