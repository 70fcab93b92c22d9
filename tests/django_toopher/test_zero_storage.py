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

from .conftest import pending_push
from .helpers import approve, logged_in_pk, start_login, state, template_name

pytestmark = pytest.mark.django_db


@pytest.fixture
def zpaired(zero_conf, paired_user):
    return paired_user


def test_pairing_stores_nothing(zpaired):
    assert not ToopherProfile.objects.filter(pairing_id__isnull=False).exists()
    assert get_mode().is_paired(zpaired) is True


def test_unknown_terminal_asks_for_a_name_then_retries(
    client, zpaired, sandbox, phone, login, api_calls
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
    item = pending_push(sandbox, phone)
    assert "Office PC" in str(item)
    data = approve(client, sandbox, phone)
    assert data["status"] == "granted" and data["redirect"] == "/private/"
    assert str(logged_in_pk(client)) == str(zpaired.pk)
    # Zero storage: still no pairing id anywhere; only the terminal row and the
    # single-use marker of the request (that no other marker, such as one naming the
    # pairing, is kept is test_zero_storage_keeps_no_pairing_marker below).
    assert not ToopherProfile.objects.filter(pairing_id__isnull=False).exists()
    assert ConsumedRequest.objects.filter(request_id=item["id"]).count() == 1
    assert ConsumedRequest.objects.exclude(request_id__startswith="pairing:").count() == 1


def test_zero_storage_keeps_no_pairing_marker(zpaired):
    """Zero storage keeps no pairing id anywhere, not even in a single-use marker: the
    pairing's marker is a keyed hash of its id."""
    from django_toopher.internal.flows.pairing import claim_token

    assert list(ConsumedRequest.objects.values_list("request_id", flat=True)) == [
        claim_token(zpaired.pairing_id)
    ]
    assert not ConsumedRequest.objects.filter(request_id__contains=zpaired.pairing_id).exists()


def test_named_browser_goes_straight_to_the_push(client, zpaired, sandbox, phone, api_calls):
    start_login(client, zpaired)
    approve(client, sandbox, phone)
    client.post("/accounts/logout/")
    api_calls.reset()
    response = start_login(client, zpaired, terminal_name=None)
    assert template_name(response) == "django_toopher/pending.html"
    assert api_calls.count("authentication_requests/initiate") == 1
    assert api_calls.count("user_terminals/create") == 0


def test_another_browser_is_another_terminal(client, zpaired, sandbox, phone):
    start_login(client, zpaired, terminal_name="Laptop")
    approve(client, sandbox, phone)
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
    client, zero_conf, user, login
):
    login(client, user, "/private/")
    assert logged_in_pk(client) is None  # only Toopher knows: ask it first
    response = client.get("/toopher/pending/")
    assert response["Location"] == "/private/"
    assert str(logged_in_pk(client)) == str(user.pk)


def test_705_unknown_user_must_pair_when_enrollment_is_required(
    client, zero_conf, user, sandbox, phone, login
):
    zero_conf["REQUIRE_ENROLLMENT"] = True
    login(client, user)
    response = client.get("/toopher/pending/")
    assert template_name(response) == "django_toopher/pair_login.html"
    client.post("/toopher/pending/pair/", {"pairing_phrase": phone["pairing_phrase"]})
    pairing = sandbox.wait_for_pending(phone["phone_id"], "pairings", timeout=5)
    sandbox.respond_pairing(pairing["id"], allow=True)
    assert client.get("/toopher/pending/status/").json()["redirect"] == "/toopher/pending/"
    response = client.get("/toopher/pending/")
    assert template_name(response) == "django_toopher/name_terminal.html"  # then 706
    client.post("/toopher/pending/terminal/", {"name": "Laptop"})
    client.get("/toopher/pending/")
    assert approve(client, sandbox, phone)["status"] == "granted"
    assert str(logged_in_pk(client)) == str(user.pk)
    assert not ToopherProfile.objects.filter(pairing_id__isnull=False).exists()


def test_707_deactivated_pairing_repairs(client, zpaired, sandbox, phone):
    start_login(client, zpaired)
    approve(client, sandbox, phone)
    client.post("/accounts/logout/")
    sandbox.deactivate_pairing(zpaired.pairing_id)
    response = start_login(client, zpaired, terminal_name=None)
    assert template_name(response) == "django_toopher/pair_login.html"
    assert response.context["repair"] is True


def test_707_refused_when_repair_is_not_allowed(client, zpaired, sandbox, phone, zero_conf):
    zero_conf["ALLOW_REPAIR"] = False
    start_login(client, zpaired)
    approve(client, sandbox, phone)
    client.post("/accounts/logout/")
    sandbox.deactivate_pairing(zpaired.pairing_id)
    response = start_login(client, zpaired, terminal_name=None)
    assert response.status_code == 302 and response["Location"] == "/accounts/login/"
    assert PENDING not in client.session and logged_in_pk(client) is None


def test_zero_storage_denial(client, zpaired, sandbox, phone):
    start_login(client, zpaired)
    data = approve(client, sandbox, phone, grant=False)
    assert data["status"] == "denied"
    assert logged_in_pk(client) is None


def test_unpair_and_set_enabled_in_zero_storage(zpaired, sandbox):
    set_enabled(zpaired, False)
    assert ToopherProfile.objects.get(user=zpaired).enabled is False
    set_enabled(zpaired, True)
    pairing.unpair(zpaired)
    assert get_mode().is_paired(zpaired) is False
