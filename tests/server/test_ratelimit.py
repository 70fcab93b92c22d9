"""Rate limits per requester and per user on every call that sends a push or checks a code:
a refused call is a Toopher 429 JSON error that changes nothing, and nobody else is slowed."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from django.core.cache import caches
from django.core.exceptions import ImproperlyConfigured
from django.test import Client, override_settings

from toopher_sandbox.models import Message
from toopher_server import phones, ratelimit, totp
from toopher_server.audit_models import AuditRecord
from toopher_server.models import (
    AuthenticationRequest,
    Pairing,
    PairingPhrase,
    Terminal,
    User,
)

from .calls import URLCONF, Frame, Site

pytestmark = [pytest.mark.django_db, pytest.mark.urls(URLCONF)]


@pytest.fixture(autouse=True)
def _fresh_counters() -> Iterator[None]:
    caches["default"].clear()
    yield
    caches["default"].clear()


def limits(**kinds: dict) -> override_settings:
    """Only these limits (every other one off)."""
    chosen = {kind: {"user": None, "requester": None} for kind in ratelimit.KINDS}
    for kind, scopes in kinds.items():
        chosen[kind].update(scopes)
    return override_settings(TOOPHER_SERVER_RATE_LIMITS=chosen)


def state() -> tuple[int, ...]:
    """The rows a refused call must not change."""
    return (
        AuthenticationRequest.objects.count(),
        Pairing.objects.count(),
        User.objects.count(),
        Terminal.objects.count(),
        PairingPhrase.objects.filter(used=False).count(),
        Message.objects.count(),
        AuditRecord.objects.count(),
    )


def assert_refused(answer, what: str) -> None:
    assert answer.status_code == 429, answer.content
    body = answer.json()
    assert body["error_code"] == 429 and isinstance(body["error_code"], int)
    assert body["error_message"].startswith("Rate limit exceeded: too many ")
    assert what in body["error_message"]
    assert int(answer["Retry-After"]) >= 1


@pytest.fixture
def site(client: Client) -> Site:
    return Site(client)


@pytest.fixture
def other(client: Client) -> Site:
    return Site(client, key="other-key", secret="other-secret")


def initiate(site: Site, pairing_id: str, **extra: str):
    return site.call("POST", "authentication_requests/initiate",
                     {"pairing_id": pairing_id, "terminal_name": "laptop", **extra})


# --- pushes -------------------------------------------------------------------------------------


def test_initiate_is_limited_per_user_and_changes_nothing_when_refused(site: Site,
                                                                      other: Site) -> None:
    _, ann = site.paired("ann")
    _, bea = site.paired("bea")
    _, ann_elsewhere = other.paired("ann")
    with limits(push={"user": (2, 60)}):
        assert initiate(site, ann).status_code == 200
        assert site.post("authentication_requests/initiate", user_name="ann",
                         terminal_name="laptop").status_code == 200  # the same user by name
        before = state()
        assert_refused(initiate(site, ann, terminal_name="a new terminal"), "this user")
        assert state() == before
        assert initiate(site, bea).status_code == 200  # another user of the requester
        assert initiate(other, ann_elsewhere).status_code == 200  # the same name elsewhere


def test_initiate_is_limited_per_requester(site: Site, other: Site) -> None:
    pairings = [site.paired(f"u{n}")[1] for n in range(3)]
    _, elsewhere = other.paired("u0")
    with limits(push={"requester": (2, 60)}):
        assert initiate(site, pairings[0]).status_code == 200
        assert initiate(site, pairings[1]).status_code == 200
        before = state()
        assert_refused(initiate(site, pairings[2]), "this requester")
        assert state() == before
        assert initiate(other, elsewhere).status_code == 200


def test_a_user_refused_does_not_use_up_the_requester_s_room(site: Site) -> None:
    _, ann = site.paired("ann")
    _, bea = site.paired("bea")
    with limits(push={"user": (1, 60), "requester": (2, 60)}):
        assert initiate(site, ann).status_code == 200
        for _ in range(5):
            assert initiate(site, ann).status_code == 429
        assert initiate(site, bea).status_code == 200


def test_unknown_users_and_bad_input_are_not_counted(site: Site) -> None:
    _, ann = site.paired("ann")
    with limits(push={"user": (1, 60), "requester": (1, 60)}):
        for _ in range(3):
            assert site.post("authentication_requests/initiate",
                             user_name="ghost").status_code == 409
            assert initiate(site, ann, automation_allowed="maybe").status_code == 400
        assert initiate(site, ann).status_code == 200


# --- codes --------------------------------------------------------------------------------------


def test_otp_checks_are_limited_and_a_refused_one_leaves_the_request_pending(site: Site) -> None:
    _, ann = site.paired("ann")
    secret = Pairing.objects.get(id=ann).otp_secret
    with limits(code={"user": (2, 600)}):
        requests = [initiate(site, ann).json()["id"] for _ in range(3)]  # pushes: not codes
        assert site.post(f"authentication_requests/{requests[0]}/otp_auth",
                         otp="000000").status_code == 200
        assert initiate(site, ann, otp="123456").status_code == 200  # A1 with otp is a code
        before = state()
        refused = site.post(f"authentication_requests/{requests[1]}/otp_auth",
                            otp=totp.totp(secret))
        assert_refused(refused, "one-time password checks for this user")
        assert state() == before
        assert AuthenticationRequest.objects.get(id=requests[1]).pending
        assert_refused(initiate(site, ann, otp=totp.totp(secret)), "this user")
        assert state() == before


def test_a_decided_request_checks_no_code_and_counts_nothing(site: Site) -> None:
    _, ann = site.paired("ann")
    with limits(code={"user": (1, 600)}):
        auth = initiate(site, ann).json()["id"]
        site.post(f"authentication_requests/{auth}/cancel")
        for _ in range(3):
            assert site.post(f"authentication_requests/{auth}/otp_auth",
                             otp="1").status_code == 200
        fresh = initiate(site, ann).json()["id"]
        assert site.post(f"authentication_requests/{fresh}/otp_auth",
                         otp="000000").status_code == 200


# --- pairings -------------------------------------------------------------------------------------


def test_pairing_with_a_phrase_is_limited_and_keeps_the_phrase(site: Site, other: Site) -> None:
    phone = phones.create_phone("P")
    with limits(pairing={"user": (2, 600)}):
        assert site.post("pairings/create", pairing_phrase="wrong guess",
                         user_name="ann").status_code == 409  # a wrong phrase counts
        assert site.post("pairings/create", pairing_phrase=phones.new_phrase(phone).phrase,
                         user_name="ann").status_code == 200
        phrase = phones.new_phrase(phone).phrase
        before = state()
        assert_refused(site.post("pairings/create", pairing_phrase=phrase, user_name="ann"),
                       "pairing requests for this user")
        assert state() == before
        assert site.post("pairings/create", pairing_phrase=phrase,
                         user_name="bea").status_code == 200


def test_qr_and_sms_pairings_are_limited(site: Site) -> None:
    with limits(pairing={"user": (1, 600)}):
        assert site.post("pairings/create/qr", user_name="new").status_code == 200
        before = state()
        assert_refused(site.post("pairings/create/qr", user_name="new"), "this user")
        assert_refused(site.post("pairings/create/sms", user_name="new",
                                 phone_number="+15551234567"), "this user")
        assert state() == before
    with limits(pairing={"requester": (1, 600)}):
        caches["default"].clear()
        assert site.post("pairings/create/sms", user_name="sam",
                         phone_number="+15551234567").status_code == 200
        before = state()
        assert_refused(site.post("pairings/create/sms", user_name="tim",
                                 phone_number="+15551234567"), "this requester")
        assert state() == before  # no user made, no text sent


# --- the iframe -----------------------------------------------------------------------------------


def test_the_iframe_s_push_pairing_and_otp_are_limited(site: Site, client: Client) -> None:
    site.paired("ivy")
    with limits(push={"user": (1, 60)}, pairing={"user": (1, 600)}, code={"user": (1, 600)}):
        frame = Frame(client)
        assert frame.open(site.iframe().get_authentication_url("ivy", terminal_name="d")) == (
            "wait_auth")
        assert frame.post("otp", otp="000000") == "result"  # the one code allowed: denied
        before = state()
        again = Frame(client)
        again.open(site.iframe().get_authentication_url("ivy", terminal_name="e"))
        assert again.status == 429 and "Rate limit exceeded" in again.page
        assert state() == before
        newcomer = Frame(client)
        assert newcomer.open(site.iframe().get_authentication_url("zed")) == "pair"
        assert newcomer.post("pair", pairing_phrase="wrong words") == "pair"
        phrase = phones.new_phrase(phones.create_phone("Z")).phrase
        before = state()
        assert newcomer.post("pair", pairing_phrase=phrase) == "pair"
        assert "Rate limit exceeded" in newcomer.page and state() == before


def test_the_iframe_s_otp_form_is_limited(site: Site, client: Client) -> None:
    site.paired("olga")
    with limits(code={"user": (1, 600)}):
        frame = Frame(client)
        assert frame.open(site.iframe().get_authentication_url("olga",
                                                               terminal_name="d")) == "wait_auth"
        request = AuthenticationRequest.objects.get()
        caches["default"].clear()
        ratelimit.check(ratelimit.CODE, site.requester, "olga")  # the one code allowed
        before = state()
        assert frame.post("otp", otp="000000") == "wait_auth"
        assert "Rate limit exceeded" in frame.page and state() == before
        request.refresh_from_db()
        assert request.pending


# --- settings and keys ---------------------------------------------------------------------------


def test_the_defaults_and_overrides() -> None:
    limits_now = ratelimit.rate_limits()
    assert limits_now["push"]["user"] == ratelimit.Limit(10, 60)
    assert limits_now["code"]["user"] == ratelimit.Limit(10, 600)
    assert limits_now["pairing"]["requester"] == ratelimit.Limit(600, 60)
    with override_settings(TOOPHER_SERVER_RATE_LIMITS={"push": {"user": (5, 30)},
                                                       "code": {"requester": None}}):
        limits_now = ratelimit.rate_limits()
        assert limits_now["push"] == {"user": ratelimit.Limit(5, 30),
                                      "requester": ratelimit.Limit(6000, 60)}
        assert limits_now["code"]["requester"] is None


@pytest.mark.parametrize(
    "value",
    [[], {"pushes": {}}, {"push": []}, {"push": {"users": (1, 1)}}, {"push": {"user": 5}},
     {"push": {"user": (0, 60)}}, {"push": {"user": (1, 2, 3)}}, {"push": {"user": (True, 60)}},
     {"push": {"user": ("5", 60)}}],
)
def test_a_malformed_setting_is_improperly_configured(value: object) -> None:
    with override_settings(TOOPHER_SERVER_RATE_LIMITS=value), pytest.raises(ImproperlyConfigured):
        ratelimit.rate_limits()


def test_counter_keys_are_short_and_safe_whatever_the_name(site: Site) -> None:
    for name in ["ann", "a b\tc", "é" * 200, "x:y", "\u202e"]:
        keys = ratelimit.counter_keys("push", site.requester, name)
        assert set(keys) == {"user", "requester"}
        assert all(len(k) < 120 and k.isascii() and " " not in k for k in keys.values())
    one = ratelimit.counter_keys("push", site.requester, "ann")
    assert one != ratelimit.counter_keys("push", site.requester, "bea")
    assert one["requester"] == ratelimit.counter_keys("push", site.requester, "bea")["requester"]
