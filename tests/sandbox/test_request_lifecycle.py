"""The life of an authentication request: newest first, cancel (A4), expiry, stale answers."""

from __future__ import annotations

import pytest
import requests

import toopher
from tests.waiting import wait_until
from toopher_sandbox.testing import SandboxControl, SandboxError, SandboxProcess


@pytest.fixture
def api(toopher_requester):
    client = toopher.ToopherApi(
        toopher_requester["key"], toopher_requester["secret"], api_url=toopher_requester["api_url"]
    )
    yield client
    client.close()


def paired(api, sandbox, phone):
    pairing = api.pair(phone.pairing_phrase, "lea@example.com")
    sandbox.respond_pairing(pairing.id, allow=True)
    return pairing


def phone_form_answer(sandbox, phone_id, phone_url, request_id) -> str:
    """Press Allow on the phone page (with its CSRF token); return the notice shown."""
    browser = requests.Session()
    page = browser.get(phone_url, timeout=10)
    token = page.text.split('name="csrfmiddlewaretoken" value="', 1)[1].split('"', 1)[0]
    answer = browser.post(
        f"{sandbox.base_url}/phone/{phone_id}/requests/{request_id}/respond",
        data={"answer": "allow", "csrfmiddlewaretoken": token},
        headers={"Referer": phone_url},
        timeout=10,
    )
    assert answer.status_code == 200  # followed the redirect back to the phone
    return answer.text


def test_newest_first_with_age(api, toopher_sandbox, toopher_phone):
    pairing = paired(api, toopher_sandbox, toopher_phone)
    first = api.authenticate(pairing.id, "old terminal")
    second = api.authenticate(pairing.id, "new terminal")
    listed = toopher_sandbox.pending(toopher_phone.phone_id)["authentication_requests"]
    assert [item["id"] for item in listed] == [second.id, first.id]
    assert all(item["age_seconds"] >= 0 and item["expires_at"] for item in listed)
    page = requests.get(toopher_phone.phone_url, timeout=10).text
    assert page.index("new terminal") < page.index("old terminal")
    assert "just now" in page


def test_cancel_drops_the_request_from_the_phone(api, toopher_sandbox, toopher_phone):
    pairing = paired(api, toopher_sandbox, toopher_phone)
    auth = api.authenticate(pairing.id, "my computer")
    cancelled = api.cancel_authentication_request(auth.id)
    assert (cancelled.pending, cancelled.granted) == (False, False)
    assert cancelled.raw["cancelled"] is True
    assert cancelled.reason == "Cancelled"
    assert toopher_sandbox.pending(toopher_phone.phone_id)["authentication_requests"] == []
    status = api.get_authentication_status(auth.id)
    assert (status.pending, status.granted) == (False, False)


def test_answering_a_cancelled_request_says_so_and_changes_nothing(
    api, toopher_sandbox, toopher_phone
):
    pairing = paired(api, toopher_sandbox, toopher_phone)
    auth = api.authenticate(pairing.id, "my computer")
    api.cancel_authentication_request(auth.id)
    with pytest.raises(SandboxError) as excinfo:
        toopher_sandbox.respond_authentication(auth.id, grant=True)
    assert excinfo.value.status_code == 409
    assert "cancelled" in excinfo.value.body["error_message"]
    page = phone_form_answer(
        toopher_sandbox, toopher_phone.phone_id, toopher_phone.phone_url, auth.id
    )
    assert "cancelled by the site" in page and "Request allowed." not in page
    status = api.get_authentication_status(auth.id)
    assert (status.pending, status.granted) == (False, False)


def test_cancel_is_idempotent_and_keeps_a_decided_request(api, toopher_sandbox, toopher_phone):
    pairing = paired(api, toopher_sandbox, toopher_phone)
    auth = api.authenticate(pairing.id, "my computer")
    toopher_sandbox.respond_authentication(auth.id, grant=True)
    kept = api.cancel_authentication_request(auth.id)
    assert (kept.pending, kept.granted, kept.raw["cancelled"]) == (False, True, False)
    assert api.cancel_authentication_request(auth.id).granted is True


def test_cancel_of_unknown_or_foreign_requests(api, toopher_sandbox, toopher_phone):
    pairing = paired(api, toopher_sandbox, toopher_phone)
    auth = api.authenticate(pairing.id, "my computer")
    with pytest.raises(toopher.ToopherApiError) as excinfo:
        api.cancel_authentication_request("00000000-0000-4000-8000-000000000000")
    assert excinfo.value.status_code == 404
    other = toopher_sandbox.new_requester(name="Other site")
    with toopher.ToopherApi(other["key"], other["secret"], api_url=other["api_url"]) as stranger:
        with pytest.raises(toopher.ToopherApiError) as excinfo:
            stranger.cancel_authentication_request(auth.id)
    assert excinfo.value.status_code == 403
    assert api.get_authentication_status(auth.id).pending is True


@pytest.mark.slow
def test_requests_expire_after_the_configured_time():
    with SandboxProcess(extra_args=("--request-expiry", "1")) as proc:
        control = SandboxControl(proc.base_url)
        phone = control.new_phone()
        with toopher.ToopherApi(proc.key, proc.secret, api_url=proc.api_url) as api:
            pairing = api.pair(phone["pairing_phrase"], "max")
            control.respond_pairing(pairing.id, allow=True)
            auth = api.authenticate(pairing.id, "my computer")
            assert control.pending(phone["phone_id"])["authentication_requests"]
            wait_until(  # the request expires after 1 s, not 300
                lambda: control.pending(phone["phone_id"])["authentication_requests"] == [],
                timeout=10,
            )
            with pytest.raises(SandboxError) as excinfo:
                control.respond_authentication(auth.id, grant=True)
            assert "expired" in excinfo.value.body["error_message"]
            page = phone_form_answer(control, phone["phone_id"], phone["phone_url"], auth.id)
            assert "has expired" in page
            status = api.get_authentication_status(auth.id)
            assert (status.pending, status.granted, status.reason) == (
                False, False, "Request expired"
            )
