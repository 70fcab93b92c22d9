"""Step-up and the security page's data through the JSON API, by both client kinds."""

from __future__ import annotations

from django_toopher.models import AuditEvent, Terminal, ToopherProfile
from django_toopher.testing import PASSWORD


def _logged_in(api, user, sandbox, phone, name="Work laptop"):
    api.post("login", {"username": user.get_username(), "password": PASSWORD})
    api.post("pending/start")
    if api.get("session").json()["data"]["pending"]["step"] == "name_terminal":
        api.post("pending/terminal", {"name": name})
        api.post("pending/start")
    sandbox.respond_authentication(phone.wait_for_push(timeout=5)["id"], grant=True)
    assert api.get("pending/status").json()["data"]["pending"]["status"] == "granted"


def test_a_step_up_begins_polls_and_results(
    api, toopher_paired_user, toopher_sandbox, toopher_phone
):
    _logged_in(api, toopher_paired_user, toopher_sandbox, toopher_phone)
    response = api.post("actions/begin", {"action": "Change email"})
    assert response.status_code == 403
    body = response.json()
    assert body["error"]["code"] == "approval_required"
    assert body["data"]["pending"]["kind"] == "action"
    assert api.get("actions/result", action="Change email").json()["data"]["approved"] is False
    assert api.post("pending/start").json()["data"]["pending"]["step"] == "pushed"
    item = toopher_phone.wait_for_push(timeout=5)
    assert item["action_name"] == "Change email" and item["automation_allowed"] is False
    toopher_sandbox.respond_authentication(item["id"], grant=True)
    assert api.get("pending/status").json()["data"]["pending"]["status"] == "granted"
    assert api.get("actions/result", action="Change email").json()["data"]["approved"] is True
    assert api.post("actions/begin", {"action": "Change email"}).json()["data"] == {
        "action": "Change email", "approved": True}
    # still logged in as before
    assert api.get("session").json()["data"]["user"]["username"] == "alice"


def test_a_step_up_needs_a_login(api, db):
    assert api.post("actions/begin", {"action": "X"}).json()["error"]["code"] == \
        "not_authenticated"
    assert api.post("actions/begin", {"action": ""}).json()["error"]["code"] == "invalid_input"


def test_the_security_data_terminals_and_unpairing(
    api, toopher_paired_user, toopher_sandbox, toopher_phone
):
    _logged_in(api, toopher_paired_user, toopher_sandbox, toopher_phone)
    account = api.get("account").json()["data"]
    assert account["paired"] is True and account["recently_authenticated"] is True
    [terminal] = account["terminals"]
    assert terminal["name"] == "Work laptop" and terminal["current"] is True
    renamed = api.post(f"account/terminals/{terminal['id']}/rename", {"name": "Desk"})
    assert renamed.json()["data"]["terminal"]["name"] == "Desk"
    bad = api.post(f"account/terminals/{terminal['id']}/rename", {"name": "a\x07b"})
    assert bad.json()["error"]["code"] == "invalid_input"
    assert api.post("account/terminals/999999/forget").json()["error"]["code"] == "not_found"
    # unpairing needs a fresh approval of "Remove pairing"
    response = api.post("account/unpair", {"end_other_sessions": False})
    assert response.json()["error"]["code"] == "approval_required"
    api.post("pending/start")
    item = toopher_phone.wait_for_push(timeout=5)
    assert item["action_name"] == "Remove pairing"
    toopher_sandbox.respond_authentication(item["id"], grant=True)
    api.get("pending/status")
    response = api.post("account/unpair", {"end_other_sessions": False})
    assert response.status_code == 200
    assert not ToopherProfile.objects.filter(
        user=toopher_paired_user, pairing_id__isnull=False
    ).exists()
    assert not Terminal.objects.filter(user=toopher_paired_user).exists()
    assert AuditEvent.objects.filter(user=toopher_paired_user, kind="unpaired").count() == 1


def test_pairing_on_the_security_page(
    api, toopher_user, toopher_sandbox, toopher_phone, toopher_settings
):
    api.post("login", {"username": "alice", "password": PASSWORD})  # not paired: plain login
    assert api.get("session").json()["data"]["user"]["username"] == "alice"
    bad = api.post("account/pair", {"pairing_phrase": "x1"})
    assert bad.json()["error"]["code"] == "invalid_input"
    started = api.post("account/pair", {"pairing_phrase": toopher_phone.pairing_phrase})
    assert started.json()["data"]["pairing"]["status"] == "pending"
    again = api.post("account/pair", {"pairing_phrase": toopher_phone.pairing_phrase})
    assert again.json()["error"]["code"] == "conflict"
    item = toopher_sandbox.wait_for_pending(toopher_phone.phone_id, "pairings", timeout=5)
    toopher_sandbox.respond_pairing(item["id"], allow=True)
    status = api.get("account/pair/status").json()["data"]
    assert status["pairing"]["status"] == "paired" and status["account"]["paired"] is True


