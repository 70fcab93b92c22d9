"""What a login needs and what a step-up decided are enums, like Step and Status (and
still equal to the strings they replaced)."""

from __future__ import annotations

from django.contrib.auth.models import AnonymousUser
from django.contrib.sessions.backends.db import SessionStore
from django.test import RequestFactory

from django_toopher.internal.flows import actions
from django_toopher.internal.flows.actions import Verdict
from django_toopher.internal.modes import MODES, Requirement


def test_what_a_login_needs(toopher_user, settings):
    settings.TOOPHER = {**settings.TOOPHER, "REQUIRE_ENROLLMENT": False}
    assert MODES["stored"].login_requirement(toopher_user) is None
    settings.TOOPHER = {**settings.TOOPHER, "REQUIRE_ENROLLMENT": True}
    assert MODES["stored"].login_requirement(toopher_user) is Requirement.PAIR
    assert MODES["zero_storage"].login_requirement(toopher_user) is Requirement.APPROVE
    assert Requirement.APPROVE == "approve"


def _request(user):
    request = RequestFactory().get("/change-email/")
    request.session = SessionStore()
    request.user = user
    return request


def test_what_a_step_up_decided(toopher_user, settings):
    assert actions.check(_request(AnonymousUser()), "Change email",
                         if_configured=False).verdict is Verdict.LOGIN
    unpaired = actions.check(_request(toopher_user), "Change email", if_configured=False)
    assert unpaired.verdict is Verdict.UNAVAILABLE and unpaired.verdict == "unavailable"
    assert actions.check(_request(toopher_user), "Change email",
                         if_configured=True).verdict is Verdict.RUN
