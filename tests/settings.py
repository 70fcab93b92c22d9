"""Settings for the test suite.

The database and cache come from the environment (django-environ), so the same
suite runs on SQLite and local memory by default and on PostgreSQL and Redis with
``DATABASE_URL=postgres://...`` and ``CACHE_URL=redis://...`` (``make test-postgres``).
"""

import os
from pathlib import Path

import environ

from toopher_server.dbsettings import prepare_on_server

BASE_DIR = Path(__file__).resolve().parent
env = environ.Env()

SECRET_KEY = "tests-only-secret-key-not-for-production-0123456789abcdef"
DEBUG = True
ALLOWED_HOSTS = ["testserver", "localhost", "127.0.0.1"]
USE_TZ = True
TIME_ZONE = "UTC"

# On PostgreSQL, queries are bound and prepared on the server as the service's own
# settings do (toopher_server.dbsettings), so `make test-postgres` runs them that way.
DATABASES = {"default": prepare_on_server(env.db("DATABASE_URL", default="sqlite://:memory:"), env)}
CACHES = {"default": env.cache("CACHE_URL", default="locmemcache://tests")}

# A shared server (``make test-postgres``) may serve several runs at once: this suite,
# its own subprocesses (tests/custom_user) and other people's runs. Each run gets its
# own test database and its own cache key prefix, so runs never see each other's rows
# or rate-limit counters. The scripts/test-postgres.sh wrapper drops leftovers.
RUN_ID = env.str("TOOPHER_TEST_RUN_ID", default=str(os.getpid()))
if DATABASES["default"]["ENGINE"] != "django.db.backends.sqlite3":
    DATABASES["default"].setdefault("TEST", {}).setdefault(
        "NAME", f"test_{DATABASES['default']['NAME']}_{RUN_ID}"
    )
if CACHES["default"]["BACKEND"].endswith("LocMemCache"):
    # Room for the pending logins of a test (django_toopher.W007).
    CACHES["default"].setdefault("OPTIONS", {})["MAX_ENTRIES"] = 100_000
if not CACHES["default"]["BACKEND"].endswith("LocMemCache"):
    CACHES["default"].setdefault("KEY_PREFIX", f"tests-{RUN_ID}")
if CACHES["default"]["BACKEND"] == "django.core.cache.backends.redis.RedisCache":
    # clear() deletes this run's keys, not the whole shared Redis database.
    CACHES["default"]["BACKEND"] = "tests.prefixed_cache.PrefixedRedisCache"

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django_toopher",
    "toopher_server",
    "toopher_sandbox",
    "tests.testapp",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django_toopher.middleware.ToopherMiddleware",
]

ROOT_URLCONF = "tests.urls"
LOGIN_URL = "/accounts/login/"
LOGIN_REDIRECT_URL = "/"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ]
        },
    }
]

STATIC_URL = "/static/"
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"

# Overridden per test by the fixtures in tests/conftest.py, which point it at a
# live sandbox on loopback with a fresh requester.
TOOPHER = {
    "CONSUMER_KEY": "unset-key",
    "CONSUMER_SECRET": "unset-secret",
    "API_URL": "http://127.0.0.1:9/v1",
}
