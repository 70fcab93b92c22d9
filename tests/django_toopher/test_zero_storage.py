"""Zero-storage mode against the live sandbox: nothing kept but the signed terminal
cookie; 704 plain login, 705 pairing or plain login, 706 naming then retry, 707
re-pairing or refusal."""

from __future__ import annotations

import pytest
from django.test import Client

from django_toopher.internal.client import get_client
from django_toopher.internal.flows import pairing
from django_toopher.internal.flows.admin import set_enabled
from django_toopher.internal.modes import get_mode
from django_toopher.models import ConsumedRequest, Terminal, ToopherProfile
from django_toopher.session_keys import PENDING

from .helpers import approve, logged_in_pk, start_login, state, template_name

pytestmark = pytest.mark.django_db


@pytest.fixture
def zpaired(zero_conf, toopher_paired_user):
    return toopher_paired_user


def test_pairing_stores_nothing(zpaired):
    assert not ToopherProfile.objects.filter(pairing_id__isnull=False).exists()
    assert get_mode().is_paired(zpaired) is True


def test_unknown_terminal_asks_for_a_name_then_retries(
    client, zpaired, toopher_sandbox, toopher_phone, login, api_calls
):
    login(client, zpaired, "/private/")
    response = client.get("/toopher/pending/")
    assert template_name(response) == "django_toopher/name_terminal.html"  # 706
    tid = state(client)["terminal"]
    assert api_calls.count("authentication_requests/initiate") == 1
    response = client.post("/toopher/pending/terminal/", {"name": "Office PC"})
    assert response["Location"] == "/toopher/pending/"
    assert api_calls.count("user_terminals/create") == 1
    terminal = Terminal.objects.get(user=zpaired)
    assert terminal.requester_terminal_id == tid and terminal.name == "Office PC"
    response = client.get("/toopher/pending/")
    assert template_name(response) == "django_toopher/pending.html"
    assert api_calls.count("authentication_requests/initiate") == 2
    item = toopher_phone.wait_for_push(timeout=5)
    assert "Office PC" in str(item)
    data = approve(client, toopher_sandbox, toopher_phone)
    assert data["status"] == "granted" and data["redirect"] == "/private/"
    assert str(logged_in_pk(client)) == str(zpaired.pk)
    # Zero storage: still no pairing id anywhere; only the terminal row and the
    # single-use marker of the request (that no other marker, such as one naming the
    # pairing, is kept is test_zero_storage_keeps_no_pairing_marker below).
    assert not ToopherProfile.objects.filter(pairing_id__isnull=False).exists()
    assert ConsumedRequest.objects.filter(request_id=item["id"]).count() == 1
    assert ConsumedRequest.objects.exclude(request_id__startswith="pairing:").count() == 1


def test_zero_storage_keeps_no_pairing_marker(zpaired, toopher_phone):
    """Zero storage keeps no pairing id anywhere, not even in a single-use marker: the
    pairing's marker is a keyed hash of its id."""
    from django_toopher.internal.flows.pairing import claim_token

    assert list(ConsumedRequest.objects.values_list("request_id", flat=True)) == [
        claim_token(toopher_phone.pairing_id)
    ]
    assert not ConsumedRequest.objects.filter(
        request_id__contains=toopher_phone.pairing_id
    ).exists()


def test_named_browser_goes_straight_to_the_push(
    client, zpaired, toopher_sandbox, toopher_phone, api_calls
):
    start_login(client, zpaired)
    approve(client, toopher_sandbox, toopher_phone)
    client.post("/accounts/logout/")
    api_calls.reset()
    response = start_login(client, zpaired, terminal_name=None)
    assert template_name(response) == "django_toopher/pending.html"
    assert api_calls.count("authentication_requests/initiate") == 1
    assert api_calls.count("user_terminals/create") == 0


