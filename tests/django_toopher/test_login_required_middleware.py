"""Django 5.1+ ``LoginRequiredMiddleware``: the pending pages must stay reachable
for the (still anonymous) user, and everything else stays closed."""

from __future__ import annotations

import time

import django
import pytest

from .helpers import approve, logged_in_pk, start_login, template_name

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(django.VERSION < (5, 1), reason="LoginRequiredMiddleware is 5.1+"),
]


@pytest.fixture
def login_required_everywhere(settings):
    middleware = list(settings.MIDDLEWARE)
    index = middleware.index("django.contrib.auth.middleware.AuthenticationMiddleware")
    middleware.insert(index + 1, "django.contrib.auth.middleware.LoginRequiredMiddleware")
    settings.MIDDLEWARE = middleware


def test_pending_flow_under_login_required_middleware(
    login_required_everywhere, client, toopher_paired_user, toopher_sandbox, toopher_phone
):
    response = start_login(client, toopher_paired_user, next_url="/private/")
    assert response.status_code == 200
    assert template_name(response) == "django_toopher/pending.html"
    status = client.get("/toopher/pending/status/")
    assert status.status_code == 200 and status.json()["status"] == "pushed"
    time.sleep(1.1)  # past the poll interval, so the next poll asks Toopher again
    data = approve(client, toopher_sandbox, toopher_phone)
    assert data["status"] == "granted"
    assert client.get("/private/").status_code == 200


@pytest.mark.parametrize(
    "method,url",
    [
        ("get", "/toopher/pending/"),
        ("get", "/toopher/pending/status/"),
        ("post", "/toopher/pending/cancel/"),
        ("post", "/toopher/pending/otp/"),
        ("post", "/toopher/pending/terminal/"),
        ("post", "/toopher/pending/pair/"),
        ("get", "/toopher/pending/pair/qr.png"),
    ],
)
def test_pending_views_are_not_sent_to_the_login_page(
    login_required_everywhere, client, toopher_settings, method, url
):
    response = getattr(client, method)(url)
    location = response.get("Location", "")
    assert not location.startswith("/accounts/login/?next=")


def test_other_pages_stay_closed_while_pending(
    login_required_everywhere, client, toopher_paired_user, toopher_sandbox, toopher_phone
):
    start_login(client, toopher_paired_user)
    assert logged_in_pk(client) is None
    response = client.get("/plain/")
    assert response.status_code == 302
