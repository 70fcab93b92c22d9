"""Number matching in the sandbox: the phone simulator offers the three numbers instead
of Allow, and the control API's approve takes an optional code."""

from __future__ import annotations

import json
import re

import pytest
from django.test import Client
from django.test.utils import override_settings

from toopher_server import numbers
from toopher_server.models import AuthenticationRequest, Requester
from toopher_server.requesters import ensure_requester

from .test_inprocess import csrf_of, new_phone_with_phrase, pending_auth

pytestmark = pytest.mark.django_db

TOKEN = "number-matching-token-1234"


@pytest.fixture
def creds():
    ensure_requester("numbers-key", "numbers-secret", "Numbers site")
    return ("numbers-key", "numbers-secret")


def pending(creds) -> tuple[object, AuthenticationRequest]:
    phone, phrase = new_phone_with_phrase()
    _, auth = pending_auth(Client(), creds, phone, phrase)
    return phone, AuthenticationRequest.objects.get(id=auth["id"])


def wrong_code(auth: AuthenticationRequest) -> str:
    return next(c for c in auth.offered_codes.split() if c != auth.verification_code)


def control(client: Client, path: str, body: dict) -> object:
    with override_settings(TOOPHER_SANDBOX_CONTROL_TOKEN=TOKEN):
        return client.post(f"/sandbox/control/{path}", json.dumps(body),
                           content_type="application/json", headers={"X-Sandbox-Token": TOKEN})


# --- the phone simulator ----------------------------------------------------------------


def test_the_simulator_offers_three_numbers_instead_of_allow(creds):
    phone, auth = pending(creds)
    html = Client().get(f"/sandbox/phone/{phone.id}/").content.decode()
    card = html[html.index("Change email?"):]
    card = card[:card.index("</article>")]
    shown = re.findall(r'data-code="(\d\d)"', card)
    assert shown == auth.offered_codes.split() and auth.verification_code in shown
    assert 'value="allow"' not in card and 'value="deny"' in card


def test_the_right_number_on_the_simulator_grants(creds):
    phone, auth = pending(creds)
    browser = Client(enforce_csrf_checks=True)
    page = browser.get(f"/sandbox/phone/{phone.id}/")
    answer = browser.post(f"/sandbox/phone/{phone.id}/requests/{auth.id}/respond",
                          {"code": auth.verification_code, "csrfmiddlewaretoken": csrf_of(page)})
    assert answer.status_code == 302
    auth.refresh_from_db()
    assert (auth.pending, auth.granted) == (False, True)
    assert b"Request allowed." in browser.get(answer["Location"]).content


def test_a_wrong_number_on_the_simulator_denies(creds):
    phone, auth = pending(creds)
    browser = Client()
    answer = browser.post(f"/sandbox/phone/{phone.id}/requests/{auth.id}/respond",
                          {"code": wrong_code(auth), "automate": "on"})
    auth.refresh_from_db()
    assert (auth.pending, auth.granted, auth.reason) == (False, False, numbers.WRONG_CODE_REASON)
    assert not auth.pairing.automations.exists()  # a wrong pick is never remembered
    assert b"Wrong number" in browser.get(answer["Location"]).content


def test_allow_without_a_number_on_the_simulator_changes_nothing(creds):
    phone, auth = pending(creds)
    Client().post(f"/sandbox/phone/{phone.id}/requests/{auth.id}/respond", {"answer": "allow"})
    auth.refresh_from_db()
    assert auth.pending is True


def test_the_simulator_shows_allow_when_number_matching_is_off(creds):
    Requester.objects.filter(key=creds[0]).update(number_matching=False)
    phone, auth = pending(creds)
    html = Client().get(f"/sandbox/phone/{phone.id}/").content.decode()
    assert "data-code=" not in html and 'value="allow"' in html
    Client().post(f"/sandbox/phone/{phone.id}/requests/{auth.id}/respond", {"answer": "allow"})
    auth.refresh_from_db()
    assert (auth.pending, auth.granted) == (False, True)


# --- the control API --------------------------------------------------------------------


def test_the_control_api_lists_the_codes(client, creds):
    phone, auth = pending(creds)
    with override_settings(TOOPHER_SANDBOX_CONTROL_TOKEN=TOKEN):
        listed = client.get(f"/sandbox/control/phones/{phone.id}/requests",
                            headers={"X-Sandbox-Token": TOKEN}).json()
    (item,) = listed["authentication_requests"]
    assert item["codes"] == auth.offered_codes.split()
    assert item["verification_code"] == auth.verification_code


def test_the_control_api_approves_without_a_code(client, creds):
    """A development tool: grant without a code approves even with number matching."""
    _, auth = pending(creds)
    answer = control(client, f"authentication_requests/{auth.id}/respond", {"grant": True})
    assert answer.status_code == 200, answer.content
    assert answer.json()["granted"] is True


def test_the_control_api_checks_a_given_code(client, creds):
    _, right = pending(creds)
    path = f"authentication_requests/{right.id}/respond"
    assert control(client, path, {"grant": True, "code": right.verification_code}
                   ).json()["granted"] is True
    _, wrong = pending(creds)
    answer = control(client, f"authentication_requests/{wrong.id}/respond",
                     {"grant": True, "code": wrong_code(wrong)}).json()
    assert (answer["pending"], answer["granted"]) == (False, False)
    assert answer["reason"] == numbers.WRONG_CODE_REASON


def test_the_control_api_refuses_a_code_where_none_is_offered(client, creds):
    Requester.objects.filter(key=creds[0]).update(number_matching=False)
    _, auth = pending(creds)
    answer = control(client, f"authentication_requests/{auth.id}/respond",
                     {"grant": True, "code": "42"})
    assert answer.status_code == 400
    auth.refresh_from_db()
    assert auth.pending is True
