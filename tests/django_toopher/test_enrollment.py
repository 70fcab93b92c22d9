"""Enrollment against the live sandbox: security page, password re-entry, pairing by
phrase and QR code, the polled status, denial, expiry, outages, and their bypasses."""

from __future__ import annotations

import time

import pytest
from django.test import Client
from django.urls import reverse

from django_toopher import session_keys
from django_toopher.app_settings import app_settings
from django_toopher.models import AuditEvent, ToopherProfile
from django_toopher.session_keys import PAIRING as PAIRING_KEY
from tests.django_toopher.enroll_support import (
    PASSWORD,
    configure,
    fresh_auth,
    login,
    make_user,
    pair_by_phrase,
    pairing_id_in_session,
    poll_status,
)

pytestmark = pytest.mark.django_db

PAIR = "django_toopher:pair"


@pytest.fixture
def live(settings, toopher_requester):
    return configure(settings, toopher_requester)


@pytest.fixture
def alice(live):
    return make_user("alice")


@pytest.fixture
def client_alice(client, alice):
    return login(client, alice)


def is_paired(user) -> bool:
    profile = ToopherProfile.objects.filter(user=user).first()
    return bool(profile and profile.pairing_id)


#: The Toopher client methods behind each operation counted by :class:`CountCalls`.
CLIENT_METHODS = {
    "start_pairing": ("pair", "pair_qr"),
    "pairing_status": ("get_pairing_status",),
}


class CountCalls:
    """Wrap the Toopher client methods of an operation and count their calls."""

    def __init__(self, monkeypatch, operation: str):
        import toopher

        self.calls = 0
        for name in CLIENT_METHODS[operation]:
            original = getattr(toopher.ToopherApi, name)

            def wrapper(client, *args, _original=original, **kwargs):
                self.calls += 1
                return _original(client, *args, **kwargs)

            monkeypatch.setattr(toopher.ToopherApi, name, wrapper)


# -- access -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "name", ["security", "pair", "unpair", "terminals", "reauth"]
)
def test_pages_need_a_login(client, live, name):
    response = client.get(reverse(f"django_toopher:{name}"))
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


def test_qr_and_status_refuse_anonymous_users(client, live):
    assert client.get(reverse("django_toopher:pair_qr")).status_code == 404
    response = client.get(reverse("django_toopher:pair_status"))
    assert response.status_code == 404  # nothing to poll, as for a pending login
    assert response.json()["final"] is True


def test_security_page_for_an_unpaired_user(client_alice):
    response = client_alice.get(reverse("django_toopher:security"))
    assert response.status_code == 200
    assert b"No phone is paired" in response.content
    assert reverse(PAIR).encode() in response.content
    assert response["Cache-Control"].startswith("max-age=0")


# -- password re-entry ------------------------------------------------------------------------


def test_pairing_needs_a_recent_authentication(client, alice):
    login(client, alice, recent=False)
    response = client.get(reverse(PAIR))
    assert response.status_code == 302
    expected = f"{reverse('django_toopher:reauth')}?next=%2Ftoopher%2Fsecurity%2Fpair%2F"
    assert response["Location"] == expected
    # A POST is not carried out either.
    response = client.post(reverse(PAIR), {"op": "qr"})
    assert response.status_code == 302
    assert pairing_id_in_session(client) is None


def test_missing_or_forged_auth_time_is_not_recent(client, alice):
    login(client, alice)
    for value in ("now", None, True, time.time() + 3600):
        session = client.session
        session[session_keys.AUTH_AT] = value
        session.save()
        assert client.get(reverse(PAIR)).status_code == 302


def test_reauth_with_the_right_password_returns_to_next(client, alice):
    login(client, alice, recent=False)
    old_key = client.session.session_key
    url = reverse("django_toopher:reauth")
    response = client.get(url, {"next": reverse(PAIR)})
    assert response.status_code == 200
    assert b'type="password"' in response.content
    response = client.post(url, {"password": PASSWORD, "next": reverse(PAIR)})
    assert response.status_code == 302
    assert response["Location"] == reverse(PAIR)
    assert client.session.session_key != old_key  # cycled on re-authentication
    assert time.time() - client.session[session_keys.AUTH_AT] < 5
    assert client.get(reverse(PAIR)).status_code == 200


