"""The ``toopher`` client against the live sandbox, through every flow of the issue."""

from __future__ import annotations

import io
import uuid

import pytest
import segno

import toopher
from toopher.errors import (
    PairingDeactivatedError,
    TerminalUnknownError,
    ToopherApiError,
    UserDisabledError,
    UserUnknownError,
)
from toopher_sandbox.testing import SandboxError


@pytest.fixture
def api(toopher_requester):
    client = toopher.ToopherApi(
        toopher_requester["key"], toopher_requester["secret"], api_url=toopher_requester["api_url"]
    )
    yield client
    client.close()


def paired(api, sandbox, phone, user_name="ann@example.com"):
    """Pair ``user_name`` by phrase and allow it on the phone; return the pairing."""
    pairing = api.pair(phone.pairing_phrase, user_name)
    sandbox.respond_pairing(pairing.id, allow=True)
    return api.get_pairing_status(pairing.id)


def is_uuid4(value: str) -> bool:
    return str(uuid.UUID(value)) == value and uuid.UUID(value).version == 4


# --- pairing ------------------------------------------------------------------------------------


def test_pair_by_phrase_allowed_on_phone(api, toopher_sandbox, toopher_phone):
    pairing = api.pair(toopher_phone.pairing_phrase, "ann@example.com")
    assert pairing.pending is True and pairing.enabled is False
    assert is_uuid4(pairing.id)
    shown = toopher_sandbox.wait_for_pending(toopher_phone.phone_id, kind="pairings")
    assert shown["id"] == pairing.id
    toopher_sandbox.respond_pairing(pairing.id, allow=True)
    status = api.get_pairing_status(pairing.id)
    assert (status.pending, status.enabled) == (False, True)
    assert status.user_name == "ann@example.com"
    assert bool(status) is True


def test_pair_denied_on_phone(api, toopher_sandbox, toopher_phone):
    pairing = api.pair(toopher_phone.pairing_phrase, "ann")
    toopher_sandbox.respond_pairing(pairing.id, allow=False)
    status = api.get_pairing_status(pairing.id)
    assert (status.pending, status.enabled) == (False, False)


def test_phrase_is_single_use_and_unknown_phrase_refused(api, toopher_phone):
    api.pair(toopher_phone.pairing_phrase, "ann")
    with pytest.raises(ToopherApiError) as excinfo:
        api.pair(toopher_phone.pairing_phrase, "bob")
    assert excinfo.value.status_code == 409
    with pytest.raises(ToopherApiError) as excinfo:
        api.pair("never issued", "bob")
    assert "pairing_phrase" in excinfo.value.error_message


def test_pair_by_qr_image_and_deep_link(api, toopher_sandbox, toopher_phone):
    pairing = api.pair_qr("qr@example.com")
    assert pairing.pending is True
    png = api.get_qr_code_image(pairing.id)
    assert png.startswith(b"\x89PNG\r\n\x1a\n")
    # segno is deterministic: the same text gives the same PNG, so this pins the content.
    assert png == qr_png(f"{toopher_sandbox.base_url}/r/pairings/{pairing.id}")
    # Not on any phone until scanned; the control API can still answer it.
    assert toopher_sandbox.pending(toopher_phone.phone_id)["pairings"] == []
    toopher_sandbox.respond_pairing(pairing.id, allow=True)
    assert api.get_pairing_status(pairing.id).enabled is True


def qr_png(text: str) -> bytes:
    buffer = io.BytesIO()
    segno.make(text, error="m").save(buffer, kind="png", scale=6, border=4)
    return buffer.getvalue()


def test_pair_by_sms(api, toopher_sandbox):
    number = "+1 555 0100 " + uuid.uuid4().hex[:4].translate(str.maketrans("abcdef", "123456"))
    pairing = api.pair_sms(number, "sms@example.com", phone_country="1")
    assert pairing.pending is True
    texts = [m for m in toopher_sandbox.messages() if m["kind"] == "sms" and m["to"] == number]
    assert texts and "sms@example.com" in texts[0]["body"]
    toopher_sandbox.respond_pairing(pairing.id, allow=True)
    assert api.get_pairing_status(pairing.id).enabled is True


