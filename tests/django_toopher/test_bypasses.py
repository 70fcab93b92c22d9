"""One regression test per known second-factor bypass (prior-art.md §5 A, C, D, F,
G, H): admin login, password-reset auto-login, a second browser polling the first
one's request, replay of a granted request, open redirect through ``next``, a
tampered or forged terminal cookie, CSRF on every POST, an expired pending login
(see test_login_flow), another user's pairing id."""

from __future__ import annotations

import time

import pytest
from django.contrib.auth.tokens import default_token_generator
from django.core import signing
from django.test import Client
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode

from django_toopher.adapter import get_adapter
from django_toopher.internal import cookies as terminal
from django_toopher.internal.cookies import HINT_COOKIE
from django_toopher.internal.flows import pairing
from django_toopher.models import ToopherProfile
from django_toopher.session_keys import PENDING
from django_toopher.testing import PASSWORD, Phone, pair

from .helpers import approve, edit_state, logged_in_pk, start_login, state, template_name

pytestmark = pytest.mark.django_db


# --------------------------------------------------------------------------- F: admin


def test_admin_login_goes_through_approval(
    client, toopher_paired_user, toopher_sandbox, toopher_phone
):
    toopher_paired_user.is_staff = True
    toopher_paired_user.is_superuser = True
    toopher_paired_user.save()
    response = client.post(
        "/admin/login/?next=/admin/",
        {"username": "alice", "password": PASSWORD, "next": "/admin/"},
    )
    assert response.status_code == 302
    assert logged_in_pk(client) is None
    assert client.get("/admin/")["Location"] == "/toopher/pending/"
    # Without the hint cookie the admin is still closed: it asks for a login.
    bare = Client()
    bare.cookies[client.cookies["sessionid"].key] = client.cookies["sessionid"].value
    response = bare.get("/admin/")
    assert response.status_code == 302 and "/admin/login/" in response["Location"]
    # After approval the admin opens.
    client.get("/toopher/pending/")
    client.post("/toopher/pending/terminal/", {"name": "Admin PC"})
    client.get("/toopher/pending/")
    data = approve(client, toopher_sandbox, toopher_phone)
    assert data["redirect"] == "/admin/"
    assert client.get("/admin/").status_code == 200


# --------------------------------------------------------------------------- F: password reset


def test_password_reset_auto_login_is_pending(
    client, toopher_paired_user, toopher_sandbox, toopher_phone
):
    uid = urlsafe_base64_encode(force_bytes(toopher_paired_user.pk))
    token = default_token_generator.make_token(toopher_paired_user)
    response = client.get(f"/reset-and-login/{uid}/{token}/")
    assert response.status_code == 302  # to the set-password URL
    response = client.post(
        response["Location"],
        {"new_password1": "a new long passphrase 42", "new_password2": "a new long passphrase 42"},
    )
    assert response.status_code == 302
    assert logged_in_pk(client) is None
    assert state(client)["user"] == str(toopher_paired_user.pk)
    assert client.get("/private/")["Location"] == "/toopher/pending/"


# --------------------------------------------------------------------------- A/D: other session


def test_second_browser_cannot_poll_or_use_the_first_ones_request(
    client, toopher_paired_user, toopher_sandbox, toopher_phone
):
    start_login(client, toopher_paired_user)
    request_id = state(client)["request_id"]
    attacker = Client()
    response = attacker.get(f"/toopher/pending/status/?request_id={request_id}&id={request_id}")
    assert response.status_code == 404
    assert response.json()["status"] == "none"
    assert request_id not in response.content.decode()
    response = attacker.post("/toopher/pending/", {"op": "check", "request_id": request_id})
    assert response.status_code == 302
    item = toopher_phone.wait_for_push(timeout=5)
    toopher_sandbox.respond_authentication(item["id"], grant=True)
    assert attacker.get("/toopher/pending/status/").status_code == 404
    assert logged_in_pk(attacker) is None
    # The grant belongs to the first browser only.
    assert client.get("/toopher/pending/status/").json()["status"] == "granted"
    assert logged_in_pk(attacker) is None


def test_request_id_is_never_sent_to_the_browser(
    client, toopher_paired_user, toopher_sandbox, toopher_phone
):
    response = start_login(client, toopher_paired_user)
    request_id = state(client)["request_id"]
    assert request_id not in response.content.decode()
    assert request_id not in client.get("/toopher/pending/status/").content.decode()