def test_reauth_with_a_wrong_password_changes_nothing(client, alice):
    login(client, alice, recent=False)
    before = client.session[session_keys.AUTH_AT]
    response = client.post(reverse("django_toopher:reauth"), {"password": "wrong"})
    assert response.status_code == 400
    assert b"That password is not correct." in response.content
    assert client.session[session_keys.AUTH_AT] == before


@pytest.mark.parametrize(
    "target",
    ["https://evil.example/", "//evil.example/", "http://testserver.evil/", "javascript:alert(1)"],
)
def test_reauth_never_redirects_off_site(client, alice, target):
    login(client, alice, recent=False)
    response = client.post(reverse("django_toopher:reauth"), {"password": PASSWORD, "next": target})
    assert response.status_code == 302
    assert response["Location"] == reverse("django_toopher:security")


def test_reauth_is_rate_limited(client, alice):
    login(client, alice, recent=False)
    url = reverse("django_toopher:reauth")
    for _ in range(5):
        assert client.post(url, {"password": "wrong"}).status_code in (400, 429)
    response = client.post(url, {"password": PASSWORD})
    assert response.status_code == 429
    assert b"Too many wrong passwords" in response.content
    assert client.get(reverse(PAIR)).status_code == 302  # still not recent


def test_reauth_for_an_account_without_a_password(client, alice):
    alice.set_unusable_password()
    alice.save()
    login(client, alice, recent=False)
    response = client.get(reverse("django_toopher:reauth"))
    assert response.status_code == 200
    assert b"log out and log in again" in response.content
    response = client.post(reverse("django_toopher:reauth"), {"password": ""})
    assert response.status_code == 403
    assert client.get(reverse(PAIR)).status_code == 302


# -- pairing by phrase --------------------------------------------------------------------------


def test_pair_by_phrase_allowed_on_the_phone(client_alice, alice, toopher_sandbox, toopher_phone):
    response = client_alice.get(reverse(PAIR))
    assert b'name="pairing_phrase"' in response.content
    assert b"Use a QR code instead" in response.content

    response = client_alice.post(
        reverse(PAIR), {"op": "phrase", "pairing_phrase": toopher_phone.pairing_phrase.upper()}
    )
    assert response.status_code == 302 and response["Location"] == reverse(PAIR)
    pairing_id = pairing_id_in_session(client_alice)
    assert pairing_id and not is_paired(alice)

    page = client_alice.get(reverse(PAIR))
    assert b"toopher-pairing-status" in page.content
    assert b"pairing.js" in page.content
    assert pairing_id.encode() not in page.content  # the id stays server-side
    assert poll_status(client_alice)["status"] == "pending"

    pending = toopher_sandbox.pending(toopher_phone.phone_id)["pairings"]
    assert [p["id"] for p in pending] == [pairing_id]
    toopher_sandbox.respond_pairing(pairing_id, allow=True)

    data = poll_status(client_alice)
    assert data["status"] == "paired" and data["final"] is True
    assert data["redirect"] == reverse("django_toopher:security")
    assert is_paired(alice)
    assert ToopherProfile.objects.get(user=alice).pairing_id == pairing_id
    assert pairing_id_in_session(client_alice) is None
    assert AuditEvent.objects.filter(kind="paired", user=alice).count() == 1
    # Polling again does not pair twice.
    assert poll_status(client_alice)["status"] == "none"
    assert AuditEvent.objects.filter(kind="paired", user=alice).count() == 1
    page = client_alice.get(reverse("django_toopher:security"))
    assert b"A phone is paired" in page.content


