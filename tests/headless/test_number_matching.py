"""Number matching in the JSON API: the pending object carries ``verification_code``
(validated against the OpenAPI document by the harness, as every exchange)."""

from __future__ import annotations

from django_toopher.testing import PASSWORD

from ..waiting import wait_until


def test_the_pending_object_carries_the_code(
    api, toopher_paired_user, toopher_sandbox, toopher_phone
):
    data = api.post("login", {"username": toopher_paired_user.get_username(),
                              "password": PASSWORD}).json()["data"]
    assert data["pending"]["verification_code"] is None  # no push yet
    api.post("pending/start")
    api.post("pending/terminal", {"name": "Work laptop"})
    pushed = api.post("pending/start").json()["data"]["pending"]
    item = toopher_phone.wait_for_push(timeout=5)
    assert pushed["step"] == "pushed"
    assert pushed["verification_code"] == item["verification_code"]
    assert pushed["verification_code"] in item["codes"]
    polled = api.get("pending/status").json()["data"]["pending"]
    assert polled["verification_code"] == item["verification_code"]
    assert api.get("session").json()["data"]["pending"]["verification_code"] == (
        item["verification_code"])
    toopher_sandbox.respond_authentication(item["id"], grant=True,
                                           code=item["verification_code"])
    done = wait_until(lambda: granted(api), timeout=10)
    assert done["verification_code"] is None


def granted(api) -> dict | None:
    """The pending object once a poll sees the grant (Toopher is asked once a second)."""
    pending = api.get("pending/status").json()["data"]["pending"]
    return pending if pending["status"] == "granted" else None
