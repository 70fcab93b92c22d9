"""Number matching: the code made at initiate, shown to the site, offered on the phone,
picked inside the signed decision; a wrong pick denies the request.
"""

from __future__ import annotations

import json
from collections import Counter
from typing import Any

import pytest
from django.core.cache import cache
from django.test import Client

from toopher_server import numbers, phones, service
from toopher_server.models import AuthenticationRequest, Requester, Terminal

from .calls import Frame, Site
from .device_client import (
    API,
    DeviceClient,
    authentication,
    enrolled,
    new_requester,
    paired,
    row,
)

pytestmark = [pytest.mark.django_db, pytest.mark.urls("tests.server.urls")]


@pytest.fixture(autouse=True)
def _fresh_rate_limits() -> None:
    cache.clear()


@pytest.fixture
def phone() -> DeviceClient:
    return enrolled()


def shown_on_phone(phone: DeviceClient, auth: AuthenticationRequest) -> dict[str, Any]:
    response = phone.call("GET", f"{API}/authentication_requests/{auth.id}")
    assert response.status_code == 200, response.content
    return dict(response.json())


# --- the codes ------------------------------------------------------------------------


def test_make_codes_gives_three_distinct_two_digit_numbers_one_of_them_the_code() -> None:
    seen_first = Counter()
    for _ in range(300):
        code, offered = numbers.make_codes()
        assert len(offered) == 3 and len(set(offered)) == 3
        assert code in offered
        assert all(len(c) == 2 and 10 <= int(c) <= 99 for c in offered)
        seen_first[offered.index(code)] += 1
    assert set(seen_first) == {0, 1, 2}  # the code is not always in the same place


def test_new_requesters_match_numbers() -> None:
    assert new_requester().number_matching is True


def test_the_code_is_made_at_initiate_and_shown_in_api_v1(client: Client) -> None:
    site = Site(client)
    _, pairing_id = site.paired("ann")
    answer = site.post("authentication_requests/initiate", pairing_id=pairing_id,
                       terminal_name="Firefox")  # fmt: skip
    assert answer.status_code == 200, answer.content
    shown = answer.json()
    auth = AuthenticationRequest.objects.get(pk=shown["id"])
    assert shown["verification_code"] == auth.verification_code
    assert auth.verification_code in auth.offered_codes.split()
    status = site.call("GET", f"authentication_requests/{shown['id']}").json()
    assert status["verification_code"] == auth.verification_code


def test_no_code_in_api_v1_when_number_matching_is_off(client: Client) -> None:
    site = Site(client)
    Requester.objects.filter(pk=site.requester.pk).update(number_matching=False)
    _, pairing_id = site.paired("ann")
    answer = site.post("authentication_requests/initiate", pairing_id=pairing_id,
                       terminal_name="Firefox")  # fmt: skip
    assert answer.status_code == 200, answer.content
    assert "verification_code" not in answer.json()
    assert AuthenticationRequest.objects.get(pk=answer.json()["id"]).verification_code == ""


def test_a_request_decided_by_otp_has_no_code(phone: DeviceClient) -> None:
    requester = new_requester()
    pairing = paired(requester, phone)
    terminal = Terminal.objects.create(user=pairing.user, name="Firefox")
    auth = service.start_authentication(requester, pairing, terminal, "Log in", otp="000000")
    assert auth.pending is False and auth.verification_code == ""


def test_the_phone_is_offered_the_same_three_numbers_on_every_fetch(phone: DeviceClient) -> None:
    requester = new_requester()
    auth = authentication(requester, paired(requester, phone))
    one = shown_on_phone(phone, auth)["codes"]
    listed = phone.call("GET", f"{API}/authentication_requests").json()["authentication_requests"]
    assert [r["codes"] for r in listed] == [one]
    assert shown_on_phone(phone, auth)["codes"] == one
    assert auth.verification_code in one and len(set(one)) == 3


def test_no_codes_on_the_phone_when_number_matching_is_off(phone: DeviceClient) -> None:
    requester = new_requester()
    Requester.objects.filter(pk=requester.pk).update(number_matching=False)
    requester.refresh_from_db()
    auth = authentication(requester, paired(requester, phone))
    assert shown_on_phone(phone, auth)["codes"] is None


# --- the decision ---------------------------------------------------------------------


def test_the_right_pick_grants(phone: DeviceClient) -> None:
    requester = new_requester()
    auth = authentication(requester, paired(requester, phone))
    response = phone.decide(auth, "allow", code=auth.verification_code)
    assert response.status_code == 200, response.content
    assert response.json()["state"] == "granted"
    assert AuthenticationRequest.objects.get(pk=auth.pk).granted is True


def test_a_wrong_pick_denies_and_the_site_sees_why(client: Client, phone: DeviceClient) -> None:
    site = Site(client)
    pairing = paired(site.requester, phone)
    answer = site.post("authentication_requests/initiate", pairing_id=str(pairing.id),
                       terminal_name="Firefox")  # fmt: skip
    auth = AuthenticationRequest.objects.select_related(
        "requester", "user", "action", "terminal"
    ).get(pk=answer.json()["id"])
    wrong = next(c for c in auth.offered_codes.split() if c != auth.verification_code)
    response = phone.decide(auth, "allow", code=wrong)
    assert response.status_code == 409
    assert response.json()["error"] == "wrong_code"
    status = site.call("GET", f"authentication_requests/{auth.id}").json()
    assert (status["pending"], status["granted"]) == (False, False)
    assert status["reason"] == numbers.WRONG_CODE_REASON
    # Denied for good: the right number afterwards changes nothing.
    again = phone.decide(auth, "allow", code=auth.verification_code)
    assert again.json()["error"] == "not_pending"
    assert AuthenticationRequest.objects.get(pk=auth.pk).granted is False


