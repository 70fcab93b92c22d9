"""Resource objects: attributes, .raw, immutability, truthiness, pickling, aliases."""

from __future__ import annotations

import copy
import pickle

import pytest

import toopher
from toopher.resources import Action, AuthenticationRequest, Pairing, User, UserTerminal

from .conftest import auth_json, pairing_json, terminal_json, user_json


def test_pairing_attributes_of_the_original_library():
    pairing = Pairing(pairing_json(enabled=False, pending=True))
    assert pairing.id == "5a0b1c2d-3e4f-4a5b-8c6d-7e8f9a0b1c2d"
    assert pairing.enabled is False
    assert pairing.pending is True
    assert pairing.deactivated is False
    assert pairing.user_id == "1c3e9a1e-8d3f-4a4b-9c1d-2f3e4a5b6c7d"
    assert pairing.user_name == "jdoe"
    assert isinstance(pairing.user, User)
    assert pairing.totp_length == 6  # unknown fields fall back to the raw JSON


def test_authentication_request_attributes_of_the_original_library():
    auth = AuthenticationRequest(auth_json(automated=True, reason_code="100"))
    assert (auth.id, auth.pending, auth.granted, auth.automated) == (
        "0f1e2d3c-4b5a-4697-a8b9-cadbecfd0e1f", False, True, True)
    assert auth.reason == "it is a test"
    assert auth.reason_code == 100  # a string "100" (seen in old tests) becomes an int
    assert auth.terminal_id == "7d6c5b4a-3f2e-4d1c-9b0a-8f7e6d5c4b3a"
    assert auth.terminal_name == "my computer"
    assert auth.user_id == "1c3e9a1e-8d3f-4a4b-9c1d-2f3e4a5b6c7d"
    assert auth.user_name == "jdoe"
    assert auth.action_name == "Log in"
    assert isinstance(auth.terminal, UserTerminal)
    assert isinstance(auth.action, Action)
    assert auth.totp_valid is False
    assert auth.requires_otp is False


def test_minimal_1x_authentication_request():
    auth = AuthenticationRequest({"id": "a", "pending": True, "granted": False,
                                  "automated": False, "reason": "",
                                  "terminal": {"id": "t", "name": "my computer"}})
    assert auth.terminal_name == "my computer"
    assert auth.user is None and auth.user_id is None and auth.action_name is None
    assert auth.totp_valid is None


def test_user_id_comes_from_the_terminal_when_the_request_has_no_user():
    raw = auth_json()
    del raw["user"]
    assert AuthenticationRequest(raw).user_name == "jdoe"


def test_reason_code_708_means_otp_required():
    assert AuthenticationRequest(auth_json(pending=True, granted=False,
                                           reason_code=708)).requires_otp


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (user_json(), True),
        (user_json(toopher_authentication_enabled=False), False),
        ({"id": "u", "name": "n", "disable_toopher_auth": True}, False),
        ({"id": "u", "name": "n", "disable_toopher_auth": False}, True),
        ({"id": "u", "name": "n"}, True),
        ({"id": "u", "name": "n", "toopher_authentication_enabled": "false"}, False),
    ],
)
def test_user_enabled_flag_reads_both_generations(raw, expected):
    assert User(raw).toopher_authentication_enabled is expected


def test_terminal_reads_both_names_of_the_requester_id():
    assert UserTerminal(terminal_json()).requester_specified_id == "abc123"
    legacy = terminal_json(name_extra="old")
    del legacy["requester_specified_id"]
    terminal = UserTerminal(legacy)
    assert terminal.requester_specified_id == terminal.name_extra == "old"
    assert terminal.user_name == "jdoe"


@pytest.mark.parametrize(
    ("raw", "truthy"),
    [
        (pairing_json(enabled=True, pending=False), True),
        (pairing_json(enabled=False, pending=True), False),
        (pairing_json(enabled=False, pending=False), False),
        (pairing_json(enabled=True, pending=False, deactivated=True), False),
    ],
)
def test_pairing_truthiness(raw, truthy):
    assert bool(Pairing(raw)) is truthy


@pytest.mark.parametrize(
    ("pending", "granted", "truthy"),
    [(False, True, True), (False, False, False), (True, False, False), (True, True, False)],
)
def test_authentication_truthiness(pending, granted, truthy):
    assert bool(AuthenticationRequest(auth_json(pending=pending, granted=granted))) is truthy


def test_raw_is_the_whole_json_and_a_copy():
    raw = pairing_json()
    pairing = Pairing(raw)
    assert pairing.raw == raw
    pairing.raw["enabled"] = False
    pairing.raw["user"]["name"] = "mallory"
    raw["id"] = "changed after construction"
    assert pairing.raw == pairing_json()
    assert pairing.enabled is True


def test_immutable():
    pairing = Pairing(pairing_json())
    with pytest.raises(AttributeError, match="immutable"):
        pairing.enabled = False
    with pytest.raises(AttributeError, match="immutable"):
        pairing.new_field = 1
    with pytest.raises(AttributeError, match="immutable"):
        del pairing.id
    assert pairing.enabled is True


def test_unknown_attribute_raises_attribute_error():
    pairing = Pairing(pairing_json())
    with pytest.raises(AttributeError):
        pairing.no_such_field  # noqa: B018
    assert not hasattr(pairing, "_private")


@pytest.mark.parametrize(
    "resource",
    [Pairing(pairing_json()), AuthenticationRequest(auth_json()), User(user_json()),
     UserTerminal(terminal_json()), Action({"id": "a", "name": "Log in"})],
    ids=lambda r: type(r).__name__,
)
def test_pickle_and_copy_round_trip(resource):
    for protocol in range(2, pickle.HIGHEST_PROTOCOL + 1):
        clone = pickle.loads(pickle.dumps(resource, protocol=protocol))
        assert type(clone) is type(resource)
        assert clone == resource
        assert clone.raw == resource.raw
        assert clone.id == resource.id
    assert copy.copy(resource) == resource
    assert copy.deepcopy(resource) == resource


def test_equality_and_hash():
    a, b = Pairing(pairing_json()), Pairing(pairing_json())
    assert a == b and hash(a) == hash(b)
    assert a != Pairing(pairing_json(enabled=False))
    assert a != User(user_json())
    assert len({a, b}) == 1


def test_repr_is_informative():
    text = repr(AuthenticationRequest(auth_json()))
    assert text.startswith("<AuthenticationRequest ")
    assert "granted=True" in text


def test_seed_names_stay_importable():
    assert toopher.PairingStatus is toopher.Pairing
    assert toopher.AuthenticationStatus is toopher.AuthenticationRequest
    from toopher.resources import AuthenticationStatus, PairingStatus

    assert PairingStatus is Pairing and AuthenticationStatus is AuthenticationRequest


def test_verification_code_is_parsed_when_the_service_sends_it():
    """Number matching: the extension field, None when absent, null or empty."""
    assert AuthenticationRequest(auth_json(verification_code="47")).verification_code == "47"
    assert AuthenticationRequest(auth_json()).verification_code is None
    assert AuthenticationRequest(auth_json(verification_code=None)).verification_code is None
    assert AuthenticationRequest(auth_json(verification_code="")).verification_code is None


def test_a_verification_code_of_the_wrong_type_is_a_shape_error():
    with pytest.raises(toopher.ToopherApiError):
        AuthenticationRequest(auth_json(verification_code=["47"]))
