"""A lost phone, without an administrator: recovery codes and the reset link by email,
in both modes, each security property with its own test (reuse, another user's code,
the limit, CSRF, tampered/expired/reused links, no enumeration, the session binding)."""

from __future__ import annotations

import re
import time
import uuid
from datetime import timedelta
from io import StringIO
from typing import Any

import pytest
import requests
from django.contrib.auth import get_user_model
from django.core import mail, signing
from django.core.management import call_command
from django.test import Client
from django.utils import timezone

from django_toopher import signals
from django_toopher.internal import ratelimit, recovery_codes
from django_toopher.internal.cache import CacheUnavailable
from django_toopher.internal.flows import reset
from django_toopher.internal.modes import get_mode
from django_toopher.models import AuditEvent, ConsumedRequest, RecoveryCode
from django_toopher.testing import PASSWORD, Phone, pair

from .helpers import approve, logged_in_pk, login_fully, start_login, state

pytestmark = pytest.mark.django_db

CODE = "/toopher/pending/recovery-code/"
EMAIL = "/toopher/pending/reset-email/"
NEW_CODES = "/toopher/security/recovery-codes/new/"


def kinds(user: Any) -> list[str]:
    return list(AuditEvent.objects.filter(user=user).values_list("kind", flat=True))


def make_user(name: str = "rita", email: str | None = None) -> Any:
    """A user with an address of its own (the sandbox's outbox is shared by tests)."""
    address = f"{name}-{uuid.uuid4().hex[:10]}@example.com" if email is None else email
    return get_user_model().objects.create_user(username=f"{name}-{uuid.uuid4().hex[:6]}",
                                                email=address, password=PASSWORD)


@pytest.fixture
def rita(toopher_settings: dict[str, Any], toopher_sandbox: Any, toopher_phone: Phone) -> Any:
    """A paired user with a unique email address (stored mode unless MODE was changed)."""
    user = make_user()
    user.pairing_id = pair(user, toopher_phone)
    return user


@pytest.fixture
def received() -> Any:
    """The signals a recovery sends, as (signal name, kwargs)."""
    got: list[tuple[str, dict[str, Any]]] = []

    def listener(name: str) -> Any:
        def receive(sender: Any, **kwargs: Any) -> None:
            got.append((name, kwargs))
        return receive

    receivers = {name: listener(name) for name in
                 ("toopher_recovery_code_used", "toopher_verified", "toopher_unpaired")}
    for name, receiver in receivers.items():
        getattr(signals, name).connect(receiver)
    yield got
    for name, receiver in receivers.items():
        getattr(signals, name).disconnect(receiver)


# -- recovery codes: making them -------------------------------------------------------------


def _approve_action(client: Client, sandbox: Any, phone: Phone) -> None:
    client.get("/toopher/pending/")
    assert approve(client, sandbox, phone)["status"] == "granted"


def test_codes_need_a_fresh_approval_then_are_shown_once_and_kept_hashed(
        client, rita, toopher_sandbox, toopher_phone):
    login_fully(client, rita, toopher_sandbox, toopher_phone)
    response = client.get(NEW_CODES)
    assert response.status_code == 302 and response["Location"] == "/toopher/pending/"
    assert state(client)["action"] == "Generate recovery codes"
    _approve_action(client, toopher_sandbox, toopher_phone)
    assert client.get(NEW_CODES).status_code == 200  # the confirmation
    response = client.post(NEW_CODES)
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    codes = re.findall(r"<code>([0-9A-Z-]+)</code>", response.content.decode())
    assert len(codes) == recovery_codes.COUNT == len(set(codes))
    assert 'download="recovery-codes.txt"' in response.content.decode()
    digests = list(RecoveryCode.objects.filter(user=rita).values_list("digest", flat=True))
    assert len(digests) == 10
    assert not any(code.replace("-", "") in digest.upper() for code in codes for digest in digests)
    assert "recovery_codes_generated" in kinds(rita)
    page = client.get("/toopher/security/").content.decode()
    assert "10 unused codes" in page
    assert codes[0] not in client.get("/toopher/security/recovery-codes/").content.decode()