def test_pair_sms_bad_number_is_400(api):
    with pytest.raises(ToopherApiError) as excinfo:
        api.pair_sms("not a number", "sms@example.com")
    assert excinfo.value.status_code == 400


# --- authentication ------------------------------------------------------------------------------


def test_authenticate_by_pairing_id_granted(api, toopher_sandbox, toopher_phone):
    pairing = paired(api, toopher_sandbox, toopher_phone)
    auth = api.authenticate(pairing.id, "my computer", action_name="Log in")
    assert auth.pending is True and is_uuid4(auth.id)
    shown = toopher_sandbox.wait_for_pending(toopher_phone.phone_id)
    assert (shown["id"], shown["terminal_name"], shown["action_name"]) == (
        auth.id, "my computer", "Log in"
    )
    toopher_sandbox.respond_authentication(auth.id, grant=True)
    status = api.get_authentication_status(auth.id)
    assert (status.pending, status.granted, status.automated) == (False, True, False)
    assert status.terminal_name == "my computer"
    assert bool(status) is True


def test_authenticate_denied_with_reason(api, toopher_sandbox, toopher_phone):
    pairing = paired(api, toopher_sandbox, toopher_phone)
    auth = api.authenticate(pairing.id, "my computer")
    toopher_sandbox.respond_authentication(auth.id, grant=False, reason="Not me")
    status = api.get_authentication_status(auth.id)
    assert (status.pending, status.granted, status.reason) == (False, False, "Not me")


def test_default_action_is_log_in(api, toopher_sandbox, toopher_phone):
    pairing = paired(api, toopher_sandbox, toopher_phone)
    auth = api.authenticate(pairing.id, "my computer")
    assert auth.raw["action"]["name"] == "Log in"


def test_authenticate_by_user_name_with_named_terminal(api, toopher_sandbox, toopher_phone):
    paired(api, toopher_sandbox, toopher_phone, "zed")
    with pytest.raises(TerminalUnknownError) as excinfo:
        api.authenticate_by_user_name("zed", "cookie-123")
    assert (excinfo.value.status_code, excinfo.value.error_code) == (409, 706)
    terminal = api.create_user_terminal("zed", "Kitchen PC", "cookie-123")
    assert terminal.raw["requester_specified_id"] == terminal.raw["name_extra"] == "cookie-123"
    auth = api.authenticate_by_user_name("zed", "cookie-123", action_name="Change email")
    assert auth.terminal_name == "Kitchen PC"
    assert auth.raw["terminal"]["id"] == terminal.id
    toopher_sandbox.respond_authentication(auth.id, grant=True)
    assert api.get_authentication_status(auth.id).granted is True


def test_704_user_disabled(api, toopher_sandbox, toopher_phone):
    paired(api, toopher_sandbox, toopher_phone, "opt-out")
    user = api.set_toopher_enabled_for_user("opt-out", False)
    assert user.raw["toopher_authentication_enabled"] is False
    assert user.raw["disable_toopher_auth"] is True
    with pytest.raises(UserDisabledError) as excinfo:
        api.authenticate_by_user_name("opt-out", "t1")
    assert (excinfo.value.status_code, excinfo.value.error_code) == (409, 704)
    api.set_toopher_enabled_for_user("opt-out", True)
    with pytest.raises(TerminalUnknownError):
        api.authenticate_by_user_name("opt-out", "t1")


def test_705_unknown_user_and_user_without_pairing(api):
    with pytest.raises(UserUnknownError) as excinfo:
        api.authenticate_by_user_name("nobody", "t1")
    assert (excinfo.value.status_code, excinfo.value.error_code) == (409, 705)
    api.create_user("lonely")
    with pytest.raises(UserUnknownError):
        api.authenticate_by_user_name("lonely", "t1")