def test_pair_denied_on_the_phone(client_alice, alice, toopher_sandbox, toopher_phone):
    client_alice.post(
        reverse(PAIR), {"op": "phrase", "pairing_phrase": toopher_phone.pairing_phrase}
    )
    toopher_sandbox.respond_pairing(pairing_id_in_session(client_alice), allow=False)
    data = poll_status(client_alice)
    assert data["status"] == "denied" and data["final"] is True
    assert "denied" in data["message"]
    assert not is_paired(alice)
    assert pairing_id_in_session(client_alice) is None


def test_without_javascript_check_now_completes_the_pairing(
    client_alice, alice, toopher_sandbox, toopher_phone
):
    client_alice.post(
        reverse(PAIR), {"op": "phrase", "pairing_phrase": toopher_phone.pairing_phrase}
    )
    pairing_id = pairing_id_in_session(client_alice)
    response = client_alice.post(reverse(PAIR), {"op": "check"})
    assert response["Location"] == reverse(PAIR)
    assert not is_paired(alice)
    toopher_sandbox.respond_pairing(pairing_id, allow=True)
    from django.core.cache import caches

    caches["default"].clear()
    response = client_alice.post(reverse(PAIR), {"op": "check"}, follow=True)
    assert response.redirect_chain[-1][0] == reverse("django_toopher:security")
    assert b"Your phone is paired" in response.content
    assert is_paired(alice)


def test_cancel_forgets_the_pairing_in_progress(
    client_alice, alice, toopher_sandbox, toopher_phone
):
    client_alice.post(
        reverse(PAIR), {"op": "phrase", "pairing_phrase": toopher_phone.pairing_phrase}
    )
    pairing_id = pairing_id_in_session(client_alice)
    response = client_alice.post(reverse(PAIR), {"op": "cancel"})
    assert response["Location"] == reverse("django_toopher:security")
    assert pairing_id_in_session(client_alice) is None
    toopher_sandbox.respond_pairing(pairing_id, allow=True)
    assert poll_status(client_alice)["status"] == "none"
    assert not is_paired(alice)


@pytest.mark.parametrize(
    "phrase", ["", "   ", "12 34", "drop table;", "a" * 61, "awkward\x00turtle", "one_two"]
)
def test_bad_phrases_are_refused_without_calling_toopher(client_alice, monkeypatch, phrase):
    counter = CountCalls(monkeypatch, "start_pairing")
    response = client_alice.post(reverse(PAIR), {"op": "phrase", "pairing_phrase": phrase})
    assert response.status_code == 400
    assert b"errorlist" in response.content
    assert counter.calls == 0
    assert pairing_id_in_session(client_alice) is None


def test_a_phrase_toopher_does_not_know(client_alice, alice):
    response = client_alice.post(
        reverse(PAIR), {"op": "phrase", "pairing_phrase": "nonexistent wombat"}
    )
    assert response.status_code == 400
    assert b"Toopher did not accept this pairing" in response.content
    assert pairing_id_in_session(client_alice) is None
    assert not is_paired(alice)


@pytest.mark.parametrize("limit", [None, 3])
def test_pairing_starts_are_rate_limited(client_alice, alice, monkeypatch, settings, limit):
    if limit is None:
        assert app_settings.PAIRING_RATE_LIMIT == 5  # the default
    else:  # the one pairing limit comes from the settings
        settings.TOOPHER = {**settings.TOOPHER, "PAIRING_RATE_LIMIT": limit}
    for _ in range(app_settings.PAIRING_RATE_LIMIT):
        client_alice.post(reverse(PAIR), {"op": "qr"})
        assert pairing_id_in_session(client_alice)
        client_alice.post(reverse(PAIR), {"op": "cancel"})
    counter = CountCalls(monkeypatch, "start_pairing")
    response = client_alice.post(reverse(PAIR), {"op": "qr"})
    assert response.status_code == 400
    assert b"Too many pairing attempts" in response.content
    assert counter.calls == 0 and pairing_id_in_session(client_alice) is None


def test_unknown_op_changes_nothing(client_alice):
    response = client_alice.post(reverse(PAIR), {"op": "pair-everyone"})
    assert response.status_code == 302
    assert pairing_id_in_session(client_alice) is None


