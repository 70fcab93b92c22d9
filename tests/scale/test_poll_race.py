"""A status poll that lost the race against a grant must not log the browser out.

Two tabs poll the pending login at once. The poll that wins logs the user in, which
cycles the session key (the old session is deleted) and sets the new cookie. The
other poll, sent with the old cookie, finds an empty session; Django's
SessionMiddleware would answer it with "delete the session cookie", and if that
answer arrives last the browser drops the login it was just given. The scale-out
test (test_two_instances.py) hits this race over two instances; this is the
single-process regression test that runs on every database.
"""

from __future__ import annotations

import pytest
from django.urls import reverse

pytestmark = pytest.mark.django_db


def test_a_poll_with_a_replaced_session_key_leaves_the_session_cookie_alone(client, settings):
    client.cookies[settings.SESSION_COOKIE_NAME] = "x" * 32  # cycled away by the winner
    response = client.get(reverse("django_toopher:pending_status"))
    assert response.status_code == 404
    assert response.json()["status"] == "none"
    assert settings.SESSION_COOKIE_NAME not in response.cookies


def test_a_poll_without_a_session_cookie_sets_none(client, settings):
    response = client.get(reverse("django_toopher:pending_status"))
    assert response.status_code == 404
    assert settings.SESSION_COOKIE_NAME not in response.cookies