def test_a_new_set_kills_the_old_one(rita):
    old = recovery_codes.generate(rita)
    new = recovery_codes.generate(rita)
    assert not recovery_codes.use(rita, old[0])
    assert recovery_codes.use(rita, new[0])
    assert recovery_codes.remaining(rita) == 9


def test_codes_need_a_paired_phone(client, toopher_settings):
    user = make_user()
    client.force_login(user)
    assert client.get(NEW_CODES).status_code == 403
    assert not RecoveryCode.objects.filter(user=user).exists()


def strict(client: Client) -> Client:
    """A client with ``client``'s cookies that sends no CSRF token."""
    checked = Client(enforce_csrf_checks=True)
    checked.cookies = client.cookies
    return checked


def test_making_codes_is_csrf_checked(client, rita, toopher_sandbox, toopher_phone):
    login_fully(client, rita, toopher_sandbox, toopher_phone)
    client.get(NEW_CODES)
    _approve_action(client, toopher_sandbox, toopher_phone)
    assert strict(client).post(NEW_CODES).status_code == 403
    assert not RecoveryCode.objects.filter(user=rita).exists()


# -- recovery codes: using one ------------------------------------------------------------------


def test_a_code_ends_the_pending_login_once(client, rita, received):
    codes = recovery_codes.generate(rita)
    start_login(client, rita)
    response = client.post(CODE, {"code": codes[3].lower().replace("-", " ")})
    assert response.status_code == 302 and response["Location"] == "/toopher/security/"
    assert str(logged_in_pk(client)) == str(rita.pk)
    assert state(client) is None
    event = AuditEvent.objects.get(user=rita, kind="recovery_code_used")
    assert event.detail == "9 left"
    names = [name for name, _kwargs in received]
    assert names == ["toopher_recovery_code_used", "toopher_verified"]
    assert received[0][1]["remaining"] == 9 and received[1][1]["method"] == "recovery_code"
    page = client.get("/toopher/security/", follow=True).content.decode()
    assert "9 codes are left" in page and "pair a new phone" in page
    # the lost phone's pairing can be removed without it
    assert client.get("/toopher/security/unpair/").status_code == 200
    # the same code again, in a new login: refused, and the login still waits
    other = Client()
    start_login(other, rita)
    response = other.post(CODE, {"code": codes[3]}, follow=True)
    assert "not right, or it was used already" in response.content.decode()
    assert logged_in_pk(other) is None and state(other) is not None


def test_a_code_of_another_user_does_not_log_in(client, rita, toopher_settings):
    other_codes = recovery_codes.generate(make_user("otto"))
    recovery_codes.generate(rita)
    start_login(client, rita)
    client.post(CODE, {"code": other_codes[0]})
    assert logged_in_pk(client) is None and state(client) is not None
    assert "recovery_code_failed" in kinds(rita)


def test_wrong_codes_share_the_otp_limit_and_say_how_many_tries_remain(
        client, rita, toopher_settings):
    toopher_settings["OTP_RATE_LIMIT"] = 3
    codes = recovery_codes.generate(rita)
    start_login(client, rita)
    wrong = "AAAAA-AAAAA-AAAAA-AAAAA"
    response = client.post(CODE, {"code": wrong}, follow=True)
    assert "You can try 2 more times" in response.content.decode()
    client.post("/toopher/pending/otp/", {"otp": "000000"})  # one limit for both
    response = client.post(CODE, {"code": wrong}, follow=True)
    assert state(client) is None  # the third wrong code ended the login
    assert "Too many wrong codes" in response.content.decode()
    assert AuditEvent.objects.filter(user=rita, kind="rate_limited").exists()
    start_login(client, rita)  # a right code works in a new login
    client.post(CODE, {"code": codes[0]})
    assert str(logged_in_pk(client)) == str(rita.pk)


def test_a_malformed_code_changes_nothing(client, rita):
    recovery_codes.generate(rita)
    start_login(client, rita)
    before = state(client)
    response = client.post(CODE, {"code": "12ab<script>"}, follow=True)
    assert "20 letters and digits" in response.content.decode()
    assert state(client) == before
    assert ratelimit.otp_tries_left(before["id"]) == 5
    assert "recovery_code_failed" not in kinds(rita)


