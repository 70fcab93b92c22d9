"""The control API and the fixtures, against the live sandbox."""

import pytest
import requests
from requests_oauthlib import OAuth1

from toopher_sandbox.testing import SandboxError


def api_post(requester, path, **data):
    auth = OAuth1(requester["key"], requester["secret"])
    return requests.post(f"{requester['api_url']}/{path}", data=data, auth=auth, timeout=10)


def api_get(requester, path, **params):
    auth = OAuth1(requester["key"], requester["secret"])
    return requests.get(f"{requester['api_url']}/{path}", params=params, auth=auth, timeout=10)


def test_fixtures_give_fresh_credentials(toopher_sandbox, toopher_requester, toopher_phone):
    assert toopher_requester["api_url"] == toopher_sandbox.api_url
    assert toopher_requester["key"] and toopher_requester["secret"]
    other = toopher_sandbox.new_requester()
    assert other["key"] != toopher_requester["key"]
    words = toopher_phone.pairing_phrase.split()
    assert len(words) == 2 and all(w.isalpha() for w in words)
    assert toopher_sandbox.pending(toopher_phone.phone_id) == {
        "pairings": [],
        "authentication_requests": [],
    }


def test_pair_and_authenticate_through_control_api(
    toopher_sandbox, toopher_requester, toopher_phone
):
    response = api_post(
        toopher_requester,
        "pairings/create",
        pairing_phrase=toopher_phone.pairing_phrase,
        user_name="ann",
    )
    assert response.status_code == 200, response.text
    pairing = response.json()
    assert (pairing["pending"], pairing["enabled"]) == (True, False)
    pending = toopher_sandbox.wait_for_pending(toopher_phone.phone_id, kind="pairings")
    assert pending["id"] == pairing["id"] and pending["user_name"] == "ann"
    toopher_sandbox.respond_pairing(pairing["id"], allow=True)
    assert api_get(toopher_requester, f"pairings/{pairing['id']}").json()["enabled"] is True

    auth = api_post(
        toopher_requester, "authentication_requests/initiate", pairing_id=pairing["id"],
        terminal_name="my computer", action_name="Log in",
    ).json()
    assert auth["pending"] is True
    shown = toopher_sandbox.wait_for_pending(toopher_phone.phone_id)
    assert shown["id"] == auth["id"]
    assert (shown["terminal_name"], shown["action_name"]) == ("my computer", "Log in")
    toopher_sandbox.respond_authentication(auth["id"], grant=False, reason="not me")
    final = api_get(toopher_requester, f"authentication_requests/{auth['id']}").json()
    assert (final["pending"], final["granted"], final["reason"]) == (False, False, "not me")
    assert toopher_sandbox.pending(toopher_phone.phone_id)["authentication_requests"] == []


def test_responding_twice_is_a_conflict(toopher_sandbox, toopher_requester, toopher_phone):
    pairing = api_post(
        toopher_requester,
        "pairings/create",
        pairing_phrase=toopher_phone.pairing_phrase,
        user_name="bob",
    ).json()
    toopher_sandbox.respond_pairing(pairing["id"], allow=False)
    with pytest.raises(SandboxError) as excinfo:
        toopher_sandbox.respond_pairing(pairing["id"], allow=True)
    assert excinfo.value.status_code == 409
    assert api_get(toopher_requester, f"pairings/{pairing['id']}").json()["enabled"] is False


def test_otp_is_six_digits_and_changes_nothing(toopher_sandbox, toopher_requester, toopher_phone):
    pairing = api_post(
        toopher_requester,
        "pairings/create",
        pairing_phrase=toopher_phone.pairing_phrase,
        user_name="cy",
    ).json()
    otp = toopher_sandbox.otp(pairing["id"])
    assert len(otp) == 6 and otp.isdigit()


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("pairings/{pid}/respond", {"allow": "yes"}),
        ("pairings/{pid}/respond", {}),
        ("authentication_requests/{pid}/respond", {"grant": 1}),
        ("faults", {"latency_ms": "slow"}),
        ("faults", {"status": 42}),
        ("faults", {"rate": 2}),
        ("faults", {"malformed": "true"}),
    ],
)
def test_control_rejects_wrong_types(toopher_sandbox, toopher_requester, toopher_phone, path, body):
    pairing = api_post(
        toopher_requester,
        "pairings/create",
        pairing_phrase=toopher_phone.pairing_phrase,
        user_name="dee",
    ).json()
    url = f"{toopher_sandbox.control_url}/{path.format(pid=pairing['id'])}"
    response = toopher_sandbox.session.post(url, json=body, timeout=10)
    assert response.status_code in (400, 404)
    assert isinstance(response.json()["error_code"], int)
    assert api_get(toopher_requester, f"pairings/{pairing['id']}").json()["pending"] is True


@pytest.mark.parametrize(
    "raw",
    [b"{not json", b"[1, 2]", b"\xff\xfe\x00", b'"text"'],
)
def test_control_rejects_bad_bodies(toopher_sandbox, raw):
    response = toopher_sandbox.session.post(
        f"{toopher_sandbox.control_url}/faults", data=raw,
        headers={"Content-Type": "application/json"}, timeout=10,
    )
    assert response.status_code == 400
    assert response.json()["error_code"] == 400


def test_control_unknown_ids_are_404(toopher_sandbox):
    for method, path in [
        ("GET", "phones/not-a-uuid/requests"),
        ("GET", "phones/00000000-0000-4000-8000-000000000000/requests"),
        ("POST", "pairings/00000000-0000-4000-8000-000000000000/deactivate"),
        ("GET", "pairings/nope/otp"),
        ("POST", "authentication_requests/00000000-0000-4000-8000-000000000000/respond"),
    ]:
        response = toopher_sandbox.session.request(
            method, f"{toopher_sandbox.control_url}/{path}", json={}, timeout=10
        )
        assert response.status_code == 404, path
        assert response.json()["error_code"] == 404


def test_control_wrong_method_is_405(toopher_sandbox):
    response = requests.get(f"{toopher_sandbox.control_url}/requesters", timeout=10)
    assert response.status_code == 405
    assert response.json()["error_code"] == 405


def test_a_changed_secret_takes_effect_at_once(toopher_sandbox):
    """The standalone server keeps requesters in memory: a change must reach it at once."""
    import toopher

    first = toopher_sandbox.new_requester(key="rotating-key", secret="first-secret")
    with toopher.ToopherApi(first["key"], "first-secret", api_url=first["api_url"]) as api:
        api.create_user("before the change")
        toopher_sandbox.new_requester(key="rotating-key", secret="second-secret")
        with pytest.raises(toopher.ToopherApiError) as excinfo:
            api.create_user("with the old secret")
        assert excinfo.value.status_code == 401
    with toopher.ToopherApi(first["key"], "second-secret", api_url=first["api_url"]) as api:
        assert api.create_user("with the new secret").name == "with the new secret"
