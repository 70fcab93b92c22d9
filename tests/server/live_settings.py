"""Settings of ``toopher_server`` served alone by a real server (the compatibility suite).

The service's own apps only, its URLs at the root, the database of
``TOOPHER_LIVE_DATABASE_URL`` (PostgreSQL under ``make test-postgres``) or else an SQLite
file named by ``TOOPHER_LIVE_DB`` (shared by every instance the suite starts), and
enrolment limits loose enough for a test run.
"""

import os

import environ

SECRET_KEY = "live-tests-only-secret-key-not-for-production-0123456789"
DEBUG = False
ALLOWED_HOSTS = ["127.0.0.1", "localhost"]
USE_TZ = True
TIME_ZONE = "UTC"
INSTALLED_APPS = ["django.contrib.contenttypes", "toopher_server"]
MIDDLEWARE = ["toopher_server.middleware.JsonApiErrorsMiddleware"]
ROOT_URLCONF = "toopher_server.urls"
DATABASES = {
    "default": {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": os.environ.get("TOOPHER_LIVE_DB", "live.sqlite3"),
        "OPTIONS": {"timeout": 30},
    }
}
if os.environ.get("TOOPHER_LIVE_DATABASE_URL"):
    DATABASES = {"default": environ.Env.db_url_config(os.environ["TOOPHER_LIVE_DATABASE_URL"])}
CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
TOOPHER_SERVER_RATE_LIMITS = {"enrol": {"address": (1000, 3600)}}
LOGGING = {
    "version": 1,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": "WARNING"},
}