def test_a_qr_pairing_serves_its_image(api, toopher_user, toopher_sandbox, toopher_settings):
    api.post("login", {"username": "alice", "password": PASSWORD})
    assert api.post("account/pair", {"use_qr": True}).status_code == 200
    assert api.get("account/pair/qr").content.startswith(b"\x89PNG")
    assert api.post("account/pair/cancel").json()["data"]["pairing"] is None
    assert api.get("account/pair/qr").json()["error"]["code"] == "not_found"


def test_changes_need_a_recent_authentication(
    api, toopher_paired_user, toopher_sandbox, toopher_phone, toopher_settings
):
    _logged_in(api, toopher_paired_user, toopher_sandbox, toopher_phone)
    toopher_settings["REAUTH_AGE"] = 1
    import time

    time.sleep(1.1)
    assert api.post("account/pair", {"use_qr": True}).json()["error"]["code"] == \
        "reauthentication_required"
    wrong = api.post("account/reauthenticate", {"password": "nope"})
    assert wrong.json()["error"]["code"] == "invalid_input"
    right = api.post("account/reauthenticate", {"password": PASSWORD})
    assert right.json()["data"]["recently_authenticated"] is True
    assert api.get("account/terminals").status_code == 200


def test_login_time_pairing(api, toopher_user, toopher_sandbox, toopher_phone, toopher_settings):
    toopher_settings["REQUIRE_ENROLLMENT"] = True
    api.post("login", {"username": "alice", "password": PASSWORD})
    assert api.post("pending/start").json()["data"]["pending"]["step"] == "pair"
    refused = api.post("pending/pair", {"pairing_phrase": "no such phrase"})
    assert refused.json()["error"]["code"] == "refused"
    response = api.post("pending/pair", {"pairing_phrase": toopher_phone.pairing_phrase})
    assert response.json()["data"]["pending"]["step"] == "pairing"
    toopher_sandbox.respond_pairing(
        toopher_sandbox.wait_for_pending(toopher_phone.phone_id, "pairings")["id"]
    )
    assert api.get("pending/status").json()["data"]["pending"]["step"] == "start"
    assert api.post("pending/start").json()["data"]["pending"]["step"] == "name_terminal"
    api.post("pending/terminal", {"name": "Laptop"})
    api.post("pending/start")
    toopher_sandbox.respond_authentication(toopher_phone.wait_for_push(timeout=5)["id"], grant=True)
    assert api.get("pending/status").json()["data"]["pending"]["status"] == "granted"


def test_wrong_passwords_on_reentry_are_counted(
    api, toopher_paired_user, toopher_sandbox, toopher_phone
):
    """The JSON re-entry shares the HTML page's limit: after five wrong passwords even
    the right one is refused for a while."""
    _logged_in(api, toopher_paired_user, toopher_sandbox, toopher_phone)
    for _ in range(5):
        assert api.post("account/reauthenticate", {"password": "nope"}).status_code in (400,
                                                                                          429)
    response = api.post("account/reauthenticate", {"password": PASSWORD})
    assert response.json()["error"]["code"] == "rate_limited"


def test_a_sites_own_view_with_the_json_step_up(
    app_api, toopher_paired_user, toopher_sandbox, toopher_phone
):
    """tests/testapp's ``api/change-email`` uses token_session + api_toopher_required."""
    _logged_in(app_api, toopher_paired_user, toopher_sandbox, toopher_phone)
    headers = {"X-Session-Token": app_api.session_token}
    response = app_api.http.post("/api/change-email/", "{}", content_type="application/json",
                                 headers=headers)
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "approval_required"
    app_api.post("pending/start")
    toopher_sandbox.respond_authentication(toopher_phone.wait_for_push(timeout=5)["id"], grant=True)
    assert app_api.get("pending/status").json()["data"]["pending"]["status"] == "granted"
    headers = {"X-Session-Token": app_api.session_token}
    response = app_api.http.post("/api/change-email/", "{}", content_type="application/json",
                                 headers=headers)
    assert response.status_code == 200 and response.json()["changed"] is True
    assert response.json()["meta"]["session_token"] == app_api.session_token
    assert not response.cookies
