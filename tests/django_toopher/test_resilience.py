"""The site's own parts failing: with the cache down the app fails closed (no push, no
skipped limit, no call to Toopher per poll) and says to try again; with the database
failing a Toopher page answers 503 with a retry path. Never a bare 500."""

from __future__ import annotations

import pytest
from django.db import OperationalError

from django_toopher.models import ToopherProfile
from django_toopher.session_keys import PENDING

from .helpers import start_login, state


@pytest.fixture
def cache_down(settings, toopher_settings):
    settings.CACHES = {**settings.CACHES,
                       "broken": {"BACKEND": "tests.testapp.broken_cache.BrokenCache"}}

    def go_down() -> None:
        toopher_settings["CACHE_ALIAS"] = "broken"

    return go_down


def test_no_push_without_the_cache(client, toopher_paired_user, login, api_calls, cache_down):
    login(client, toopher_paired_user)
    client.get("/toopher/pending/")  # names nothing yet: stored mode asks for a name
    client.post("/toopher/pending/terminal/", {"name": "Laptop"})
    cache_down()
    api_calls.reset()
    response = client.get("/toopher/pending/")
    assert response.status_code == 200
    assert "not answering right now" in response.content.decode()
    assert api_calls.count("authentication_requests/initiate") == 0
    assert state(client)["step"] == "start"  # nothing changed: try again later


def test_polls_call_nobody_without_the_cache(
    client, toopher_paired_user, toopher_sandbox, toopher_phone, api_calls, cache_down
):
    start_login(client, toopher_paired_user)
    assert state(client)["step"] == "pushed"
    cache_down()
    api_calls.reset()
    for _ in range(5):
        data = client.get("/toopher/pending/status/").json()
        assert data["final"] is False
    assert len(api_calls) == 0  # no upstream lock, so no call at all: no storm
    assert toopher_phone.wait_for_push(timeout=5)


def test_the_json_api_says_service_unavailable(client, toopher_paired_user, login, cache_down):
    login(client, toopher_paired_user)
    client.get("/toopher/pending/")
    client.post("/toopher/pending/terminal/", {"name": "Laptop"})
    cache_down()
    response = client.post("/_toopher/app/v1/pending/start", "{}",
                           content_type="application/json",
                           headers={"X-Session-Token": client.session.session_key})
    assert response.status_code == 503
    assert response.json()["error"]["code"] == "service_unavailable"


def test_no_pairing_and_no_password_guessing_without_the_cache(
    client, toopher_user, toopher_settings, cache_down
):
    from django_toopher.internal.flows import pairing

    cache_down()
    attempt, problem = pairing.start(toopher_user, "awkward turtle")
    assert attempt is None and problem.code == "service_unavailable"


def test_a_failing_database_is_a_503_with_a_retry_path(
    client, toopher_paired_user, toopher_sandbox, toopher_phone, monkeypatch
):
    from .helpers import login_fully

    login_fully(client, toopher_paired_user, toopher_sandbox, toopher_phone)

    def down(*args, **kwargs):
        raise OperationalError("server closed the connection unexpectedly")

    monkeypatch.setattr(ToopherProfile.objects, "filter", down)
    response = client.get("/toopher/security/")
    assert response.status_code == 503
    assert response["Retry-After"] == "5"
    body = response.content.decode()
    assert "Try again" in body and "Traceback" not in body


def test_a_failing_database_during_a_poll_is_json(
    client, toopher_paired_user, toopher_sandbox, toopher_phone, monkeypatch
):
    start_login(client, toopher_paired_user)
    from django_toopher.internal.flows import grant

    def down(token):
        raise OperationalError("the database system is shutting down")

    monkeypatch.setattr(grant, "claim", down)
    toopher_sandbox.respond_authentication(toopher_phone.wait_for_push(timeout=5)["id"], grant=True)
    data = client.get("/toopher/pending/status/").json()
    assert data["final"] is False  # the grant waits for the database: the next poll
    assert PENDING in client.session


def _named(client, user, login):
    """The password step and the browser named: the next pending page sends the push."""
    login(client, user)
    client.get("/toopher/pending/")
    client.post("/toopher/pending/terminal/", {"name": "Laptop"})
    assert state(client)["step"] == "start"


def test_a_database_failure_before_the_push_leaves_the_push_to_the_next_visit(
        client, toopher_paired_user, login, toopher_sandbox, toopher_phone, api_calls, monkeypatch):
    """Issue 15: PostgreSQL restarted while the pending page was about to send the push
    (the push lock taken, the pairing not yet read). That page is a 503; the next one
    must send the push, not wait on a lock nobody holds until the login expires."""
    from django_toopher.internal.modes import StoredMode

    _named(client, toopher_paired_user, login)
    real = StoredMode.authenticate

    def down(self, user, **kwargs):  # the pairing id is read from the database first
        raise OperationalError("the database system is shutting down")

    monkeypatch.setattr(StoredMode, "authenticate", down)
    assert client.get("/toopher/pending/").status_code == 503
    assert state(client)["step"] == "start"
    monkeypatch.setattr(StoredMode, "authenticate", real)  # the database is back
    api_calls.reset()
    client.get("/toopher/pending/")
    assert api_calls.count("authentication_requests/initiate") == 1
    assert state(client)["step"] == "pushed"
    toopher_sandbox.respond_authentication(toopher_phone.wait_for_push(timeout=5)["id"], grant=True)
    assert client.get("/toopher/pending/status/").json()["status"] == "granted"


def test_a_push_whose_sender_vanished_ends_the_attempt_with_a_retry(
        client, toopher_paired_user, login, toopher_sandbox, toopher_phone, api_calls):
    """A request took this attempt's push lock and never said how the push went (its
    process was killed). Once longer than one push can take, the attempt has failed:
    the page says so and offers a retry, which sends one new push."""
    import time

    from django_toopher.internal.cache import get_cache
    from django_toopher.internal.flows import login as login_flow
    from django_toopher.internal.state import PendingLogin

    _named(client, toopher_paired_user, login)
    pending = PendingLogin.deserialize(state(client))
    assert pending is not None
    lock = login_flow._lock_key(pending)
    get_cache().add(lock, time.time(), timeout=600)  # a sender at work: wait for it
    api_calls.reset()
    assert client.get("/toopher/pending/status/").json()["status"] == "start"
    assert client.get("/toopher/pending/").status_code == 200
    assert state(client)["step"] == "start" and len(api_calls) == 0
    get_cache().set(lock, time.time() - login_flow.send_deadline() - 1, timeout=600)
    data = client.get("/toopher/pending/status/").json()
    assert data["status"] == "failed" and data["final"] is False and data["message"]
    assert len(api_calls) == 0  # fail closed: nothing sent for the lost attempt
    page = client.get("/toopher/pending/")
    assert 'value="retry"' in page.content.decode()
    client.post("/toopher/pending/", {"op": "retry"})
    client.get("/toopher/pending/")
    assert api_calls.count("authentication_requests/initiate") == 1
    toopher_sandbox.respond_authentication(toopher_phone.wait_for_push(timeout=5)["id"], grant=True)
    assert client.get("/toopher/pending/status/").json()["status"] == "granted"
