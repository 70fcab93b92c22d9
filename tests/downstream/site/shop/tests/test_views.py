"""The shop's views with Toopher in place, through django_toopher's pytest fixtures."""

import pytest
from django.test import Client

from django_toopher.testing import PASSWORD, answer_pending, force_login_verified


def password_login(client, user):
    return client.post(
        "/accounts/login/", {"username": user.get_username(), "password": PASSWORD, "next": "/"}
    )


def test_a_paired_login_waits_for_the_phone_then_lands_home(client, toopher_paired_user,
                                                            toopher_phone):
    response = password_login(client, toopher_paired_user)
    assert response.status_code == 302
    assert client.get("/").status_code == 302  # not logged in while it waits
    outcome = answer_pending(client, toopher_phone)
    assert outcome.granted and outcome.logged_in
    assert outcome.redirect == "/"
    assert client.get("/").content == b"hello toopher-user"


def test_a_denied_login_stays_logged_out(client, toopher_paired_user, toopher_phone):
    toopher_phone.answer = "deny"
    client.login(username=toopher_paired_user.get_username(), password=PASSWORD)
    outcome = answer_pending(client, toopher_phone)
    assert outcome.status == "denied"
    assert not outcome.logged_in
    assert client.get("/").status_code == 302


def test_the_one_time_password_instead_of_the_push(client, toopher_paired_user, toopher_phone):
    client.login(username=toopher_paired_user.get_username(), password=PASSWORD)
    outcome = answer_pending(client, toopher_phone, "otp")
    assert outcome.logged_in, outcome
    assert client.get("/").status_code == 200


def test_change_email_asks_the_phone_even_when_verified(toopher_verified_client, toopher_phone,
                                                        toopher_paired_user):
    client = toopher_verified_client
    assert client.get("/").status_code == 200
    response = client.get("/email/")
    assert response.status_code == 302 and response["Location"] == "/toopher/pending/"
    outcome = answer_pending(client, toopher_phone)
    assert outcome.granted
    response = client.post("/email/", {"email": "new@example.com"})
    assert response.content == b"email is now new@example.com"
    toopher_paired_user.refresh_from_db()
    assert toopher_paired_user.email == "new@example.com"


def test_a_denied_action_does_not_run_the_view(toopher_verified_client, toopher_phone):
    client = toopher_verified_client
    client.get("/email/")
    assert answer_pending(client, toopher_phone, "deny").status == "denied"
    assert client.post("/email/", {"email": "x@example.com"}).status_code == 302


def test_zero_storage_mode_too(client, toopher_settings, toopher_user, toopher_phone):
    from django_toopher.testing import pair

    toopher_settings["MODE"] = "zero_storage"
    pair(toopher_user, toopher_phone)
    client.login(username=toopher_user.get_username(), password=PASSWORD)
    assert answer_pending(client, toopher_phone).granted


@pytest.mark.django_db
def test_force_login_verified_needs_no_sandbox():
    from django_toopher.testing import create_user

    client = Client()
    force_login_verified(client, create_user("nobody"))
    assert client.get("/").content == b"hello nobody"
