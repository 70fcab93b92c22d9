"""The stored-ID login flow against the live sandbox: pending state, one push,
polling, grant, denial, cancel, expiry, OTP, pairing at login, signals, audit."""

from __future__ import annotations

import time

import pytest
from django.contrib.auth import HASH_SESSION_KEY
from django.test import Client

from django_toopher import signals
from django_toopher.internal.cookies import HINT_COOKIE
from django_toopher.models import AuditEvent, Terminal, ToopherProfile
from django_toopher.session_keys import AUTH_AT, PENDING
from django_toopher.testing import PASSWORD, Phone, pair

from .helpers import approve, edit_state, logged_in_pk, start_login, state, template_name

pytestmark = pytest.mark.django_db(transaction=False)


def kinds(user):
    return list(
        AuditEvent.objects.filter(user=user).order_by("id").values_list("kind", flat=True)
    )


def test_password_step_leaves_an_anonymous_pending_session(client, toopher_paired_user, login):
    response = login(client, toopher_paired_user, "/private/")
    assert response.status_code == 302
    session = client.session
    assert logged_in_pk(client) is None
    assert HASH_SESSION_KEY not in session
    pending = session[PENDING]
    assert pending["user"] == str(toopher_paired_user.pk)
    assert pending["next"] == "/private/"
    assert pending["step"] == "start"
    assert pending["request_id"] is None
    assert "password" not in str(pending).lower()
    assert client.cookies[HINT_COOKIE].value == "1"
    # Any page: anonymous, and the middleware sends the browser to the pending page.
    response = client.get("/private/")
    assert response.status_code == 302 and response["Location"] == "/toopher/pending/"