@pytest.mark.parametrize("op", ["phrase", "qr"])
@pytest.mark.parametrize("fault", [{"status": 500}, {"malformed": True}])
def test_toopher_failing_while_starting(
    client_alice, alice, toopher_sandbox, live, toopher_phone, fault, op
):
    toopher_sandbox.set_faults(key=live["key"], **fault)
    response = client_alice.post(
        reverse(PAIR), {"op": op, "pairing_phrase": toopher_phone.pairing_phrase}
    )
    assert response.status_code == 400
    assert b"cannot be reached" in response.content or b"could not understand" in response.content
    assert pairing_id_in_session(client_alice) is None


def test_toopher_failing_while_polling_keeps_waiting(
    client_alice, alice, toopher_sandbox, live, toopher_phone
):
    client_alice.post(
        reverse(PAIR), {"op": "phrase", "pairing_phrase": toopher_phone.pairing_phrase}
    )
    pairing_id = pairing_id_in_session(client_alice)
    toopher_sandbox.set_faults(key=live["key"], status=503)
    data = poll_status(client_alice)
    assert data["status"] == "unavailable" and data["final"] is False
    assert pairing_id_in_session(client_alice) == pairing_id
    for _ in range(3):
        poll_status(client_alice)
    toopher_sandbox.clear_faults()
    toopher_sandbox.respond_pairing(pairing_id, allow=True)
    assert poll_status(client_alice)["status"] == "paired"
    page = client_alice.get(reverse("django_toopher:security"))
    assert b"still trying" not in page.content  # polls do not pile up messages
    assert is_paired(alice)


def test_a_second_start_while_waiting_is_refused(
    client_alice, toopher_sandbox, toopher_phone, monkeypatch
):
    client_alice.post(
        reverse(PAIR), {"op": "phrase", "pairing_phrase": toopher_phone.pairing_phrase}
    )
    first = pairing_id_in_session(client_alice)
    counter = CountCalls(monkeypatch, "start_pairing")
    client_alice.post(reverse(PAIR), {"op": "qr"})
    assert counter.calls == 0
    assert pairing_id_in_session(client_alice) == first


@pytest.mark.parametrize("ttl", [None, 30])
def test_an_expired_pairing_ends(
    client_alice, alice, toopher_sandbox, toopher_phone, settings, ttl
):
    if ttl is None:
        assert app_settings.PAIRING_TTL == 120  # the default
    else:  # the one pairing time to live comes from the settings
        settings.TOOPHER = {**settings.TOOPHER, "PAIRING_TTL": ttl}
    client_alice.post(
        reverse(PAIR), {"op": "phrase", "pairing_phrase": toopher_phone.pairing_phrase}
    )
    pairing_id = pairing_id_in_session(client_alice)
    session = client_alice.session
    session[PAIRING_KEY]["started"] -= app_settings.PAIRING_TTL - 5
    session.save()
    assert poll_status(client_alice)["status"] == "pending"  # not yet
    session = client_alice.session
    session[PAIRING_KEY]["started"] -= 6
    session.save()
    toopher_sandbox.respond_pairing(pairing_id, allow=True)
    data = poll_status(client_alice)
    assert data["status"] == "expired" and data["final"] is True
    assert not is_paired(alice)


def test_polls_call_toopher_at_most_once_per_interval(client_alice, toopher_phone, monkeypatch):
    client_alice.post(
        reverse(PAIR), {"op": "phrase", "pairing_phrase": toopher_phone.pairing_phrase}
    )
    from django.core.cache import caches

    caches["default"].clear()
    counter = CountCalls(monkeypatch, "pairing_status")
    url = reverse("django_toopher:pair_status")
    key_before = client_alice.session.session_key
    for _ in range(5):
        assert client_alice.get(url).json()["status"] == "pending"
    assert counter.calls == 1
    assert client_alice.session.session_key == key_before


def test_a_poll_that_changes_nothing_does_not_write_the_session(client_alice, toopher_phone):
    client_alice.post(
        reverse(PAIR), {"op": "phrase", "pairing_phrase": toopher_phone.pairing_phrase}
    )
    response = client_alice.get(reverse("django_toopher:pair_status"))
    assert response.json()["status"] == "pending"
    assert "sessionid" not in response.cookies


