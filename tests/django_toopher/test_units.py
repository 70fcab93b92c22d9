"""Unit tests of the small modules: terminal cookie, rate limits, audit, client cache,
backend selection, safe ``next``."""

from __future__ import annotations

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.http import HttpRequest, HttpResponse
from django.test import RequestFactory

from django_toopher import audit
from django_toopher.internal import cookies as terminal
from django_toopher.internal import ratelimit
from django_toopher.internal.client import get_client
from django_toopher.internal.failures import Failure, classify, describe
from django_toopher.internal.modes import StoredMode, ZeroStorageMode, get_mode
from django_toopher.internal.redirects import safe_next
from django_toopher.models import AuditEvent

# --------------------------------------------------------------------------- terminal


def test_terminal_ids_are_random_and_long():
    ids = {terminal.new_terminal_id() for _ in range(200)}
    assert len(ids) == 200
    assert all(terminal.is_valid_terminal_id(i) and len(i) == 32 for i in ids)


def test_terminal_cookie_round_trip_and_flags():
    rf = RequestFactory()
    request = rf.get("/", secure=True)
    response = HttpResponse()
    tid = terminal.new_terminal_id()
    terminal.set_terminal_cookie(request, response, tid)
    morsel = response.cookies["toopher_terminal"]
    assert morsel["httponly"] and morsel["secure"] and morsel["samesite"] == "Lax"
    assert morsel["max-age"] == 365 * 24 * 3600
    again = rf.get("/")
    again.COOKIES["toopher_terminal"] = morsel.value
    assert terminal.read_terminal_id(again) == tid


@pytest.mark.parametrize("bad", ["", "x", "a" * 32, "a" * 32 + ":bad:sig", "\u00e9" * 40])
def test_bad_terminal_cookie_is_none(bad):
    request = RequestFactory().get("/")
    request.COOKIES["toopher_terminal"] = bad
    assert terminal.read_terminal_id(request) is None


def test_signed_cookie_of_an_invalid_id_is_none():
    request = RequestFactory().get("/")
    response = HttpResponse()
    response.set_signed_cookie("toopher_terminal", "short", salt=terminal.SALT)
    request.COOKIES["toopher_terminal"] = response.cookies["toopher_terminal"].value
    assert terminal.read_terminal_id(request) is None
    with pytest.raises(ValueError):
        terminal.set_terminal_cookie(request, HttpResponse(), "short")


def test_expired_terminal_cookie_is_none(settings):
    request = RequestFactory().get("/")
    response = HttpResponse()
    terminal.set_terminal_cookie(request, response, terminal.new_terminal_id())
    request.COOKIES["toopher_terminal"] = response.cookies["toopher_terminal"].value
    settings.TOOPHER = {**settings.TOOPHER, "TERMINAL_COOKIE_AGE": -1}
    assert terminal.read_terminal_id(request) is None


# --------------------------------------------------------------------------- rate limits


def test_rate_limit_counts_per_key(settings):
    settings.TOOPHER = {**settings.TOOPHER, "PUSH_RATE_LIMIT": 3}
    ratelimit.reset("push:1")
    ratelimit.reset("push:2")
    assert [ratelimit.allow_push(1) for _ in range(4)] == [True, True, True, False]
    assert ratelimit.count("push:1") >= 3  # the limit is reached
    assert ratelimit.allow_push(2) is True


def test_otp_tries(settings):
    settings.TOOPHER = {**settings.TOOPHER, "OTP_RATE_LIMIT": 2}
    ratelimit.reset("otp:flow-x")
    assert ratelimit.otp_tries_left("flow-x") == 2
    assert ratelimit.allow_otp_try("flow-x") and ratelimit.allow_otp_try("flow-x")
    assert not ratelimit.allow_otp_try("flow-x")
    assert ratelimit.otp_tries_left("flow-x") == 0


# --------------------------------------------------------------------------- audit