def test_status_of_another_users_pending_login_is_not_reachable(
    client, toopher_paired_user, toopher_sandbox, toopher_phone, django_user_model
):
    bob = django_user_model.objects.create_user("bob", password=PASSWORD)
    bob_phone = Phone.create(toopher_sandbox)
    pair(bob, bob_phone)
    start_login(client, toopher_paired_user)
    other = Client()
    start_login(other, bob)
    alice_item = toopher_phone.wait_for_push(timeout=5)
    toopher_sandbox.respond_authentication(alice_item["id"], grant=True)
    data = other.get("/toopher/pending/status/").json()
    assert data["status"] == "pushed"  # Alice's grant does nothing for Bob's session
    assert logged_in_pk(other) is None


# --------------------------------------------------------------------------- C: replay


def test_replay_of_a_granted_request(client, toopher_paired_user, toopher_sandbox, toopher_phone):
    start_login(client, toopher_paired_user)
    stolen = dict(state(client))
    old_cookie = client.cookies["sessionid"].value
    assert approve(client, toopher_sandbox, toopher_phone)["status"] == "granted"
    # The old session key no longer exists: it was cycled on login.
    replay = Client()
    replay.cookies["sessionid"] = old_cookie
    assert replay.get("/toopher/pending/status/").status_code == 404
    assert logged_in_pk(replay) is None
    # A copy of the pending state in another session cannot use the grant again.
    replay = Client()
    replay.get("/")
    session = replay.session
    session[PENDING] = stolen
    session.save()
    replay.cookies["sessionid"] = session.session_key
    data = replay.get("/toopher/pending/status/").json()
    assert data["status"] == "expired"
    assert "already been used" in data["message"]
    assert logged_in_pk(replay) is None
    replay.post("/toopher/pending/", {"op": "check"})
    assert logged_in_pk(replay) is None


def test_grant_applies_once_when_two_polls_race(
    client, toopher_paired_user, toopher_sandbox, toopher_phone
):
    """Two polls of the same pending login that both see "granted": only the first
    insert of the request id wins (a unique constraint, so on any database)."""
    from django_toopher.internal.claims import claim

    start_login(client, toopher_paired_user)
    request_id = state(client)["request_id"]
    assert claim(request_id) is True  # the other process won the race
    item = toopher_phone.wait_for_push(timeout=5)
    toopher_sandbox.respond_authentication(item["id"], grant=True)
    data = client.get("/toopher/pending/status/").json()
    assert data["status"] == "expired"
    assert logged_in_pk(client) is None
    assert claim(request_id) is False


# --------------------------------------------------------------------------- G: open redirect


@pytest.mark.parametrize(
    "evil",
    [
        "https://evil.example/",
        "//evil.example/path",
        "http://testserver.evil.example/",
        "javascript:alert(1)",
        "\\\\evil.example",
        "https:///evil.example",
    ],
)
def test_open_redirect_through_next_is_refused(
    client, toopher_paired_user, toopher_sandbox, toopher_phone, evil
):
    start_login(client, toopher_paired_user, next_url=evil)
    assert state(client)["next"] == "/"
    data = approve(client, toopher_sandbox, toopher_phone)
    assert data["redirect"] == "/"


def test_next_is_checked_again_on_use(client, toopher_paired_user, toopher_sandbox, toopher_phone):
    start_login(client, toopher_paired_user, next_url="/private/")
    edit_state(client, next="https://evil.example/")
    data = approve(client, toopher_sandbox, toopher_phone)
    assert data["status"] == "granted"
    assert data["redirect"] == "/"


# --------------------------------------------------------------------------- H: terminal cookie


def _terminal_cookie(client: Client) -> str:
    return client.cookies["toopher_terminal"].value


def test_terminal_cookie_flags_and_entropy(
    client, toopher_paired_user, toopher_sandbox, toopher_phone
):
    start_login(client, toopher_paired_user)
    morsel = client.cookies["toopher_terminal"]
    assert morsel["httponly"] is True
    assert morsel["samesite"] == "Lax"
    assert not morsel["secure"]  # plain-HTTP test request
    tid = state(client)["terminal"]
    assert terminal.is_valid_terminal_id(tid) and len(tid) == 32  # 192 bits
    assert tid in morsel.value and morsel.value != tid  # signed, not bare