def test_already_paired_users_cannot_start_another_pairing(
    client_alice, alice, toopher_sandbox, toopher_phone, monkeypatch
):
    pair_by_phrase(client_alice, toopher_sandbox, toopher_phone)
    response = client_alice.get(reverse(PAIR))
    assert response["Location"] == reverse("django_toopher:security")
    counter = CountCalls(monkeypatch, "start_pairing")
    response = client_alice.post(reverse(PAIR), {"op": "qr"})
    assert response["Location"] == reverse("django_toopher:security")
    assert counter.calls == 0


# -- QR code ------------------------------------------------------------------------------


def test_pair_by_qr_code(client_alice, alice, toopher_sandbox):
    response = client_alice.post(reverse(PAIR), {"op": "qr"})
    assert response.status_code == 302
    pairing_id = pairing_id_in_session(client_alice)
    page = client_alice.get(reverse(PAIR))
    assert reverse("django_toopher:pair_qr").encode() in page.content
    image = client_alice.get(reverse("django_toopher:pair_qr"))
    assert image.status_code == 200
    assert image["Content-Type"] == "image/png"
    assert image.content.startswith(b"\x89PNG\r\n\x1a\n")
    assert "no-store" in image["Cache-Control"]
    toopher_sandbox.respond_pairing(pairing_id, allow=True)
    assert poll_status(client_alice)["status"] == "paired"
    assert is_paired(alice)


def test_qr_image_only_for_a_qr_pairing_of_this_session(client_alice, toopher_phone, live):
    assert client_alice.get(reverse("django_toopher:pair_qr")).status_code == 404
    client_alice.post(
        reverse(PAIR), {"op": "phrase", "pairing_phrase": toopher_phone.pairing_phrase}
    )
    assert client_alice.get(reverse("django_toopher:pair_qr")).status_code == 404
    # A client-supplied id is ignored.
    pairing_id = pairing_id_in_session(client_alice)
    response = client_alice.get(reverse("django_toopher:pair_qr"), {"pairing_id": pairing_id})
    assert response.status_code == 404


def test_qr_image_when_toopher_fails(client_alice, toopher_sandbox, live):
    client_alice.post(reverse(PAIR), {"op": "qr"})
    toopher_sandbox.set_faults(key=live["key"], status=500)
    response = client_alice.get(reverse("django_toopher:pair_qr"))
    assert response.status_code == 503
    assert response["Content-Type"].startswith("text/plain")


# -- binding to the session and the user ------------------------------------------------------


def test_a_second_session_cannot_see_or_finish_the_first_ones_pairing(
    client_alice, alice, toopher_sandbox, toopher_phone
):
    client_alice.post(
        reverse(PAIR), {"op": "phrase", "pairing_phrase": toopher_phone.pairing_phrase}
    )
    pairing_id = pairing_id_in_session(client_alice)
    bob = make_user("bob")
    client_bob = login(Client(), bob)
    toopher_sandbox.respond_pairing(pairing_id, allow=True)
    response = client_bob.get(reverse("django_toopher:pair_status"), {"pairing_id": pairing_id})
    assert response.json()["status"] == "none"
    assert not is_paired(bob) and not is_paired(alice)
    # The same user in a second browser does not see it either.
    other_alice = login(Client(), alice)
    assert poll_status(other_alice)["status"] == "none"
    assert not is_paired(alice)


def test_another_users_pairing_id_is_refused(
    client_alice, alice, toopher_sandbox, toopher_phone, live
):
    """A session that holds a pairing id of another user (tampered state) pairs nothing."""
    from django_toopher.internal.flows import pairing

    bob = make_user("bob")
    bobs, problem = pairing.start(bob, toopher_phone.pairing_phrase)
    assert bobs is not None, problem
    toopher_sandbox.respond_pairing(bobs.id, allow=True)
    session = client_alice.session
    session[PAIRING_KEY] = {"id": bobs.id, "qr": False, "started": time.time(),
                                   "user": str(alice.pk)}
    session.save()
    data = poll_status(client_alice)
    assert data["status"] == "failed"
    assert "does not belong to your account" in data["message"]
    assert not is_paired(alice) and not is_paired(bob)
    assert not AuditEvent.objects.filter(kind="paired").exists()