def test_a_number_that_was_not_offered_denies_too(phone: DeviceClient) -> None:
    requester = new_requester()
    auth = authentication(requester, paired(requester, phone))
    outside = next(str(n) for n in range(10, 100) if str(n) not in auth.offered_codes.split())
    assert phone.decide(auth, "allow", code=outside).json()["error"] == "wrong_code"
    assert AuthenticationRequest.objects.get(pk=auth.pk).granted is False


def test_allow_without_a_code_is_code_required_and_changes_nothing(phone: DeviceClient) -> None:
    requester = new_requester()
    auth = authentication(requester, paired(requester, phone))
    before = row(auth)
    response = phone.decide(auth, "allow", code=None)
    assert response.status_code == 409
    assert response.json()["error"] == "code_required"
    assert row(auth) == before


@pytest.mark.parametrize("decision", ["deny", "not_me"])
def test_deny_needs_no_code(phone: DeviceClient, decision: str) -> None:
    requester = new_requester()
    auth = authentication(requester, paired(requester, phone))
    response = phone.decide(auth, decision, code=None)
    assert response.status_code == 200, response.content
    assert response.json()["state"] == "denied"


def test_a_code_when_number_matching_is_off_is_a_mismatch(phone: DeviceClient) -> None:
    requester = new_requester()
    Requester.objects.filter(pk=requester.pk).update(number_matching=False)
    requester.refresh_from_db()
    auth = authentication(requester, paired(requester, phone))
    before = row(auth)
    response = phone.decide(auth, "allow", code="12")
    assert (response.status_code, response.json()["error"]) == (409, "mismatch")
    assert row(auth) == before
    assert phone.decide(auth, "allow", code=None).json()["state"] == "granted"


def test_the_picked_number_cannot_be_swapped_after_signing(phone: DeviceClient) -> None:
    """A wrong pick, signed, then the body changed to the right number: the signature
    covers the body, so the call is refused and the request stays pending."""
    requester = new_requester()
    auth = authentication(requester, paired(requester, phone))
    wrong = next(c for c in auth.offered_codes.split() if c != auth.verification_code)
    path = f"{API}/authentication_requests/{auth.id}/decision"
    signed_body = phone.decision_body(auth, "allow", code=wrong)
    headers = phone.device.headers_for("POST", path, signed_body)
    swapped = json.dumps(
        {**json.loads(signed_body), "code": auth.verification_code},
        sort_keys=True, separators=(",", ":"), ensure_ascii=False,
    ).encode()  # fmt: skip
    before = row(auth)
    response = phone.call("POST", path, swapped, sign=False, headers=headers)
    assert (response.status_code, response.json()["error"]) == (401, "bad_signature")
    assert row(auth) == before


def test_automation_is_unaffected(phone: DeviceClient) -> None:
    """A remembered answer decides at once: no number to pick."""
    requester = new_requester()
    pairing = paired(requester, phone)
    auth = authentication(requester, pairing)
    assert phone.decide(auth, "allow").status_code == 200
    phones.set_automation(pairing, auth.terminal, auth.action, True)
    terminal = Terminal.objects.get(pk=auth.terminal_id)
    again = service.start_authentication(requester, pairing, terminal, "Log in")
    assert (again.pending, again.granted, again.automated) == (False, True, True)
    assert again.verification_code == ""


def test_the_iframe_shows_the_code_while_it_waits(client: Client) -> None:
    site = Site(client)
    site.paired("iris")
    frame = Frame(client)
    assert frame.open(site.iframe().get_authentication_url("iris", terminal_name="d")) == (
        "wait_auth")
    code = AuthenticationRequest.objects.get().verification_code
    assert f'data-code="{code}"' in frame.page
    assert f'<strong class="code">{code}</strong>' in frame.page


# --- the requester setting --------------------------------------------------------------


@pytest.mark.urls("tests.urls")
def test_the_admin_turns_number_matching_off_and_on(admin_client: Client) -> None:
    requester = new_requester("Admin shop")
    url = f"/admin/toopher_server/requester/{requester.pk}/change/"
    assert 'name="number_matching"' in admin_client.get(url).content.decode()
    answer = admin_client.post(url, {"name": "Admin shop"})  # the box unticked
    assert answer.status_code == 302, answer.content
    requester.refresh_from_db()
    assert requester.number_matching is False
    admin_client.post(url, {"name": "Admin shop", "number_matching": "on"})
    requester.refresh_from_db()
    assert requester.number_matching is True


@pytest.mark.django_db(transaction=True)
def test_the_migration_leaves_existing_requesters_without_number_matching() -> None:
    """Their sites were built before the code existed: the migration keeps it off."""
    from django.db import connection
    from django.db.migrations.executor import MigrationExecutor

    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    (mine,) = [key for key in executor.loader.graph.nodes
               if key[0] == "toopher_server" and key[1].endswith("_number_matching")]  # fmt: skip
    before = executor.loader.graph.node_map[mine].parents
    executor.migrate([parent.key for parent in before])
    old = executor.loader.project_state([parent.key for parent in before]).apps
    old.get_model("toopher_server", "Requester").objects.create(
        name="Old", key="old-number-key", secret_sealed="x"
    )
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(executor.loader.graph.leaf_nodes())
    assert Requester.objects.get(key="old-number-key").number_matching is False
    assert new_requester("New").number_matching is True