def test_707_deactivated_on_phone(api, toopher_sandbox, toopher_phone):
    pairing = paired(api, toopher_sandbox, toopher_phone, "gone")
    toopher_sandbox.deactivate_pairing(pairing.id)
    assert api.get_pairing_status(pairing.id).raw["deactivated"] is True
    with pytest.raises(PairingDeactivatedError) as excinfo:
        api.authenticate(pairing.id, "my computer")
    assert (excinfo.value.status_code, excinfo.value.error_code) == (409, 707)
    with pytest.raises(PairingDeactivatedError):
        api.authenticate_by_user_name("gone", "t1", terminal_name="x")


def test_707_after_users_reset(api, toopher_sandbox, toopher_phone):
    pairing = paired(api, toopher_sandbox, toopher_phone, "reset-me")
    api.reset_user("reset-me")
    pairings = api.get_user_pairings(pairing.user_id)
    assert [p.raw["deactivated"] for p in pairings] == [True]
    with pytest.raises(PairingDeactivatedError):
        api.authenticate(pairing.id, "my computer")


def test_601_pending_pairing_exact_text(api, toopher_phone):
    pairing = api.pair(toopher_phone.pairing_phrase, "slow")
    with pytest.raises(PairingDeactivatedError) as excinfo:
        api.authenticate(pairing.id, "my computer")
    assert excinfo.value.error_code == 601
    assert excinfo.value.error_message == "This pairing has not been authorized to authenticate."


def test_deactivating_cancels_pending_requests(api, toopher_sandbox, toopher_phone):
    pairing = paired(api, toopher_sandbox, toopher_phone)
    auth = api.authenticate(pairing.id, "my computer")
    toopher_sandbox.deactivate_pairing(pairing.id)
    status = api.get_authentication_status(auth.id)
    assert (status.pending, status.granted) == (False, False)


def test_automation_answers_next_request(api, toopher_sandbox, toopher_phone):
    pairing = paired(api, toopher_sandbox, toopher_phone)
    first = api.authenticate(pairing.id, "office", action_name="Log in")
    toopher_sandbox.respond_authentication(first.id, grant=True, automate=True)
    second = api.authenticate(pairing.id, "office", action_name="Log in")
    assert (second.pending, second.granted, second.automated) == (False, True, True)
    # Another terminal, another action, or automation_allowed=False: the phone is asked.
    assert api.authenticate(pairing.id, "home", action_name="Log in").pending is True
    assert api.authenticate(pairing.id, "office", action_name="Pay").pending is True
    manual = api.authenticate(pairing.id, "office", action_name="Log in",
                              automation_allowed=False)
    assert manual.pending is True


# --- OTP -----------------------------------------------------------------------------------------


def test_authenticate_with_otp(api, toopher_sandbox, toopher_phone):
    pairing = paired(api, toopher_sandbox, toopher_phone)
    auth = api.authenticate(pairing.id, "offline laptop")
    status = api.authenticate_with_otp(auth.id, toopher_sandbox.otp(pairing.id))
    assert (status.pending, status.granted, status.raw["totp_valid"]) == (False, True, True)


def test_wrong_otp_denies(api, toopher_sandbox, toopher_phone):
    pairing = paired(api, toopher_sandbox, toopher_phone)
    auth = api.authenticate(pairing.id, "offline laptop")
    good = toopher_sandbox.otp(pairing.id)
    wrong = f"{(int(good) + 500000) % 1000000:06d}"
    status = api.authenticate_with_otp(auth.id, wrong)
    assert (status.pending, status.granted, status.raw["totp_valid"]) == (False, False, False)
    # A decided request stays decided.
    again = api.authenticate_with_otp(auth.id, toopher_sandbox.otp(pairing.id))
    assert again.granted is False


