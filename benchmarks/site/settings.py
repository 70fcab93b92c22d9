"""Settings of the benchmark site, read from ``BENCH_*`` environment variables.

=================== ==================================================================
Variable            Meaning
=================== ==================================================================
BENCH_TOOPHER       ``1``: django_toopher installed (app, middleware, URLs); ``0``: not
BENCH_DB            SQLite file shared by both apps and the harness
BENCH_SECRET_KEY    Django's secret key (the same for both apps: sessions are shared)
BENCH_API_URL       Toopher API v1 URL (the standalone sandbox on 127.0.0.1)
BENCH_KEY           requester consumer key
BENCH_SECRET        requester consumer secret
BENCH_POLL_INTERVAL TOOPHER["POLL_INTERVAL"] (2; the in-process call counts use a long one
                    so that every counted poll is answered from the cache)
BENCH_CACHE_ALIAS   TOOPHER["CACHE_ALIAS"]: ``default`` (Django's LocMemCache, 300 entries)
                    or ``large`` (the same with room for 1,000 pending logins)
=================== ==================================================================

Both apps share one database and one secret key, so a session made by one is valid
in the other. The cache is per process (local memory): the benchmark serves each app
with ONE gunicorn process and several threads, which is what the poll cache of
django_toopher needs unless a shared cache (Redis) is configured.
"""

from __future__ import annotations

import os
from pathlib import Path

import django

BASE_DIR = Path(__file__).resolve().parent

WITH_TOOPHER = os.environ.get("BENCH_TOOPHER", "1") == "1"

SECRET_KEY = os.environ.get(
    "BENCH_SECRET_KEY", "benchmarks-only-secret-key-0123456789-abcdefghijkl"
)
DEBUG = False
ALLOWED_HOSTS = ["127.0.0.1", "localhost"]
USE_TZ = True
TIME_ZONE = "UTC"
USE_I18N = True

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
]
if WITH_TOOPHER:
    INSTALLED_APPS.append("django_toopher")

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
]
if WITH_TOOPHER:
    MIDDLEWARE.append("django_toopher.middleware.ToopherMiddleware")
MIDDLEWARE.append("django.middleware.clickjacking.XFrameOptionsMiddleware")

ROOT_URLCONF = "benchmarks.site.urls"
WSGI_APPLICATION = "benchmarks.site.wsgi.application"

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

DATABASES = {
    "default": {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": os.environ.get("BENCH_DB", str(BASE_DIR / "bench.sqlite3")),
        # Persistent connections, as a production site would have them: a smaller
        # baseline makes the middleware ratio stricter, not looser.
        "CONN_MAX_AGE": 60,
        "OPTIONS": {"timeout": 20}
        # SQLite's init_command exists from Django 5.1; 4.2 runs without WAL. IMMEDIATE
        # transactions (5.1+) take the write lock at BEGIN, so concurrent logins wait for
        # it (``timeout``) instead of failing with "database is locked" when a read
        # inside a transaction (get_or_create) turns into a write.
        | ({"init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
            "transaction_mode": "IMMEDIATE"}
           if django.VERSION >= (5, 1) else {}),
    }
}
CACHES = {
    # Django's default: a local-memory cache of at most 300 entries.
    "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"},
    # One that holds the working set of 1,000 pending logins (the growth figures).
    "large": {
        "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
        "LOCATION": "large",
        "OPTIONS": {"MAX_ENTRIES": 1_000_000},
    },
}

# Throwaway users on loopback: a fast hasher keeps the many logins of the approval
# runs out of the wall-clock budget. Never do this on a real site.
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]

LOGIN_URL = "/accounts/login/"
LOGIN_REDIRECT_URL = "/bench/hello/"
STATIC_URL = "/static/"
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

TOOPHER = {
    "API_URL": os.environ.get("BENCH_API_URL", "http://127.0.0.1:9/v1"),
    "CONSUMER_KEY": os.environ.get("BENCH_KEY", "unset-key"),
    "CONSUMER_SECRET": os.environ.get("BENCH_SECRET", "unset-secret"),
    "POLL_INTERVAL": int(os.environ.get("BENCH_POLL_INTERVAL", "2")),
    "CACHE_ALIAS": os.environ.get("BENCH_CACHE_ALIAS", "default"),
    # The approval runs log the same users in many times within minutes.
    "PUSH_RATE_LIMIT": 10_000,
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "loggers": {
        "django": {"handlers": ["console"], "level": "WARNING"},
        "django_toopher": {"handlers": ["console"], "level": "WARNING"},
    },
}
