"""A lost phone through the JSON API, by both client kinds: a recovery code, a new set
of codes after a fresh approval, and the reset link by email (zero-storage mode)."""

from __future__ import annotations

import re

import pytest
from django.core import mail

from django_toopher.internal import recovery_codes
from django_toopher.internal.flows import reset
from django_toopher.internal.modes import get_mode
from django_toopher.models import AuditEvent
from django_toopher.testing import PASSWORD


@pytest.fixture
def quick(monkeypatch):
    monkeypatch.setattr(reset, "ANSWER_SECONDS", 0.05)


def _password(api, user):
    return api.post("login", {"username": user.get_username(), "password": PASSWORD})


def _error(response):
    return response.json()["error"]["code"]


def test_a_recovery_code_ends_the_pending_login_once(api, toopher_paired_user):
    codes = recovery_codes.generate(toopher_paired_user)
    _password(api, toopher_paired_user)
    response = api.post("pending/recovery-code", {"code": "AAAAA-AAAAA-AAAAA-AAAAA"})
    assert response.status_code == 400 and _error(response) == "invalid_recovery_code"
    assert "4 more times" in response.json()["error"]["message"]
    assert response.json()["data"]["pending"]["final"] is False
    response = api.post("pending/recovery-code", {"code": "not a code"})
    assert _error(response) == "invalid_input"
    response = api.post("pending/recovery-code", {"code": codes[0]})
    body = response.json()["data"]
    assert body["pending"]["status"] == "granted"
    assert body["user"]["username"] == toopher_paired_user.get_username()
    assert "9 codes are left" in body["pending"]["message"]
    assert (
        AuditEvent.objects.filter(user=toopher_paired_user, kind="recovery_code_used").count() == 1
    )
    api.post("logout")
    _password(api, toopher_paired_user)
    response = api.post("pending/recovery-code", {"code": codes[0]})
    assert _error(response) == "invalid_recovery_code"


def _login(api, user, sandbox, phone):
    _password(api, user)
    api.post("pending/start")
    api.post("pending/terminal", {"name": "Work laptop"})
    api.post("pending/start")
    sandbox.respond_authentication(phone.wait_for_push(timeout=5)["id"], grant=True)
    assert api.get("pending/status").json()["data"]["pending"]["status"] == "granted"


def test_a_new_set_of_codes_needs_a_fresh_approval(
    api, toopher_paired_user, toopher_sandbox, toopher_phone
):
    assert _error(api.get("account/recovery-codes")) == "not_authenticated"
    _login(api, toopher_paired_user, toopher_sandbox, toopher_phone)
    assert api.get("account/recovery-codes").json()["data"] == {
        "remaining": 0, "generated_at": None}
    response = api.post("account/recovery-codes/new")
    assert _error(response) == "approval_required"
    assert response.json()["data"]["pending"]["action"] == "Generate recovery codes"
    api.post("pending/start")
    toopher_sandbox.respond_authentication(toopher_phone.wait_for_push(timeout=5)["id"], grant=True)
    assert api.get("pending/status").json()["data"]["pending"]["status"] == "granted"
    body = api.post("account/recovery-codes/new").json()["data"]
    assert len(body["codes"]) == 10 and body["remaining"] == 10
    assert recovery_codes.use(toopher_paired_user, body["codes"][0])
    assert api.get("account/recovery-codes").json()["data"]["remaining"] == 9


def test_the_reset_link_by_email(api, zero_conf, toopher_paired_user, quick):
    _password(api, toopher_paired_user)
    response = api.post("pending/reset-email")
    assert response.status_code == 200
    assert "on its way" in response.json()["data"]["pending"]["message"]
    token = re.search(r"/pending/reset/([^/\s]+)/", mail.outbox[-1].body).group(1)
    assert _error(api.post("pending/reset", {"token": token[:-3] + "xyz"})) == "invalid_link"
    assert _error(api.post("pending/reset", {"token": ["a list"]})) == "invalid_input"
    response = api.post("pending/reset", {"token": token})
    assert response.json()["data"]["pending"]["status"] == "granted"
    assert not get_mode().is_paired(toopher_paired_user)
    assert AuditEvent.objects.filter(user=toopher_paired_user, kind="reset_by_email").count() == 1


def test_without_a_pending_login_there_is_nothing_to_recover(api, quick):
    for path, data in (("pending/recovery-code", {"code": "AAAAA-AAAAA-AAAAA-AAAAA"}),
                       ("pending/reset-email", None), ("pending/reset", {"token": "x"})):
        assert _error(api.post(path, data)) == "no_pending_login"


def test_the_browser_kind_is_csrf_checked(browser_api, toopher_paired_user):
    codes = recovery_codes.generate(toopher_paired_user)
    _password(browser_api, toopher_paired_user)
    del browser_api.http.cookies["csrftoken"]
    response = browser_api.post("pending/recovery-code", {"code": codes[0]})
    assert _error(response) == "csrf_failed"
    assert recovery_codes.remaining(toopher_paired_user) == 10