def test_terminal_cookie_is_secure_on_https(
    client, toopher_paired_user, toopher_sandbox, toopher_phone
):
    client.post(
        "/accounts/login/", {"username": "alice", "password": PASSWORD}, secure=True
    )
    client.get("/toopher/pending/", secure=True)
    assert client.cookies["toopher_terminal"]["secure"] is True
    assert client.cookies[HINT_COOKIE]["secure"] is True


@pytest.mark.parametrize(
    "forge",
    [
        lambda value, tid: value[:-1] + ("A" if value[-1] != "A" else "B"),  # tampered
        lambda value, tid: tid,  # bare id, no signature
        lambda value, tid: signing.get_cookie_signer(salt="toopher_terminal").sign(tid),
        lambda value, tid: signing.TimestampSigner(key="other-secret", salt=terminal.SALT)
        .sign(tid),
        lambda value, tid: "",
        lambda value, tid: "x" * 4000,
    ],
)
def test_tampered_or_forged_terminal_cookie_counts_as_no_cookie(
    client, toopher_paired_user, toopher_sandbox, toopher_phone, forge
):
    start_login(client, toopher_paired_user, terminal_name="Laptop")
    approve(client, toopher_sandbox, toopher_phone)
    value = _terminal_cookie(client)
    tid = terminal.read_terminal_id(_Req(value))
    assert tid
    client.post("/accounts/logout/")
    client.cookies["toopher_terminal"] = forge(value, tid)
    # The named browser is not recognised: the user must name a (new) terminal, and
    # the new cookie carries a different id.
    response = start_login(client, toopher_paired_user, terminal_name=None)
    assert template_name(response) == "django_toopher/name_terminal.html"
    assert state(client)["terminal"] != tid
    assert terminal.read_terminal_id(_Req(_terminal_cookie(client))) != tid


class _Req:
    """The smallest request ``read_terminal_id`` needs."""

    def __init__(self, value: str) -> None:
        self.COOKIES = {"toopher_terminal": value}

    def get_signed_cookie(self, key, default=None, salt="", max_age=None):
        from django.http import HttpRequest

        request = HttpRequest()
        request.COOKIES = self.COOKIES
        return request.get_signed_cookie(key, default=default, salt=salt, max_age=max_age)


# --------------------------------------------------------------------------- CSRF


@pytest.mark.parametrize(
    "url,data",
    [
        ("/toopher/pending/", {"op": "check"}),
        ("/toopher/pending/", {"op": "retry"}),
        ("/toopher/pending/cancel/", {}),
        ("/toopher/pending/otp/", {"otp": "123456"}),
        ("/toopher/pending/terminal/", {"name": "Laptop"}),
        ("/toopher/pending/pair/", {"pairing_phrase": "some phrase"}),
        ("/toopher/pending/pair/", {"use_qr": "1"}),
    ],
)
def test_csrf_on_every_post(
    toopher_paired_user, toopher_sandbox, toopher_phone, toopher_settings, url, data
):
    client = Client(enforce_csrf_checks=True)
    page = client.get("/accounts/login/")
    token = page.context["csrf_token"]
    client.post(
        "/accounts/login/",
        {"username": "alice", "password": PASSWORD, "csrfmiddlewaretoken": str(token)},
    )
    client.get("/toopher/pending/")
    before = dict(state(client))
    response = client.post(url, data)
    assert response.status_code == 403
    assert state(client) == before
    # With the (rotated) token the same POST is accepted.
    token = client.cookies["csrftoken"].value
    response = client.post(url, {**data, "csrfmiddlewaretoken": token})
    assert response.status_code in (200, 302)


def test_status_endpoint_is_get_only_and_never_cached(
    client, toopher_paired_user, toopher_sandbox, toopher_phone
):
    start_login(client, toopher_paired_user)
    assert client.post("/toopher/pending/status/").status_code == 405
    response = client.get("/toopher/pending/status/")
    assert "no-cache" in response["Cache-Control"] and "no-store" in response["Cache-Control"]
    response = client.get("/toopher/pending/")
    assert "no-store" in response["Cache-Control"]


