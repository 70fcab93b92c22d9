"""One presentation of a pending login: the JSON API's ``pending``, the pending
page's status JSON and its page say the same thing under the same names (``interval``
for the seconds between two polls), and "nothing to poll" is a 404 everywhere."""

from __future__ import annotations

from django.test import Client
from django.urls import reverse

from django_toopher.app_settings import app_settings
from django_toopher.models import ToopherProfile
from django_toopher.testing import PASSWORD

PAGE_STATUS = "/toopher/pending/status/"


def _pending_login(browser_api, user) -> None:
    """A pending login at its first step (a stored pairing; no push is sent yet)."""
    ToopherProfile.objects.create(user=user, pairing_id="a" * 32)
    answer = browser_api.post("login", {"username": "alice", "password": PASSWORD})
    assert answer.json()["data"]["pending"]["step"] == "start"


def test_the_page_and_the_api_present_a_pending_login_alike(browser_api, toopher_user):
    _pending_login(browser_api, toopher_user)
    api = browser_api.get("pending/status").json()["data"]["pending"]
    page = browser_api.http.get(PAGE_STATUS).json()
    assert set(page) == set(api) | {"redirect"}
    assert abs(page.pop("remaining") - api.pop("remaining")) <= 1
    # the page's status keeps its old meaning (the step while the login lives)
    assert (page.pop("status"), api.pop("status")) == ("start", "pending")
    page.pop("redirect")
    assert page == api
    assert api["step"] == "start" and api["interval"] == app_settings.POLL_INTERVAL
    html = browser_api.http.get("/toopher/pending/")
    assert html.context["interval"] == api["interval"]
    assert html.context["kind"] == api["kind"] == "login"


def test_nothing_to_poll_is_a_404_everywhere(browser_api, toopher_user):
    assert browser_api.get("pending/status").status_code == 404
    assert Client().get(PAGE_STATUS).status_code == 404
    pairing = Client().get(reverse("django_toopher:pair_status"))
    assert pairing.status_code == 404 and pairing.json()["final"] is True


def test_the_pairing_status_names_its_interval_alike(toopher_user):
    client = Client()
    client.force_login(toopher_user)
    answer = client.get(reverse("django_toopher:pair_status")).json()
    assert answer["interval"] == answer["poll_interval"] == app_settings.POLL_INTERVAL
