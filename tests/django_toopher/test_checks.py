"""System checks of django_toopher (checks.py): one test per id, both ways."""

from __future__ import annotations

import pytest
from django.core import checks as django_checks

from django_toopher import checks
from django_toopher.internal import settings_rules

BASE = {"CONSUMER_KEY": "k", "CONSUMER_SECRET": "s", "API_URL": "https://api.example.com/v1"}
MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_toopher.middleware.ToopherMiddleware",
]


def ids(messages) -> list[str]:
    return sorted(m.id for m in messages)


@pytest.fixture
def toopher(settings):
    settings.TOOPHER = dict(BASE)
    settings.MIDDLEWARE = list(MIDDLEWARE)

    def set_(**values):
        settings.TOOPHER = {**BASE, **values}

    return set_


def run_all() -> list[str]:
    return ids(django_checks.run_checks(tags=[checks.TAG]))


def test_a_good_configuration_passes(toopher):
    assert run_all() == []


def test_registered_under_the_django_toopher_tag(toopher):
    toopher(CONSUMER_KEY="")
    assert "django_toopher.E001" in run_all()
    assert "django_toopher.E001" not in ids(django_checks.run_checks(tags=["models"]))


@pytest.mark.parametrize("missing", ["CONSUMER_KEY", "CONSUMER_SECRET"])
@pytest.mark.parametrize("value", ["", "   ", None])
def test_e001_missing_credentials(toopher, missing, value):
    toopher(**{missing: value})
    messages = checks.check_credentials()
    assert ids(messages) == ["django_toopher.E001"]
    assert missing in messages[0].msg


def test_e001_no_settings_at_all(settings):
    del settings.TOOPHER
    assert ids(checks.check_credentials()) == ["django_toopher.E001"]


def test_e001_never_shows_the_secret(toopher):
    toopher(CONSUMER_KEY="", CONSUMER_SECRET="very-secret-value")
    message = checks.check_credentials()[0]
    assert "very-secret-value" not in f"{message.msg} {message.hint}"


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:8000/v1",
        "http://127.3.4.5/v1",
        "http://localhost:8000/v1",
        "http://[::1]:8000/v1",
        "https://api.toopher.com/v1",
    ],
)
def test_e002_https_and_loopback_http_are_fine(toopher, url):
    toopher(API_URL=url)
    assert checks.check_api_url() == []


@pytest.mark.parametrize(
    "url", ["http://api.toopher.com/v1", "http://10.0.0.1/v1", "http://localhost.evil.com/v1"]
)
def test_e002_plain_http_to_a_remote_host(toopher, url):
    toopher(API_URL=url)
    assert ids(checks.check_api_url()) == ["django_toopher.E002"]


def test_w003_plain_http_allowed_explicitly_is_a_warning(toopher):
    toopher(API_URL="http://api.example.com/v1", ALLOW_INSECURE_HTTP=True)
    messages = checks.check_api_url()
    assert ids(messages) == ["django_toopher.W003"]
    assert isinstance(messages[0], django_checks.Warning)


@pytest.mark.parametrize("url", ["ftp://api.example.com/v1", "api.example.com", "", 42,
                                 "http://[::1/v1"])
def test_e003_not_a_url(toopher, url):
    toopher(API_URL=url)
    assert ids(checks.check_api_url()) == ["django_toopher.E003"]


def test_e004_bad_mode(toopher):
    toopher(MODE="zero-storage")
    assert ids(checks.check_modes()) == ["django_toopher.E004"]


@pytest.mark.parametrize("mode", ["stored", "zero_storage"])
def test_e004_good_modes(toopher, mode):
    toopher(MODE=mode)
    assert checks.check_modes() == []


def test_e005_bad_fail_mode(toopher):
    toopher(FAIL_MODE="opened")
    assert ids(checks.check_modes()) == ["django_toopher.E005"]


def test_w001_fail_open(toopher):
    toopher(FAIL_MODE="open")
    messages = checks.check_modes()
    assert ids(messages) == ["django_toopher.W001"]
    assert messages[0].level == django_checks.WARNING


@pytest.mark.parametrize("name", settings_rules.POSITIVE_INTS)
@pytest.mark.parametrize("value", [0, -1, "10", 1.5, None, True])
def test_e006_positive_integers(toopher, name, value):
    toopher(**{name: value})
    assert "django_toopher.E006" in ids(checks.check_numbers())


def test_e007_pending_ttl_over_ten_minutes(toopher):
    toopher(PENDING_TTL=601)
    assert ids(checks.check_numbers()) == ["django_toopher.E007"]
    toopher(PENDING_TTL=600)
    assert checks.check_numbers() == []


def test_w004_poll_interval_not_shorter_than_ttl(toopher):
    toopher(PENDING_TTL=30, POLL_INTERVAL=30)
    assert ids(checks.check_numbers()) == ["django_toopher.W004"]


@pytest.mark.parametrize("value", [None, 0, (5, None), (1, 2, 3), "5", (-1, 2)])
def test_e008_timeouts(toopher, value):
    toopher(TIMEOUT=value)
    assert ids(checks.check_numbers()) == ["django_toopher.E008"]


@pytest.mark.parametrize("value", [5, 2.5, (3, 10), [3.0, 10.0]])
def test_e008_good_timeouts(toopher, value):
    toopher(TIMEOUT=value)
    assert checks.check_numbers() == []