# --------------------------------------------------------------------------- I: pairing ids


def test_another_users_pairing_id_is_refused(
    toopher_paired_user, toopher_sandbox, toopher_phone, django_user_model, toopher_settings
):
    bob = django_user_model.objects.create_user("bob", password=PASSWORD)
    stolen = pairing.PairingAttempt(
        id=toopher_phone.pairing_id, qr=False, started=time.time(), user=str(bob.pk)
    )
    result = pairing.poll(None, bob, stolen)
    assert result.state is pairing.PairingState.FAILED and result.final
    assert result.message == get_adapter().message("pairing_mismatch")
    assert not ToopherProfile.objects.filter(user=bob, pairing_id__isnull=False).exists()


def test_pairing_id_from_the_client_is_ignored_at_login(
    client, toopher_paired_user, toopher_phone, toopher_sandbox, django_user_model,
    toopher_settings, login,
):
    """Bob, enrolling at login, posts Alice's pairing id: it is ignored; only the
    pairing his own session started can complete."""
    toopher_settings["REQUIRE_ENROLLMENT"] = True
    bob = django_user_model.objects.create_user("bob", password=PASSWORD)
    login(client, bob)
    client.get("/toopher/pending/")
    client.post(
        "/toopher/pending/pair/", {"use_qr": "1", "pairing_id": toopher_phone.pairing_id}
    )
    assert (state(client)["pairing"] or {}).get("id") != toopher_phone.pairing_id
    client.get(f"/toopher/pending/status/?pairing_id={toopher_phone.pairing_id}")
    assert state(client)["step"] == "pairing"
    assert not ToopherProfile.objects.filter(user=bob, pairing_id__isnull=False).exists()


def test_stolen_pairing_id_in_the_session_cannot_complete(
    client, toopher_paired_user, toopher_phone, toopher_sandbox, django_user_model,
    toopher_settings, login,
):
    """Even a pairing id that reached Bob's pending state (say, a bug elsewhere) is
    refused, because the pairing's user name is checked against Bob's."""
    toopher_settings["REQUIRE_ENROLLMENT"] = True
    bob = django_user_model.objects.create_user("bob", password=PASSWORD)
    login(client, bob)
    client.get("/toopher/pending/")
    edit_state(
        client,
        step="pairing",
        pairing={"id": toopher_phone.pairing_id, "qr": False, "started": time.time(),
                 "user": str(bob.pk)},
    )
    data = client.get("/toopher/pending/status/").json()
    assert data["status"] == "refused"
    assert not ToopherProfile.objects.filter(user=bob, pairing_id__isnull=False).exists()
    assert logged_in_pk(client) is None


@pytest.mark.django_db(transaction=True)
def test_claim_is_atomic_across_threads():
    """Eight threads (each with its own database connection) claim one request id:
    exactly one wins."""
    import threading
    import time

    from django.db import OperationalError, connection

    from django_toopher.internal.claims import claim

    barrier = threading.Barrier(8)
    results: list[bool] = []
    lock = threading.Lock()

    def worker() -> None:
        try:
            barrier.wait()
            for _ in range(200):
                try:
                    won = claim("raced-request-id")
                except OperationalError:  # SQLite in memory: "table is locked"; retry
                    time.sleep(0.01)
                    continue
                with lock:
                    results.append(won)
                return
        finally:
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert sorted(results) == [False] * 7 + [True]


def test_a_database_that_cannot_decide_keeps_the_login_pending(
    client, toopher_paired_user, toopher_sandbox, toopher_phone, monkeypatch
):
    from django.db import OperationalError

    from django_toopher.internal.flows import grant

    def locked(request_id):
        raise OperationalError("database table is locked")

    start_login(client, toopher_paired_user)
    item = toopher_phone.wait_for_push(timeout=5)
    toopher_sandbox.respond_authentication(item["id"], grant=True)
    monkeypatch.setattr(grant, "claim", locked)
    data = client.get("/toopher/pending/status/").json()
    assert data["status"] == "pushed" and data["final"] is False
    assert logged_in_pk(client) is None
    monkeypatch.undo()
    data = client.get("/toopher/pending/status/").json()
    assert data["status"] == "granted"
    assert str(logged_in_pk(client)) == str(toopher_paired_user.pk)