@pytest.mark.django_db
def test_audit_record(django_user_model):
    user = django_user_model.objects.create_user("carol", password="x")
    request = RequestFactory().get("/", REMOTE_ADDR="203.0.113.9",
                                   HTTP_X_FORWARDED_FOR="198.51.100.1")
    event = audit.record("granted", user=user, request=request, action="Log in",
                         terminal_name="T" * 300, detail="d" * 400)
    event.refresh_from_db()
    assert event.kind == AuditEvent.Kind.GRANTED
    assert event.ip_address == "203.0.113.9"  # X-Forwarded-For is not trusted
    assert len(event.terminal_name) == 100 and len(event.detail) == 255
    assert event.user == user and event.actor is None


@pytest.mark.django_db
def test_audit_bad_ip_and_bad_kind():
    request = RequestFactory().get("/", REMOTE_ADDR="not an ip")
    assert audit.record("error", request=request).ip_address is None
    with pytest.raises(ValueError):
        audit.record("no such kind")


# --------------------------------------------------------------------------- client


def test_client_is_cached_per_settings(settings):
    settings.TOOPHER = {"CONSUMER_KEY": "k", "CONSUMER_SECRET": "s",
                        "API_URL": "http://127.0.0.1:9/v1"}
    first = get_client()
    assert get_client() is first
    settings.TOOPHER = {**settings.TOOPHER, "CONSUMER_SECRET": "t"}
    second = get_client()
    assert second is not first
    settings.TOOPHER = {**settings.TOOPHER, "TIMEOUT": [1, 2]}
    assert get_client().timeout == (1.0, 2.0)


def test_backend_per_mode(settings):
    settings.TOOPHER = {**settings.TOOPHER, "MODE": "stored"}
    assert isinstance(get_mode(), StoredMode)
    settings.TOOPHER = {**settings.TOOPHER, "MODE": "zero_storage"}
    assert isinstance(get_mode(), ZeroStorageMode)
    settings.TOOPHER = {**settings.TOOPHER, "MODE": "other"}
    with pytest.raises(ImproperlyConfigured):
        get_mode()


def test_error_classification():
    import toopher

    assert classify(toopher.UserDisabledError("x", 409, 704)) is Failure.DISABLED
    assert classify(toopher.UserUnknownError("x", 409, 705)) is Failure.UNKNOWN_USER
    assert classify(toopher.TerminalUnknownError("x", 409, 706)) is Failure.TERMINAL_UNKNOWN
    assert classify(toopher.PairingDeactivatedError("x", 409, 707)) is Failure.DEACTIVATED
    assert classify(toopher.ToopherTimeoutError("x")) is Failure.OUTAGE
    assert classify(toopher.ToopherMalformedResponseError("x", 200)) is Failure.OUTAGE
    assert classify(toopher.ToopherApiError("x", 503)) is Failure.OUTAGE
    assert classify(toopher.ToopherApiError("x", 401)) is Failure.REFUSED


def test_error_description_has_no_secrets():
    import toopher

    assert describe(toopher.ToopherTimeoutError("x")) == "ToopherTimeoutError"
    assert describe(toopher.ToopherApiError("secret", 403, 601)) == (
        "ToopherApiError HTTP 403 error 601"
    )


# --------------------------------------------------------------------------- next


@pytest.mark.parametrize(
    "url,ok",
    [
        ("/private/", True),
        ("/a?b=c", True),
        ("https://testserver/x", True),  # same host; moving up to https is fine
        ("https://evil.example/", False),
        ("//evil.example", False),
        ("", False),
        (None, False),
        ("/" + "a" * 3000, False),
        ("/private/\x00", False),
        ("/a\r\nSet-Cookie: x=1", False),
    ],
)
def test_safe_next(url, ok):
    request: HttpRequest = RequestFactory().get("/")
    result = safe_next(request, url)
    assert result == url if ok else result is None