def test_using_a_code_is_csrf_checked(client, rita):
    codes = recovery_codes.generate(rita)
    start_login(client, rita)
    assert strict(client).post(CODE, {"code": codes[0]}).status_code == 403
    assert recovery_codes.remaining(rita) == 10 and logged_in_pk(client) is None


def test_a_code_needs_the_pending_login_of_this_session(client, rita):
    codes = recovery_codes.generate(rita)
    start_login(Client(), rita)  # another browser's pending login
    response = client.post(CODE, {"code": codes[0]})
    assert response.status_code == 302 and logged_in_pk(client) is None
    assert recovery_codes.remaining(rita) == 10


def test_a_code_cannot_approve_an_action(client, rita, toopher_sandbox, toopher_phone):
    codes = recovery_codes.generate(rita)
    login_fully(client, rita, toopher_sandbox, toopher_phone)
    client.get(NEW_CODES)  # an action approval waits
    client.post(CODE, {"code": codes[0]})
    assert recovery_codes.remaining(rita) == 10
    assert state(client)["kind"] == "action"


def test_of_two_racing_uses_of_a_code_one_wins(rita, monkeypatch):
    codes = recovery_codes.generate(rita)
    compare = recovery_codes.constant_time_compare

    def racing(a: str, b: str) -> bool:
        same = compare(a, b)
        if same:  # another request uses the same code between the read and the update
            RecoveryCode.objects.filter(digest=a).update(used_at="2020-01-01T00:00:00Z")
        return same

    monkeypatch.setattr(recovery_codes, "constant_time_compare", racing)
    assert not recovery_codes.use(rita, codes[0])


def test_codes_work_in_zero_storage_mode(client, zero_conf, toopher_sandbox, toopher_phone):
    user = make_user()
    pair(user, toopher_phone)
    codes = recovery_codes.generate(user)
    start_login(client, user)
    client.post(CODE, {"code": codes[0]})
    assert str(logged_in_pk(client)) == str(user.pk)


def test_a_code_made_under_an_old_secret_key_still_works(rita, settings):
    codes = recovery_codes.generate(rita)
    settings.SECRET_KEY_FALLBACKS = [settings.SECRET_KEY]
    settings.SECRET_KEY = "a-new-secret-key-" + "x" * 40
    assert recovery_codes.use(rita, codes[0])


# -- the reset link by email --------------------------------------------------------------------


@pytest.fixture
def quick(monkeypatch: Any) -> None:
    """Answers padded to 0.2 s instead of a second."""
    monkeypatch.setattr(reset, "ANSWER_SECONDS", 0.2)


def _sent_to(sandbox: Any, address: str) -> list[dict[str, Any]]:
    return [m for m in sandbox.messages() if m["to"] == address]


def test_stored_mode_sends_toopher_s_link_and_it_ends_the_pairing(
        client, rita, toopher_sandbox, toopher_phone, quick):
    start_login(client, rita)
    response = client.post(EMAIL, follow=True)
    assert "a link to reset the pairing is on its way" in response.content.decode()
    assert state(client) is not None  # the login still waits (the phone may turn up)
    sent = _sent_to(toopher_sandbox, rita.email)
    assert len(sent) == 1
    assert AuditEvent.objects.get(user=rita, kind="reset_link_sent").detail == "toopher"
    link = re.search(r"https?://\S+", sent[0]["body"]).group(0)
    browser = requests.Session()
    form = browser.get(link, timeout=5).text
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', form).group(1)
    page = browser.post(link, {"csrfmiddlewaretoken": token}, timeout=5)
    assert page.status_code == 200
    # the next login meets a deactivated pairing and pairs again
    client.post("/toopher/pending/cancel/")
    response = start_login(client, rita)
    assert state(client)["step"] == "pair" and state(client)["repair"] is True


def _zero_user(sandbox: Any, phone: Phone) -> Any:
    user = make_user("zed")
    pair(user, phone)
    return user