def test_another_browser_is_another_terminal(client, zpaired, toopher_sandbox, toopher_phone):
    start_login(client, zpaired, terminal_name="Laptop")
    approve(client, toopher_sandbox, toopher_phone)
    other = Client()
    response = start_login(other, zpaired, terminal_name=None)
    assert template_name(response) == "django_toopher/name_terminal.html"


def test_704_user_disabled_at_toopher_logs_in_plainly(client, zpaired, login):
    get_client().set_toopher_enabled_for_user(zpaired.get_username(), False)
    login(client, zpaired, "/private/")
    response = client.get("/toopher/pending/")
    assert response.status_code == 302 and response["Location"] == "/private/"
    assert str(logged_in_pk(client)) == str(zpaired.pk)


def test_705_unknown_user_logs_in_plainly_when_enrollment_is_optional(
    client, zero_conf, toopher_user, login
):
    login(client, toopher_user, "/private/")
    assert logged_in_pk(client) is None  # only Toopher knows: ask it first
    response = client.get("/toopher/pending/")
    assert response["Location"] == "/private/"
    assert str(logged_in_pk(client)) == str(toopher_user.pk)


def test_705_unknown_user_must_pair_when_enrollment_is_required(
    client, zero_conf, toopher_user, toopher_sandbox, toopher_phone, login
):
    zero_conf["REQUIRE_ENROLLMENT"] = True
    login(client, toopher_user)
    response = client.get("/toopher/pending/")
    assert template_name(response) == "django_toopher/pair_login.html"
    client.post("/toopher/pending/pair/", {"pairing_phrase": toopher_phone.pairing_phrase})
    pairing = toopher_sandbox.wait_for_pending(toopher_phone.phone_id, "pairings", timeout=5)
    toopher_sandbox.respond_pairing(pairing["id"], allow=True)
    assert client.get("/toopher/pending/status/").json()["redirect"] == "/toopher/pending/"
    response = client.get("/toopher/pending/")
    assert template_name(response) == "django_toopher/name_terminal.html"  # then 706
    client.post("/toopher/pending/terminal/", {"name": "Laptop"})
    client.get("/toopher/pending/")
    assert approve(client, toopher_sandbox, toopher_phone)["status"] == "granted"
    assert str(logged_in_pk(client)) == str(toopher_user.pk)
    assert not ToopherProfile.objects.filter(pairing_id__isnull=False).exists()


def test_707_deactivated_pairing_repairs(client, zpaired, toopher_sandbox, toopher_phone):
    start_login(client, zpaired)
    approve(client, toopher_sandbox, toopher_phone)
    client.post("/accounts/logout/")
    toopher_sandbox.deactivate_pairing(toopher_phone.pairing_id)
    response = start_login(client, zpaired, terminal_name=None)
    assert template_name(response) == "django_toopher/pair_login.html"
    assert response.context["repair"] is True


def test_707_refused_when_repair_is_not_allowed(
    client, zpaired, toopher_sandbox, toopher_phone, zero_conf
):
    zero_conf["ALLOW_REPAIR"] = False
    start_login(client, zpaired)
    approve(client, toopher_sandbox, toopher_phone)
    client.post("/accounts/logout/")
    toopher_sandbox.deactivate_pairing(toopher_phone.pairing_id)
    response = start_login(client, zpaired, terminal_name=None)
    assert response.status_code == 302 and response["Location"] == "/accounts/login/"
    assert PENDING not in client.session and logged_in_pk(client) is None


def test_zero_storage_denial(client, zpaired, toopher_sandbox, toopher_phone):
    start_login(client, zpaired)
    data = approve(client, toopher_sandbox, toopher_phone, grant=False)
    assert data["status"] == "denied"
    assert logged_in_pk(client) is None


def test_unpair_and_set_enabled_in_zero_storage(zpaired, toopher_sandbox):
    set_enabled(zpaired, False)
    assert ToopherProfile.objects.get(user=zpaired).enabled is False
    set_enabled(zpaired, True)
    pairing.unpair(zpaired)
    assert get_mode().is_paired(zpaired) is False
