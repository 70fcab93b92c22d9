"""The JSON login's and re-authentication's limits are settings (``LOGIN_RATE_LIMIT``,
``REAUTH_RATE_LIMIT`` and their windows), validated with the others."""

from __future__ import annotations

import pytest
from django.core.checks import run_checks

from django_toopher.testing import PASSWORD


def test_the_json_login_stops_at_login_rate_limit(api, toopher_user, settings):
    settings.TOOPHER = {**settings.TOOPHER, "LOGIN_RATE_LIMIT": 2}
    for _ in range(2):
        assert api.post("login", {"username": "alice", "password": "nope"}).json()[
            "error"]["code"] == "invalid_credentials"
    refused = api.post("login", {"username": "alice", "password": PASSWORD})
    assert refused.status_code == 429 and refused.json()["error"]["code"] == "rate_limited"
    assert api.get("session").json()["data"]["user"] is None


def test_reauthentication_stops_at_reauth_rate_limit(api, toopher_user, settings):
    settings.TOOPHER = {**settings.TOOPHER, "REAUTH_RATE_LIMIT": 2}
    api.post("login", {"username": "alice", "password": PASSWORD})  # not paired: plain
    for _ in range(2):
        assert api.post("account/reauthenticate", {"password": "nope"}).status_code in (400,
                                                                                          429)
    right = api.post("account/reauthenticate", {"password": PASSWORD})
    assert right.json()["error"]["code"] == "rate_limited"


@pytest.mark.parametrize("name", ["LOGIN_RATE_LIMIT", "LOGIN_RATE_WINDOW",
                                  "REAUTH_RATE_LIMIT", "REAUTH_RATE_WINDOW"])
@pytest.mark.parametrize("value", [0, -1, "5", True])
def test_the_limits_are_checked_like_the_others(settings, name, value):
    settings.TOOPHER = {**settings.TOOPHER, name: value}
    found = [m for m in run_checks() if name in m.msg]
    assert [m.id for m in found] == ["django_toopher.E006"]