def test_otp_on_initiate(api, toopher_sandbox, toopher_phone):
    pairing = paired(api, toopher_sandbox, toopher_phone, "radius")
    auth = api.authenticate_by_user_name("radius", "", otp=toopher_sandbox.otp(pairing.id))
    assert (auth.pending, auth.granted) == (False, True)


# --- users and terminals ---------------------------------------------------------


def test_users(api):
    user = api.create_user("u1@example.com")
    assert is_uuid4(user.id) and user.name == "u1@example.com"
    assert user.raw["toopher_authentication_enabled"] is True
    assert api.get_user(user.id).name == "u1@example.com"
    assert api.get_user_by_name("u1@example.com").id == user.id
    with pytest.raises(UserUnknownError):
        api.get_user_by_name("nobody@example.com")
    updated = api.update_user(user.id, toopher_authentication_enabled=False)
    assert updated.raw["disable_toopher_auth"] is True
    with pytest.raises(ToopherApiError) as excinfo:
        api.create_user("u1@example.com")
    assert excinfo.value.status_code == 409
    assert api.get_user_pairings(user.id) == []


def test_terminals(api, toopher_sandbox, toopher_phone):
    paired(api, toopher_sandbox, toopher_phone, "term")
    terminal = api.create_user_terminal("term", "Laptop", "id-1")
    assert api.get_user_terminal(terminal.id).name == "Laptop"
    # Naming the same requester id again renames, it does not duplicate.
    again = api.create_user_terminal("term", "Work laptop", "id-1")
    assert again.id == terminal.id and again.name == "Work laptop"
    # T3: Radius "forgets" a terminal by overwriting its id.
    forgotten = api.update_user_terminal(terminal.id, name_extra="00000000")
    assert forgotten.raw["requester_specified_id"] == "00000000"
    with pytest.raises(TerminalUnknownError):
        api.authenticate_by_user_name("term", "id-1")
    with pytest.raises(UserUnknownError):
        api.create_user_terminal("nobody", "Laptop", "id-1")


def test_reset_link_and_email(api, toopher_sandbox, toopher_phone):
    import requests

    pairing = paired(api, toopher_sandbox, toopher_phone, "lost")
    url = api.get_pairing_reset_link(pairing.id)
    assert url.startswith(
        f"{toopher_sandbox.base_url}/pairings/{pairing.id}/reset?reset_authorization="
    )
    page = requests.get(url, timeout=10)
    assert page.status_code == 200 and "Reset" in page.text
    api.email_pairing_reset_link(pairing.id, "lost@example.com")
    mails = [m for m in toopher_sandbox.messages() if m["to"] == "lost@example.com"]
    assert mails and "/reset?reset_authorization=" in mails[0]["body"]


def test_unknown_ids_are_404(api):
    missing = str(uuid.uuid4())
    for call in (api.get_pairing_status, api.get_authentication_status, api.get_user,
                 api.get_user_terminal, api.get_qr_code_image):
        with pytest.raises(ToopherApiError) as excinfo:
            call(missing)
        assert excinfo.value.status_code == 404
        assert excinfo.value.error_code == 404


def test_automation_set_through_control_api(api, toopher_sandbox, toopher_phone):
    pairing = paired(api, toopher_sandbox, toopher_phone, "auto")
    terminal = api.create_user_terminal("auto", "Office", "office-1")
    toopher_sandbox.automate(pairing.id, terminal.id, action_name="Log in", grant=False)
    auth = api.authenticate_by_user_name("auto", "office-1", action_name="Log in")
    assert (auth.pending, auth.granted, auth.automated) == (False, False, True)
    with pytest.raises(SandboxError) as excinfo:
        toopher_sandbox.automate(pairing.id, str(uuid.uuid4()))
    assert excinfo.value.status_code == 404
    api.create_user("someone else")
    theirs = api.create_user_terminal("someone else", "Their PC", "their-1")
    with pytest.raises(SandboxError) as excinfo:
        toopher_sandbox.automate(pairing.id, theirs.id)
    assert excinfo.value.status_code == 400