def _mailed_link(client: Client, user: Any) -> str:
    start_login(client, user)
    client.post(EMAIL)
    body = mail.outbox[-1].body
    assert mail.outbox[-1].to == [user.email]
    return re.search(r"http://testserver(\S+)", body).group(1)


def test_zero_storage_mails_a_signed_link_that_resets_once(
        client, zero_conf, toopher_sandbox, toopher_phone, quick, received):
    user = _zero_user(toopher_sandbox, toopher_phone)
    link = _mailed_link(client, user)
    assert AuditEvent.objects.get(user=user, kind="reset_link_sent").detail == "site"
    assert client.get(link).status_code == 200  # opening it changes nothing
    assert get_mode().is_paired(user)
    response = client.post(link)
    assert response.status_code == 302 and response["Location"] == "/toopher/security/"
    assert str(logged_in_pk(client)) == str(user.pk)  # enrollment is optional here
    assert not get_mode().is_paired(user)
    assert "reset_by_email" in kinds(user)
    assert "toopher_unpaired" in [name for name, _kwargs in received]
    # used once: a new login of the same user cannot use it again
    other = Client()
    pair(user, Phone.create(toopher_sandbox))
    start_login(other, user)
    response = other.post(link, follow=True)
    assert "not valid, has expired or was used already" in response.content.decode()
    assert get_mode().is_paired(user) and logged_in_pk(other) is None


def test_after_a_reset_an_enrollment_site_pairs_the_new_phone(
        client, zero_conf, toopher_sandbox, toopher_phone, quick):
    zero_conf["REQUIRE_ENROLLMENT"] = True
    user = _zero_user(toopher_sandbox, toopher_phone)
    link = _mailed_link(client, user)
    client.post(link)
    assert logged_in_pk(client) is None
    assert state(client)["step"] == "pair"


def test_a_tampered_link_is_refused(client, zero_conf, toopher_sandbox, toopher_phone, quick):
    user = _zero_user(toopher_sandbox, toopher_phone)
    link = _mailed_link(client, user)
    token = link.rstrip("/").rsplit("/", 1)[1]
    tampered = link.replace(token, token[:-2] + ("AA" if token[-2:] != "AA" else "BB"))
    assert client.get(tampered).status_code == 400
    client.post(tampered)
    assert get_mode().is_paired(user) and logged_in_pk(client) is None


def test_an_expired_link_is_refused(
    client, zero_conf, toopher_sandbox, toopher_phone, quick, monkeypatch
):
    user = _zero_user(toopher_sandbox, toopher_phone)
    start_login(client, user)
    now = time.time()
    monkeypatch.setattr(signing.time, "time", lambda: now - 3601)
    token = reset.make_token(user)
    monkeypatch.setattr(signing.time, "time", lambda: now)
    link = f"/toopher/pending/reset/{token}/"
    assert client.get(link).status_code == 400
    client.post(link)
    assert get_mode().is_paired(user) and logged_in_pk(client) is None


def test_a_link_works_only_in_its_user_s_pending_login(
    client, zero_conf, toopher_sandbox, toopher_phone, quick
):
    user = _zero_user(toopher_sandbox, toopher_phone)
    link = _mailed_link(Client(), user)
    # no pending login here: log in first
    response = client.get(link)
    assert response.status_code == 400 and "Log in with your password first" in \
        response.content.decode()
    # another user's pending login: refused
    eve = make_user("eve")
    pair(eve, Phone.create(toopher_sandbox))
    start_login(client, eve)
    client.post(link)
    assert get_mode().is_paired(user) and logged_in_pk(client) is None


def test_a_new_password_kills_the_link(client, zero_conf, toopher_sandbox, toopher_phone, quick):
    user = _zero_user(toopher_sandbox, toopher_phone)
    link = _mailed_link(client, user)
    user.set_password(PASSWORD)  # a new hash (new salt)
    user.save()
    client.post(link)
    assert get_mode().is_paired(user) and logged_in_pk(client) is None