def test_a_pairing_state_of_another_user_in_the_session_is_ignored(client_alice, alice):
    session = client_alice.session
    session[PAIRING_KEY] = {"id": "x", "qr": True, "started": time.time(),
                                   "user": str(alice.pk + 1)}
    session.save()
    assert poll_status(client_alice)["status"] == "none"
    assert client_alice.get(reverse("django_toopher:pair_qr")).status_code == 404


# -- CSRF ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "name,data",
    [
        (PAIR, {"op": "qr"}),
        (PAIR, {"op": "phrase", "pairing_phrase": "awkward turtle"}),
        ("django_toopher:unpair", {}),
        ("django_toopher:reauth", {"password": PASSWORD}),
    ],
)
def test_posts_need_a_csrf_token(alice, live, name, data, monkeypatch):
    counter = CountCalls(monkeypatch, "start_pairing")
    client = login(Client(enforce_csrf_checks=True), alice)
    response = client.post(reverse(name), data)
    assert response.status_code == 403
    assert counter.calls == 0
    assert pairing_id_in_session(client) is None


# -- unpairing ----------------------------------------------------------------------------------


def approve_action(client, sandbox, phone, *, grant=True):
    """Answer the action approval the site asked for on the phone; the final response."""
    response = client.get("/toopher/pending/")
    if response.status_code == 200 and b"pending/terminal" in response.content:
        client.post("/toopher/pending/terminal/", {"name": "Test browser"})
        client.get("/toopher/pending/")
    item = phone.wait_for_push(timeout=5)
    sandbox.respond_authentication(item["id"], grant=grant)
    from django.core.cache import caches

    caches["default"].clear()
    return item, client.get("/toopher/pending/")


def test_unpair_needs_recent_auth_approval_and_confirmation(
    client_alice, alice, toopher_sandbox, toopher_phone
):
    pair_by_phrase(client_alice, toopher_sandbox, toopher_phone)
    url = reverse("django_toopher:unpair")
    response = client_alice.get(url)
    assert response.status_code == 302
    assert response["Location"].startswith("/toopher/pending/")
    assert is_paired(alice)
    item, response = approve_action(client_alice, toopher_sandbox, toopher_phone)
    assert item["action_name"] == "Remove pairing"
    assert item["automation_allowed"] is False
    assert response.status_code == 302 and response["Location"] == url
    page = client_alice.get(url)
    assert page.status_code == 200
    assert b"Remove the pairing" in page.content
    assert is_paired(alice)  # the GET only asks
    response = client_alice.post(url)
    assert response["Location"] == reverse("django_toopher:security")
    assert not is_paired(alice)
    assert AuditEvent.objects.filter(kind="unpaired", user=alice, actor=None).count() == 1
    # Toopher forgot the pairing too: it can no longer authenticate.
    import toopher
    from django_toopher.internal.client import get_client

    with pytest.raises(toopher.PairingDeactivatedError):
        get_client().authenticate(item["pairing_id"], "Test browser", "Log in")


def test_unpair_can_end_the_other_sessions(client, alice, toopher_sandbox, toopher_phone):
    other = login(Client(), alice)  # a second browser, logged in before pairing
    login(client, alice)
    pair_by_phrase(client, toopher_sandbox, toopher_phone)
    client.get(reverse("django_toopher:unpair"))
    approve_action(client, toopher_sandbox, toopher_phone)
    response = client.post(reverse("django_toopher:unpair"), {"end_other_sessions": "1"},
                           follow=True)
    assert b"1 other session ended." in response.content
    assert not is_paired(alice)
    assert client.get(reverse("django_toopher:security")).status_code == 200
    assert other.get(reverse("django_toopher:security")).status_code == 302