def test_pending_session_is_anonymous_even_without_the_middleware(
    client, toopher_paired_user, login, settings
):
    settings.MIDDLEWARE = [
        m for m in settings.MIDDLEWARE if m != "django_toopher.middleware.ToopherMiddleware"
    ]
    login(client, toopher_paired_user)
    assert client.get("/").content == b"home: anonymous"
    response = client.get("/private/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


def test_exempt_paths_are_served_but_stay_anonymous(
    client, toopher_paired_user, login, toopher_settings
):
    toopher_settings["EXEMPT_PATHS"] = ["/private/"]
    login(client, toopher_paired_user)
    # Served, not sent to the pending page, and the user is still anonymous there.
    response = client.get("/private/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")
    # Everything else still goes to the pending page.
    assert client.get("/")["Location"] == "/toopher/pending/"


def test_full_login_grant_cycles_session_and_csrf(
    client, toopher_paired_user, toopher_sandbox, toopher_phone, login
):
    login(client, toopher_paired_user, "/private/")
    client.get("/toopher/pending/")  # name this browser
    client.post("/toopher/pending/terminal/", {"name": "Work laptop"})
    client.get("/toopher/pending/")
    key_before = client.session.session_key
    csrf_before = client.cookies["csrftoken"].value
    data = approve(client, toopher_sandbox, toopher_phone)
    assert data == {**data, "status": "granted", "final": True, "redirect": "/private/"}
    assert client.session.session_key != key_before
    assert client.cookies["csrftoken"].value != csrf_before
    assert str(logged_in_pk(client)) == str(toopher_paired_user.pk)
    assert PENDING not in client.session
    assert time.time() - client.session[AUTH_AT] < 5
    assert client.get("/private/").content == b"private: alice"
    assert kinds(toopher_paired_user)[-3:] == ["terminal_named", "requested", "granted"]


def test_the_phone_sees_action_and_terminal_name(
    client, toopher_paired_user, toopher_sandbox, toopher_phone, login
):
    start_login(client, toopher_paired_user, terminal_name="Kitchen PC")
    item = toopher_phone.wait_for_push(timeout=5)
    text = str(item)
    assert "Kitchen PC" in text
    assert "Log in" in text


def test_one_push_whatever_the_reloads(
    client, toopher_paired_user, toopher_sandbox, toopher_phone, api_calls
):
    start_login(client, toopher_paired_user)
    for _ in range(5):
        assert client.get("/toopher/pending/").status_code == 200
    assert api_calls.count("authentication_requests/initiate") == 1
    assert len(toopher_sandbox.pending(toopher_phone.phone_id)["authentication_requests"]) == 1


def test_a_concurrent_reload_adopts_the_push_instead_of_sending_another(
    client, toopher_paired_user, toopher_sandbox, toopher_phone, api_calls
):
    """Two tabs load the pending page at once: the second one, which lost the cache
    lock, must not push; it picks up the request id of the first."""
    from django_toopher.internal.cookies import HINT_COOKIE

    start_login(client, toopher_paired_user, terminal_name="Laptop")
    request_id = state(client)["request_id"]
    edit_state(client, step="start", request_id=None)  # as the losing tab saw it
    assert client.get("/toopher/pending/").status_code == 200
    assert state(client)["request_id"] == request_id
    assert api_calls.count("authentication_requests/initiate") == 1
    assert HINT_COOKIE in client.cookies


def test_polls_make_at_most_one_upstream_call_per_interval(
    client, toopher_paired_user, toopher_sandbox, toopher_phone, api_calls, toopher_settings
):
    toopher_settings["POLL_INTERVAL"] = 60
    start_login(client, toopher_paired_user)
    # A second tab of the same browser shares the session cookie.
    other_tab = Client()
    other_tab.cookies = client.cookies
    api_calls.reset()
    for _ in range(5):
        assert client.get("/toopher/pending/status/").json()["status"] == "pushed"
        assert other_tab.get("/toopher/pending/status/").json()["status"] == "pushed"
        client.post("/toopher/pending/", {"op": "check"})
        client.get("/toopher/pending/")
    assert api_calls.count("authentication_requests/") == 1


def test_polls_call_upstream_again_after_the_interval(
    client, toopher_paired_user, toopher_sandbox, toopher_phone, api_calls, toopher_settings
):
    start_login(client, toopher_paired_user)
    api_calls.reset()
    client.get("/toopher/pending/status/")
    client.get("/toopher/pending/status/")
    assert len(api_calls) == 1
    time.sleep(1.1)
    client.get("/toopher/pending/status/")
    assert len(api_calls) == 2


def test_a_poll_that_changes_nothing_writes_nothing(
    client, toopher_paired_user, toopher_sandbox, toopher_phone, django_assert_num_queries
):
    start_login(client, toopher_paired_user)
    client.get("/toopher/pending/status/")
    # One query: the session is read; nothing is written, no user is loaded.
    with django_assert_num_queries(1):
        data = client.get("/toopher/pending/status/").json()
    assert data["status"] == "pushed"
    assert 0 < data["remaining"] <= 120


def test_denial_ends_the_pending_login(client, toopher_paired_user, toopher_sandbox, toopher_phone):
    seen = []

    def receiver(sender, **kwargs):
        seen.append(kwargs)

    signals.toopher_denied.connect(receiver)
    try:
        start_login(client, toopher_paired_user)
        data = approve(client, toopher_sandbox, toopher_phone, grant=False, reason="not me")
    finally:
        signals.toopher_denied.disconnect(receiver)
    assert data["status"] == "denied" and data["final"] is True
    assert data["redirect"] == "/accounts/login/"
    assert PENDING not in client.session
    assert logged_in_pk(client) is None
    assert kinds(toopher_paired_user)[-1] == "denied"
    assert seen and seen[0]["user"] == toopher_paired_user and seen[0]["action"] == "Log in"
    # Polling again finds nothing; the pending page sends the browser to log in.
    assert client.get("/toopher/pending/status/").status_code == 404
    response = client.get("/toopher/pending/")
    assert response.status_code == 302 and response["Location"] == "/accounts/login/"


def test_signals_for_request_and_grant(client, toopher_paired_user, toopher_sandbox, toopher_phone):
    seen = []

    def requested(sender, **kwargs):
        seen.append(("requested", kwargs["action"]))

    def granted(sender, **kwargs):
        seen.append(("granted", kwargs["action"], kwargs["automated"]))

    signals.toopher_requested.connect(requested)
    signals.toopher_granted.connect(granted)
    try:
        start_login(client, toopher_paired_user)
        approve(client, toopher_sandbox, toopher_phone)
    finally:
        signals.toopher_requested.disconnect(requested)
        signals.toopher_granted.disconnect(granted)
    assert seen == [("requested", "Log in"), ("granted", "Log in", False)]


def test_cancel(client, toopher_paired_user, toopher_sandbox, toopher_phone):
    start_login(client, toopher_paired_user)
    response = client.post("/toopher/pending/cancel/")
    assert response.status_code == 302 and response["Location"] == "/accounts/login/"
    assert PENDING not in client.session
    assert kinds(toopher_paired_user)[-1] == "cancelled"
    assert client.get("/private/")["Location"].startswith("/accounts/login/")


def test_expired_pending_login(client, toopher_paired_user, toopher_sandbox, toopher_phone):
    from django_toopher.internal.cancel import wait_for_cancels
    from toopher_sandbox.testing import SandboxError

    start_login(client, toopher_paired_user)
    item = toopher_phone.wait_for_push(timeout=5)
    edit_state(client, step_at=time.time() - 121)
    data = client.get("/toopher/pending/status/").json()
    assert data["status"] == "expired" and data["final"] is True
    assert PENDING not in client.session
    assert kinds(toopher_paired_user)[-1] == "expired"
    # The push is cancelled at Toopher: the phone drops it, and a late answer there
    # is refused and changes nothing here.
    wait_for_cancels()
    assert toopher_sandbox.pending(toopher_phone.phone_id)["authentication_requests"] == []
    with pytest.raises(SandboxError, match="cancelled"):
        toopher_sandbox.respond_authentication(item["id"], grant=True)
    assert client.get("/toopher/pending/status/").status_code == 404
    assert logged_in_pk(client) is None


def test_expiry_also_applies_before_the_push(client, toopher_paired_user, login, api_calls):
    login(client, toopher_paired_user)
    edit_state(client, step_at=time.time() - 500, started=time.time() - 500)
    response = client.get("/toopher/pending/")
    assert response.status_code == 302 and response["Location"] == "/accounts/login/"
    assert len(api_calls) == 0


def test_page_without_javascript(client, toopher_paired_user, toopher_sandbox, toopher_phone):
    response = start_login(client, toopher_paired_user)
    html = response.content.decode()
    assert 'http-equiv="refresh"' in html  # inside <noscript>
    assert 'name="op" value="check"' in html
    assert 'role="status"' in html and 'aria-live="polite"' in html
    assert "django_toopher/pending.js" in html
    item = toopher_phone.wait_for_push(timeout=5)
    toopher_sandbox.respond_authentication(item["id"], grant=True)
    response = client.post("/toopher/pending/", {"op": "check"})
    assert response.status_code == 302 and response["Location"] == "/"
    assert str(logged_in_pk(client)) == str(toopher_paired_user.pk)


def test_refreshing_the_page_finishes_the_login(
    client, toopher_paired_user, toopher_sandbox, toopher_phone
):
    start_login(client, toopher_paired_user, next_url="/private/")
    item = toopher_phone.wait_for_push(timeout=5)
    toopher_sandbox.respond_authentication(item["id"], grant=True)
    response = client.get("/toopher/pending/")
    assert response.status_code == 302 and response["Location"] == "/private/"
    assert str(logged_in_pk(client)) == str(toopher_paired_user.pk)


def test_otp_fallback(client, toopher_paired_user, toopher_sandbox, toopher_phone):
    start_login(client, toopher_paired_user)
    code = toopher_sandbox.otp(toopher_phone.pairing_id)
    response = client.post("/toopher/pending/otp/", {"otp": code})
    assert response.status_code == 302 and response["Location"] == "/"
    assert str(logged_in_pk(client)) == str(toopher_paired_user.pk)


def test_otp_is_rate_limited(
    client, toopher_paired_user, toopher_sandbox, toopher_phone, toopher_settings
):
    toopher_settings["OTP_RATE_LIMIT"] = 3
    start_login(client, toopher_paired_user)
    right = toopher_sandbox.otp(toopher_phone.pairing_id)
    wrong = "000000" if right != "000000" else "111111"
    for _ in range(2):
        response = client.post("/toopher/pending/otp/", {"otp": wrong})
        assert response["Location"] == "/toopher/pending/"
        assert PENDING in client.session
    response = client.post("/toopher/pending/otp/", {"otp": wrong})
    assert response["Location"] == "/accounts/login/"
    assert PENDING not in client.session
    assert kinds(toopher_paired_user).count("otp_failed") == 3
    # Even the right code does nothing now.
    client.post("/toopher/pending/otp/", {"otp": right})
    assert logged_in_pk(client) is None


def test_malformed_otp_is_a_clear_error_and_changes_nothing(
    client, toopher_paired_user, toopher_sandbox, toopher_phone
):
    start_login(client, toopher_paired_user)
    before = dict(state(client))
    response = client.post("/toopher/pending/otp/", {"otp": "12ab<script>"}, follow=True)
    assert response.status_code == 200
    assert "Enter the digits" in response.content.decode()
    assert state(client) == before


def test_push_rate_limit(
    client, toopher_paired_user, toopher_sandbox, toopher_phone, toopher_settings, api_calls
):
    toopher_settings["PUSH_RATE_LIMIT"] = 2
    for _ in range(2):
        start_login(client, toopher_paired_user)
        assert state(client)["step"] == "pushed"
        client.post("/toopher/pending/cancel/")
    start_login(client, toopher_paired_user)
    assert PENDING not in client.session
    assert logged_in_pk(client) is None
    assert api_calls.count("authentication_requests/initiate") == 2
    assert kinds(toopher_paired_user)[-1] == "rate_limited"
    response = client.get("/accounts/login/")
    assert "Too many approval requests" in response.content.decode()


def test_push_rate_limit_is_per_user(
    client, toopher_paired_user, toopher_sandbox, toopher_phone, toopher_settings, django_user_model
):

    toopher_settings["PUSH_RATE_LIMIT"] = 1
    start_login(client, toopher_paired_user)
    client.post("/toopher/pending/cancel/")
    bob = django_user_model.objects.create_user("bob", password=PASSWORD)
    pair(bob, Phone.create(toopher_sandbox))
    other = Client()
    start_login(other, bob)
    assert state(other)["step"] == "pushed"


def test_unpaired_user_logs_in_with_the_password(
    client, toopher_user, toopher_settings, login, api_calls
):
    response = login(client, toopher_user, "/private/")
    assert response["Location"] == "/private/"
    assert str(logged_in_pk(client)) == str(toopher_user.pk)
    assert AUTH_AT in client.session
    assert HINT_COOKIE not in client.cookies or not client.cookies[HINT_COOKIE].value
    assert len(api_calls) == 0


def test_disabled_profile_logs_in_with_the_password(client, toopher_paired_user, login):
    ToopherProfile.objects.filter(user=toopher_paired_user).update(enabled=False)
    login(client, toopher_paired_user)
    assert str(logged_in_pk(client)) == str(toopher_paired_user.pk)


def test_second_login_from_a_named_browser_skips_naming(
    client, toopher_paired_user, toopher_sandbox, toopher_phone
):
    start_login(client, toopher_paired_user, terminal_name="Laptop")
    approve(client, toopher_sandbox, toopher_phone)
    client.post("/accounts/logout/")
    response = start_login(client, toopher_paired_user, terminal_name=None)
    assert template_name(response) == "django_toopher/pending.html"
    assert state(client)["terminal_name"] == "Laptop"
    assert Terminal.objects.filter(user=toopher_paired_user).count() == 1


def test_invalid_terminal_name_is_a_clear_error(client, toopher_paired_user, login, api_calls):
    login(client, toopher_paired_user)
    client.get("/toopher/pending/")
    response = client.post("/toopher/pending/terminal/", {"name": "   "})
    assert response.status_code == 400
    assert template_name(response) == "django_toopher/name_terminal.html"
    assert response.context["name_form"].errors
    for bad in ("x" * 101, "x" * 10_000, "Laptop\u202eevil", "bell\x07", "nul\x00"):
        response = client.post("/toopher/pending/terminal/", {"name": bad})
        assert response.status_code == 400, repr(bad)
        assert response.context["name_form"].errors, repr(bad)
    assert state(client)["step"] == "name_terminal"
    assert not Terminal.objects.exists()
    assert len(api_calls) == 0


def test_deactivated_pairing_offers_repair(
    client, toopher_paired_user, toopher_sandbox, toopher_phone, toopher_settings
):
    toopher_sandbox.deactivate_pairing(toopher_phone.pairing_id)
    response = start_login(client, toopher_paired_user)
    assert template_name(response) == "django_toopher/pair_login.html"
    assert response.context["repair"] is True
    assert state(client)["step"] == "pair"


def test_deactivated_pairing_refused_without_repair(
    client, toopher_paired_user, toopher_sandbox, toopher_phone, toopher_settings
):
    toopher_settings["ALLOW_REPAIR"] = False
    toopher_sandbox.deactivate_pairing(toopher_phone.pairing_id)
    response = start_login(client, toopher_paired_user)
    assert response.status_code == 302 and response["Location"] == "/accounts/login/"
    assert PENDING not in client.session
    assert logged_in_pk(client) is None


def test_required_enrollment_pairs_inside_the_pending_login(
    client, toopher_user, toopher_sandbox, toopher_phone, toopher_settings, login
):
    toopher_settings["REQUIRE_ENROLLMENT"] = True
    login(client, toopher_user, "/private/")
    assert logged_in_pk(client) is None
    response = client.get("/toopher/pending/")
    assert template_name(response) == "django_toopher/pair_login.html"
    response = client.post(
        "/toopher/pending/pair/", {"pairing_phrase": toopher_phone.pairing_phrase}
    )
    assert response["Location"] == "/toopher/pending/"
    assert state(client)["step"] == "pairing"
    pairing = toopher_sandbox.wait_for_pending(toopher_phone.phone_id, "pairings", timeout=5)
    toopher_sandbox.respond_pairing(pairing["id"], allow=True)
    data = client.get("/toopher/pending/status/").json()
    assert data["status"] == "start" and data["redirect"] == "/toopher/pending/"
    assert ToopherProfile.objects.get(user=toopher_user).pairing_id == pairing["id"]
    response = client.get("/toopher/pending/")  # names the browser first
    client.post("/toopher/pending/terminal/", {"name": "Laptop"})
    client.get("/toopher/pending/")
    data = approve(client, toopher_sandbox, toopher_phone)
    assert data["status"] == "granted" and data["redirect"] == "/private/"
    assert str(logged_in_pk(client)) == str(toopher_user.pk)
    assert "paired" in kinds(toopher_user)


def test_pairing_by_qr_code_at_login(
    client, toopher_user, toopher_sandbox, toopher_phone, toopher_settings, login
):
    toopher_settings["REQUIRE_ENROLLMENT"] = True
    login(client, toopher_user)
    client.get("/toopher/pending/")
    assert client.get("/toopher/pending/pair/qr.png").status_code == 404  # none yet
    client.post("/toopher/pending/pair/", {"use_qr": "1"})
    assert state(client)["pairing"]["qr"] is True
    response = client.get("/toopher/pending/pair/qr.png")
    assert response.status_code == 200 and response["Content-Type"] == "image/png"
    assert response.content.startswith(b"\x89PNG")


def test_denied_pairing_ends_the_login(
    client, toopher_user, toopher_sandbox, toopher_phone, toopher_settings, login
):
    toopher_settings["REQUIRE_ENROLLMENT"] = True
    login(client, toopher_user)
    client.get("/toopher/pending/")
    client.post("/toopher/pending/pair/", {"pairing_phrase": toopher_phone.pairing_phrase})
    pairing = toopher_sandbox.wait_for_pending(toopher_phone.phone_id, "pairings", timeout=5)
    toopher_sandbox.respond_pairing(pairing["id"], allow=False)
    data = client.get("/toopher/pending/status/").json()
    assert data["status"] == "denied"
    assert PENDING not in client.session
    assert not ToopherProfile.objects.filter(user=toopher_user, pairing_id__isnull=False).exists()


def test_bad_pairing_phrase_is_a_clear_error(
    client, toopher_user, toopher_sandbox, toopher_settings, login
):
    toopher_settings["REQUIRE_ENROLLMENT"] = True
    login(client, toopher_user)
    client.get("/toopher/pending/")
    response = client.post("/toopher/pending/pair/", {"pairing_phrase": "no such phrase"},
                           follow=True)
    assert response.status_code == 200
    assert "Toopher did not accept this pairing" in response.content.decode()
    assert state(client)["step"] == "pair"
    for bad in ("<b>", "12 34", "one_two", "a" * 61):
        response = client.post("/toopher/pending/pair/", {"pairing_phrase": bad})
        assert response.status_code == 400, repr(bad)
        assert response.context["pair_form"].errors, repr(bad)
        assert state(client)["step"] == "pair"


@pytest.mark.parametrize("otp", ["\u0661\u0662\u0663\u0664\u0665\u0666", "1" * 13, "", "12 34"])
def test_otp_form_rejects_non_ascii_digits_and_bad_lengths(
    client, toopher_paired_user, toopher_sandbox, toopher_phone, api_calls, otp
):
    start_login(client, toopher_paired_user)
    api_calls.reset()
    before = dict(state(client))
    response = client.post("/toopher/pending/otp/", {"otp": otp})
    assert response["Location"] == "/toopher/pending/"
    assert state(client) == before
    assert api_calls.count("otp_auth") == 0


def test_broken_pending_state_is_never_a_500(client, toopher_settings):
    client.get("/")
    session = client.session
    session[PENDING] = {"v": 1, "kind": "login", "step": "pushed", "id": "x"}
    session.save()
    response = client.get("/toopher/pending/status/")
    # An old (v1) or malformed pending dict is no pending login at all.
    assert response.status_code == 404 and response.json()["final"] is True
    assert logged_in_pk(client) is None
    session = client.session
    session[PENDING] = "garbage"
    session.save()
    response = client.get("/toopher/pending/")
    assert response.status_code == 302
    assert PENDING not in client.session


def test_repair_at_login_replaces_the_pairing_then_pushes(
    client, toopher_paired_user, toopher_sandbox, toopher_phone, toopher_settings
):
    old_pairing = toopher_phone.pairing_id
    start_login(client, toopher_paired_user, terminal_name="Laptop")
    approve(client, toopher_sandbox, toopher_phone)
    client.post("/accounts/logout/")
    toopher_sandbox.deactivate_pairing(old_pairing)
    start_login(client, toopher_paired_user, terminal_name=None)
    assert state(client)["step"] == "pair" and state(client)["repair"] is True
    phrase = toopher_sandbox.new_phrase(toopher_phone.phone_id)
    client.post("/toopher/pending/pair/", {"pairing_phrase": phrase})
    pairing = toopher_sandbox.wait_for_pending(toopher_phone.phone_id, "pairings", timeout=5)
    toopher_sandbox.respond_pairing(pairing["id"], allow=True)
    assert client.get("/toopher/pending/status/").json()["redirect"] == "/toopher/pending/"
    new_pairing = ToopherProfile.objects.get(user=toopher_paired_user).pairing_id
    assert new_pairing == pairing["id"] != old_pairing
    client.get("/toopher/pending/")
    assert state(client)["step"] == "pushed"
    assert approve(client, toopher_sandbox, toopher_phone)["status"] == "granted"
    assert str(logged_in_pk(client)) == str(toopher_paired_user.pk)
