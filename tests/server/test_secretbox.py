"""toopher_server.secretbox: secrets at rest under a key ring from the environment."""

from __future__ import annotations

import base64

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from toopher_server.secretbox import (
    DecryptError,
    KeyConfigError,
    SecretBox,
    SecretBoxError,
    UnknownKey,
    generate_key,
    row_aad,
)

KEY_A = generate_key()
KEY_B = generate_key()
AAD = row_aad("requester_secret", 42)


def test_generated_keys_are_43_base64url_characters_and_differ() -> None:
    keys = {generate_key() for _ in range(20)}
    assert len(keys) == 20
    for key in keys:
        assert len(key) == 43 and len(base64.urlsafe_b64decode(key + "=")) == 32


@settings(max_examples=60, deadline=None)
@given(plaintext=st.text(max_size=200), kind=st.text(max_size=20), row=st.integers())
def test_round_trip(plaintext: str, kind: str, row: int) -> None:
    box = SecretBox([KEY_A])
    token = box.encrypt(plaintext, row_aad(kind, row))
    assert box.decrypt_text(token, row_aad(kind, row)) == plaintext


@settings(max_examples=30, deadline=None)
@given(data=st.binary(max_size=100))
def test_round_trip_bytes_and_fresh_nonce_each_time(data: bytes) -> None:
    box = SecretBox([KEY_A])
    one, two = box.encrypt(data, AAD), box.encrypt(data, AAD)
    assert one != two
    assert box.decrypt(one, AAD) == box.decrypt(two, AAD) == data


def test_token_names_version_and_key_id_and_holds_no_plaintext() -> None:
    box = SecretBox([KEY_A])
    token = box.encrypt("s3cr3t-value", AAD)
    version, key_id, body = token.split(".")
    assert version == "tsb1" and key_id == box.primary_key_id and len(key_id) == 11
    assert "s3cr3t" not in token and KEY_A not in token


def test_key_id_is_derived_from_the_key_and_stable() -> None:
    assert SecretBox([KEY_A]).primary_key_id == SecretBox([KEY_A, KEY_B]).primary_key_id
    assert SecretBox([KEY_A]).primary_key_id != SecretBox([KEY_B]).primary_key_id


def test_ciphertext_moved_to_another_row_does_not_decrypt() -> None:
    box = SecretBox([KEY_A])
    token = box.encrypt("secret", row_aad("requester_secret", 1))
    for other in (
        row_aad("requester_secret", 2),
        row_aad("totp_seed", 1),
        row_aad("requester_secret", "1 "),
        b"",
    ):
        with pytest.raises(DecryptError):
            box.decrypt(token, other)


def test_row_aad_keeps_ambiguous_joins_apart() -> None:
    assert row_aad("a:b", "c") != row_aad("a", "b:c")


def test_wrong_key_is_an_unknown_key_error_naming_only_the_id() -> None:
    token = SecretBox([KEY_A]).encrypt("secret", AAD)
    other = SecretBox([KEY_B])
    with pytest.raises(UnknownKey) as info:
        other.decrypt(token, AAD)
    assert info.value.key_id == SecretBox([KEY_A]).primary_key_id
    assert info.value.code == "unknown_key"
    assert KEY_A not in str(info.value) and "secret" not in str(info.value)


def test_forged_key_id_with_another_key_fails_to_authenticate() -> None:
    token_b = SecretBox([KEY_B]).encrypt("secret", AAD)
    box = SecretBox([KEY_A, KEY_B])
    _, _, body = token_b.split(".")
    relabelled = f"tsb1.{box.primary_key_id}.{body}"
    with pytest.raises(DecryptError) as info:
        box.decrypt(relabelled, AAD)
    assert not isinstance(info.value, UnknownKey)