def test_unpair_keeps_other_sessions_unless_asked(client, alice, toopher_sandbox, toopher_phone):
    other = login(Client(), alice)
    login(client, alice)
    pair_by_phrase(client, toopher_sandbox, toopher_phone)
    client.get(reverse("django_toopher:unpair"))
    approve_action(client, toopher_sandbox, toopher_phone)
    client.post(reverse("django_toopher:unpair"))
    assert not is_paired(alice)
    assert other.get(reverse("django_toopher:security")).status_code == 200


def test_security_page_shows_the_users_own_recent_activity(
    client_alice, alice, toopher_sandbox, toopher_phone
):
    from django_toopher.audit import record

    pair_by_phrase(client_alice, toopher_sandbox, toopher_phone)
    record(AuditEvent.Kind.DENIED, user=make_user("bob"), action="Log in")
    html = client_alice.get(reverse("django_toopher:security")).content.decode()
    assert "Recent activity" in html and "Phone paired" in html
    assert "Authentication denied" not in html  # bob's, not alice's


def test_unpair_refused_on_the_phone_keeps_the_pairing(
    client_alice, alice, toopher_sandbox, toopher_phone
):
    pair_by_phrase(client_alice, toopher_sandbox, toopher_phone)
    client_alice.get(reverse("django_toopher:unpair"))
    approve_action(client_alice, toopher_sandbox, toopher_phone, grant=False)
    response = client_alice.post(reverse("django_toopher:unpair"))
    assert response.status_code == 302
    assert response["Location"].startswith("/toopher/pending/")
    assert is_paired(alice)


def test_unpair_with_an_old_login_goes_to_reauth_first(
    client, alice, toopher_sandbox, toopher_phone
):
    login(client, alice)
    pair_by_phrase(client, toopher_sandbox, toopher_phone)
    fresh_auth(client, at=time.time() - 100_000)
    response = client.post(reverse("django_toopher:unpair"))
    assert response["Location"].startswith(reverse("django_toopher:reauth"))
    assert is_paired(alice)


def test_unpair_when_not_paired(client_alice, alice):
    response = client_alice.post(reverse("django_toopher:unpair"))
    assert response["Location"] == reverse("django_toopher:security")
    assert not AuditEvent.objects.filter(kind="unpaired").exists()


def test_unpair_while_toopher_fails_keeps_the_pairing(
    client_alice, alice, toopher_sandbox, toopher_phone, live
):
    pair_by_phrase(client_alice, toopher_sandbox, toopher_phone)
    client_alice.get(reverse("django_toopher:unpair"))
    approve_action(client_alice, toopher_sandbox, toopher_phone)
    toopher_sandbox.set_faults(key=live["key"], status=500)
    response = client_alice.post(reverse("django_toopher:unpair"), follow=True)
    assert response.status_code == 200
    assert b"still paired" in response.content
    assert is_paired(alice)


def test_pairing_state_with_a_uuid_primary_key(rf, monkeypatch, django_user_model):
    """Custom user models with UUID keys: the session state stays JSON-serialisable."""
    import json
    import uuid
    from types import SimpleNamespace

    from django.contrib.sessions.backends.signed_cookies import SessionStore

    from django_toopher.internal import modes
    from django_toopher.internal.flows import enrollment

    class FakeClient:
        def pair(self, pairing_phrase, user_name, **kwargs):
            return SimpleNamespace(id="0b6c7cf0-2a4a-4a4e-9d0f-6f3f1f2b9a11")

    class UnpairedMode(modes.StoredMode):
        client = FakeClient()

        def is_paired(self, user):
            return False

    monkeypatch.setitem(modes.MODES, modes.STORED, UnpairedMode())
    request = rf.post("/")
    request.session = SessionStore()
    request.user = django_user_model(pk=uuid.uuid4())
    assert enrollment.begin(request, "awkward turtle") is None
    json.dumps(request.session[PAIRING_KEY])
    assert enrollment.current_attempt(request).id.startswith("0b6c7cf0")
    request.user = django_user_model(pk=uuid.uuid4())
    assert enrollment.current_attempt(request) is None