@pytest.mark.parametrize("name", settings_rules.NON_EMPTY_STRINGS)
def test_e009_names(toopher, name):
    toopher(**{name: "  "})
    assert ids(checks.check_numbers()) == ["django_toopher.E009"]


@pytest.mark.parametrize("name", ["REQUIRE_ENROLLMENT", "ALLOW_REPAIR", "ALLOW_INSECURE_HTTP"])
def test_e011_flags(toopher, name):
    toopher(**{name: "yes"})
    assert ids(checks.check_numbers()) == ["django_toopher.E011"]


def test_e012_cache_alias(toopher):
    toopher(CACHE_ALIAS="nope")
    assert ids(checks.check_numbers()) == ["django_toopher.E012"]


@pytest.mark.parametrize("value", ["/help/", ["/"], ["help/"], [None], None])
def test_e013_exempt_paths(toopher, value):
    toopher(EXEMPT_PATHS=value)
    assert ids(checks.check_numbers()) == ["django_toopher.E013"]


def test_exempt_paths_accepts_prefixes(toopher):
    toopher(EXEMPT_PATHS=["/help/", "/status"])
    assert ids(checks.check_numbers()) == []


def test_w005_dummy_cache(toopher, settings):
    settings.CACHES = {
        **settings.CACHES,
        "nothing": {"BACKEND": "django.core.cache.backends.dummy.DummyCache"},
    }
    toopher(CACHE_ALIAS="nothing")
    assert ids(checks.check_numbers()) == ["django_toopher.W005"]
    toopher(CACHE_ALIAS="default")
    assert ids(checks.check_numbers()) == []


def test_w007_a_local_memory_cache_with_little_room(toopher, settings):
    settings.CACHES = {
        **settings.CACHES,
        "small": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"},
        "roomy": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache",
                  "OPTIONS": {"MAX_ENTRIES": 50_000}},
    }
    toopher(CACHE_ALIAS="small")
    assert ids(checks.check_numbers()) == ["django_toopher.W007"]
    toopher(CACHE_ALIAS="roomy")
    assert ids(checks.check_numbers()) == []


def test_e010_not_a_dict(settings):
    settings.TOOPHER = [("CONSUMER_KEY", "k")]
    assert ids(checks.check_settings_dict()) == ["django_toopher.E010"]


def test_w002_unknown_keys(toopher):
    toopher(FAILMODE="open")
    messages = checks.check_settings_dict()
    assert ids(messages) == ["django_toopher.W002"]
    assert "FAILMODE" in messages[0].msg


def test_e020_middleware_missing(toopher, settings):
    settings.MIDDLEWARE = MIDDLEWARE[:-1]
    assert ids(checks.check_middleware()) == ["django_toopher.E020"]


@pytest.mark.parametrize("before", [checks.SESSION_MIDDLEWARE, checks.AUTH_MIDDLEWARE])
def test_e021_middleware_before_session_or_auth(toopher, settings, before):
    order = [m for m in MIDDLEWARE if m != checks.MIDDLEWARE_PATH]
    order.insert(order.index(before), checks.MIDDLEWARE_PATH)
    settings.MIDDLEWARE = order
    messages = checks.check_middleware()
    assert set(ids(messages)) == {"django_toopher.E021"}
    assert any(before in m.msg for m in messages)


def test_e021_session_middleware_absent(toopher, settings):
    settings.MIDDLEWARE = [m for m in MIDDLEWARE if m != checks.SESSION_MIDDLEWARE]
    assert ids(checks.check_middleware()) == ["django_toopher.E021"]


def test_e022_middleware_twice(toopher, settings):
    settings.MIDDLEWARE = [*MIDDLEWARE, checks.MIDDLEWARE_PATH]
    assert ids(checks.check_middleware()) == ["django_toopher.E022"]


def test_the_test_settings_pass_the_middleware_check():
    assert checks.check_middleware() == []


def test_w010_user_admin_without_the_actions(toopher):
    from django.contrib import admin
    from django.contrib.auth import get_user_model

    model_admin = admin.site._registry[get_user_model()]
    saved = model_admin.actions
    try:
        model_admin.actions = ()
        assert ids(checks.check_user_admin_actions()) == ["django_toopher.W010"]
    finally:
        model_admin.actions = saved
    assert checks.check_user_admin_actions() == []


@pytest.mark.parametrize(
    "host,expected",
    [("127.0.0.1", True), ("::1", True), ("[::1]", True), ("localhost", True),
     ("LOCALHOST", True), ("10.0.0.1", False), ("example.com", False), (None, False),
     ("127.0.0.1.nip.io", False)],
)
def test_is_loopback_host(host, expected):
    assert checks.is_loopback_host(host) is expected


def test_w006_signed_cookie_sessions(toopher, settings):
    settings.SESSION_ENGINE = "django.contrib.sessions.backends.signed_cookies"
    messages = checks.check_session_engine()
    assert ids(messages) == ["django_toopher.W006"]
    assert "request id" in messages[0].msg and "not encrypted" in messages[0].msg
    assert "django_toopher.W006" in run_all()
    for engine in ("db", "cache", "cached_db"):
        settings.SESSION_ENGINE = f"django.contrib.sessions.backends.{engine}"
        assert ids(checks.check_session_engine()) == []