@pytest.mark.parametrize("position", [0, 5, 11, 12, 30, -1])
def test_every_tampered_byte_is_refused(position: int) -> None:
    box = SecretBox([KEY_A])
    token = box.encrypt("secret value", AAD)
    prefix, body = token.rsplit(".", 1)
    raw = bytearray(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
    raw[position] ^= 0x01
    tampered = prefix + "." + base64.urlsafe_b64encode(bytes(raw)).rstrip(b"=").decode()
    with pytest.raises(DecryptError):
        box.decrypt(tampered, AAD)


@pytest.mark.parametrize(
    "token",
    [
        "",
        "tsb1",
        "tsb1..",
        "tsb2.AAAAAAAAAAA.AAAA",
        "tsb1.AAAAAAAAAAA.not base64!",
        "tsb1.AAAAAAAAAAA.AAAA",  # too short for nonce and tag
        "tsb1.bad id!.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
        "tsb1.a.b.c",
    ],
)
def test_malformed_ciphertexts_are_decrypt_errors(token: str) -> None:
    with pytest.raises(DecryptError):
        SecretBox([KEY_A]).decrypt(token, AAD)


def test_non_str_token_is_a_decrypt_error() -> None:
    with pytest.raises(DecryptError):
        SecretBox([KEY_A]).decrypt(b"tsb1.x.y", AAD)  # type: ignore[arg-type]


def test_non_utf8_plaintext_is_a_decrypt_error_for_text() -> None:
    box = SecretBox([KEY_A])
    with pytest.raises(DecryptError):
        box.decrypt_text(box.encrypt(b"\xff\xfe", AAD), AAD)


def test_rotation_first_key_encrypts_all_decrypt_and_reencrypt_moves_rows() -> None:
    old = SecretBox([KEY_A])
    rows = {pk: old.encrypt(f"secret-{pk}", row_aad("requester_secret", pk)) for pk in range(5)}
    ring = SecretBox([KEY_B, KEY_A])
    assert ring.key_ids == (SecretBox([KEY_B]).primary_key_id, old.primary_key_id)
    for pk, token in rows.items():
        aad = row_aad("requester_secret", pk)
        assert ring.decrypt_text(token, aad) == f"secret-{pk}"
        assert ring.needs_reencrypt(token)
        rows[pk] = ring.reencrypt(token, aad)
        assert not ring.needs_reencrypt(rows[pk])
    new_only = SecretBox([KEY_B])
    for pk, token in rows.items():
        assert new_only.decrypt_text(token, row_aad("requester_secret", pk)) == f"secret-{pk}"
        with pytest.raises(UnknownKey):
            old.decrypt(token, row_aad("requester_secret", pk))


def test_reencrypt_keeps_the_row_binding() -> None:
    ring = SecretBox([KEY_B, KEY_A])
    token = SecretBox([KEY_A]).encrypt("x", row_aad("totp_seed", 7))
    with pytest.raises(DecryptError):
        ring.reencrypt(token, row_aad("totp_seed", 8))


def test_from_env_reads_comma_or_space_separated_keys() -> None:
    box = SecretBox.from_env(environ={"TOOPHER_SECRET_KEYS": f" {KEY_B},\n {KEY_A} "})
    assert box.key_ids == SecretBox([KEY_B, KEY_A]).key_ids
    box = SecretBox.from_env("OTHER", environ={"OTHER": f"{KEY_A} {KEY_B}"})
    assert box.primary_key_id == SecretBox([KEY_A]).primary_key_id


@pytest.mark.parametrize(
    "value",
    ["", "  ,, ", "not-a-key!", "QUJD", KEY_A + "A", f"{KEY_A},{KEY_A}"],
    # Stable ids: the keys are random, and every xdist worker must collect the same tests.
    ids=["empty", "blanks", "not-base64url", "too-short", "too-long", "listed-twice"],
)
def test_bad_key_rings_are_key_config_errors_without_the_value(value: str) -> None:
    with pytest.raises(KeyConfigError) as info:
        SecretBox.from_env(environ={"TOOPHER_SECRET_KEYS": value})
    assert isinstance(info.value, SecretBoxError)
    if value.strip(" ,"):
        assert value.strip() not in str(info.value)


def test_missing_variable_is_a_key_config_error() -> None:
    with pytest.raises(KeyConfigError, match="TOOPHER_SECRET_KEYS is not set"):
        SecretBox.from_env(environ={})


def test_empty_ring_and_raw_key_of_wrong_length_are_refused() -> None:
    with pytest.raises(KeyConfigError):
        SecretBox([])
    with pytest.raises(KeyConfigError):
        SecretBox([b"short"])
    assert SecretBox([b"k" * 32]).encrypt("x", AAD)


def test_reprs_show_key_ids_only() -> None:
    box = SecretBox([KEY_A, KEY_B])
    text = repr(box) + repr(list(box._keys.values()))
    assert KEY_A not in text and KEY_B not in text
    assert box.primary_key_id in text