def test_the_answer_does_not_tell_whether_a_mail_went_out(
        client, zero_conf, toopher_sandbox, toopher_phone, quick):
    paired = _zero_user(toopher_sandbox, toopher_phone)
    nobody = make_user("nomail", email="")
    pair(nobody, Phone.create(toopher_sandbox))
    lost = make_user("lost")  # reset at Toopher already: no phone any more
    toopher_sandbox.deactivate_pairing(pair(lost, Phone.create(toopher_sandbox)))
    answers = []
    for user in (paired, nobody, lost):
        browser = Client()
        start_login(browser, user)
        started = time.monotonic()
        response = browser.post(EMAIL, follow=True)
        answers.append((response.status_code,
                        re.findall(r"<li class=\"\w*\">(.*?)</li>", response.content.decode())))
        assert time.monotonic() - started >= 0.2
    assert answers[0] == answers[1] == answers[2]
    assert len(mail.outbox) == 1


def test_reset_mails_are_limited_per_user(client, zero_conf, toopher_sandbox, toopher_phone, quick):
    user = _zero_user(toopher_sandbox, toopher_phone)
    start_login(client, user)
    for _ in range(reset.SEND_LIMIT + 2):
        client.post(EMAIL)
    assert len(mail.outbox) == reset.SEND_LIMIT


def test_asking_for_a_link_is_csrf_checked(client, rita, toopher_sandbox, quick):
    start_login(client, rita)
    assert strict(client).post(EMAIL).status_code == 403
    assert not _sent_to(toopher_sandbox, rita.email)


def test_a_link_stays_usable_when_toopher_fails_and_nothing_changed(
        client, zero_conf, toopher_sandbox, toopher_phone, quick):
    user = _zero_user(toopher_sandbox, toopher_phone)
    link = _mailed_link(client, user)
    toopher_sandbox.set_faults(status=503, key=zero_conf["CONSUMER_KEY"])
    response = client.post(link, follow=True)
    assert response.status_code == 200 and logged_in_pk(client) is None
    assert "cannot be reached" in response.content.decode()
    assert "reset_by_email" not in kinds(user) and "unpaired" not in kinds(user)
    toopher_sandbox.clear_faults(zero_conf["CONSUMER_KEY"])
    client.post(link)
    assert str(logged_in_pk(client)) == str(user.pk)
    assert {"unpaired", "reset_by_email"} <= set(kinds(user))


def test_the_reset_request_does_not_fail_when_toopher_fails(client, rita, toopher_sandbox, quick,
                                                           toopher_settings):
    start_login(client, rita)
    toopher_sandbox.set_faults(status=503, key=toopher_settings["CONSUMER_KEY"])
    response = client.post(EMAIL, follow=True)
    assert response.status_code == 200
    assert "a link to reset the pairing is on its way" in response.content.decode()
    assert "reset_link_sent" not in kinds(rita)


def test_the_cleanup_keeps_a_used_link_s_marker_while_the_link_could_be_valid(
        client, zero_conf, toopher_sandbox, toopher_phone, quick):
    user = _zero_user(toopher_sandbox, toopher_phone)
    link = _mailed_link(client, user)
    client.post(link)
    marker = ConsumedRequest.objects.get(request_id__startswith="reset:")
    ConsumedRequest.objects.filter(pk=marker.pk).update(
        used_at=timezone.now() - timedelta(seconds=3000))  # older than any pending login
    call_command("toopher_cleanup", stdout=StringIO())
    assert ConsumedRequest.objects.filter(pk=marker.pk).exists()
    pair(user, Phone.create(toopher_sandbox))
    other = Client()
    start_login(other, user)
    other.post(link)
    assert get_mode().is_paired(user) and logged_in_pk(other) is None


def test_a_failing_cache_sends_nothing_and_answers_as_always(
        client, zero_conf, toopher_sandbox, toopher_phone, quick, monkeypatch):
    user = _zero_user(toopher_sandbox, toopher_phone)
    start_login(client, user)

    def no_cache(*args: Any, **kwargs: Any) -> bool:
        raise CacheUnavailable("down")

    monkeypatch.setattr(ratelimit, "hit", no_cache)
    response = client.post(EMAIL, follow=True)
    assert "a link to reset the pairing is on its way" in response.content.decode()
    assert not mail.outbox and state(client) is not None
