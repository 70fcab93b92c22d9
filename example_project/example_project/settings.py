"""Settings of the django-toopher example site, read from the environment.

Every value has a default that makes ``python example_project/manage.py demo`` work with
nothing configured:

========================== =================================================================
Variable                   Meaning (default)
========================== =================================================================
SECRET_KEY                 Django's secret key (a fixed development key; required when
                           ``DEBUG`` is off)
DEBUG                      Debug mode (on while the built-in sandbox is used, else off)
ALLOWED_HOSTS              Comma-separated host names (``127.0.0.1,localhost``)
DATABASE_URL               Database (SQLite file ``example_project/db.sqlite3``)
SANDBOX_DATABASE_URL       Database of the mounted sandbox's tables (SQLite file
                           ``sandbox.sqlite3`` beside the site's SQLite file, else
                           ``example_project/sandbox.sqlite3``)
CACHE_URL                  Cache (``locmemcache://``; use Redis with several processes)
CACHE_KEY_PREFIX           Prefix of every cache key (none)
SESSION_ENGINE             Django session engine (``django.contrib.sessions.backends.db``)
PASSWORD_HASHERS           Comma-separated password hashers, the first for new hashes
                           (Django's; the test suite's example servers name a fast one)
PORT                       Port the site is served on (8000); used for the sandbox URL
SERVE_STATIC               Serve static files from Django itself (on; a demo convenience)
SECURE_COOKIES             Session and CSRF cookies only over HTTPS (on when DEBUG is off)
LOG_LEVEL                  Level of the ``django_toopher`` logger (``INFO``)
CONTENT_SECURITY_POLICY    The Content-Security-Policy header of every page (a strict
                           policy without ``'unsafe-inline'``; empty: none)
EMAIL_BACKEND              Where mail goes, e.g. the password-reset link (Django's
                           console backend: printed in the terminal of ``make demo``)
EMAIL_FILE_PATH            Folder for ``django.core.mail.backends.filebased.EmailBackend``
TOOPHER_API_URL            Toopher API v1 base URL; unset: mount the sandbox at /sandbox/
                           and use ``http://127.0.0.1:$PORT/sandbox/v1``
TOOPHER_CONSUMER_KEY       Requester key (derived from SECRET_KEY with the sandbox)
TOOPHER_CONSUMER_SECRET    Requester secret (derived from SECRET_KEY with the sandbox)
TOOPHER_SANDBOX_CONTROL_TOKEN  The mounted sandbox's control API token (derived from SECRET_KEY)
TOOPHER_SERVER_RATE_LIMITS The mounted sandbox's rate limits over its defaults, as JSON
                           (``{"push": {"user": [30, 60]}}``; docs/server-limits.md) (none)
TOOPHER_MODE               ``stored`` or ``zero_storage`` (``stored``)
TOOPHER_FAIL_MODE          ``closed`` or ``open`` (``closed``)
TOOPHER_REQUIRE_ENROLLMENT Users without a pairing must pair before logging in (off)
TOOPHER_PUSH_RATE_LIMIT    Pushes per user per 10 minutes (20 in the demo, to explore)
========================== =================================================================
"""

from __future__ import annotations

from pathlib import Path

import django
import environ
from django.conf import global_settings
from django.core.exceptions import ImproperlyConfigured

from .routers import sandbox_sqlite_path
from .sandbox_credentials import derive_control_token, derive_credentials

BASE_DIR = Path(__file__).resolve().parent.parent  # example_project/

env = environ.Env()

DEV_SECRET_KEY = "django-insecure-example-site-key-change-me-0123456789abcdefghijkl"

# --- Toopher service: a real (or shared) one, or our own mounted sandbox. -----------
TOOPHER_API_URL = env.str("TOOPHER_API_URL", default="")
#: True when this site mounts ``toopher_sandbox`` and is its own Toopher service.
USE_SANDBOX = not TOOPHER_API_URL
PORT = env.int("PORT", default=8000)

DEBUG = env.bool("DEBUG", default=USE_SANDBOX)
SECRET_KEY = env.str("SECRET_KEY", default="")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured("Set SECRET_KEY in the environment when DEBUG is off.")
    SECRET_KEY = DEV_SECRET_KEY

ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost"])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    # Before django_toopher, so that its templates can restyle django_toopher's pages.
    "demo_site",
    "django_toopher",
]
if USE_SANDBOX:
    INSTALLED_APPS += ["toopher_server", "toopher_sandbox"]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    # The language: the switcher's cookie, else the browser's Accept-Language.
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    # After AuthenticationMiddleware: sends a pending login to the pending page.
    "django_toopher.middleware.ToopherMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "demo_site.csp.ContentSecurityPolicyMiddleware",
]

#: No inline style or script anywhere: django_toopher's pages work under this policy.
STRICT_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "object-src 'none'; base-uri 'none'; form-action 'self'"
)
CONTENT_SECURITY_POLICY = env.str("CONTENT_SECURITY_POLICY", default=STRICT_CSP)

ROOT_URLCONF = "example_project.urls"
WSGI_APPLICATION = "example_project.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "demo_site.context_processors.pending_login",
            ]
        },
    }
]

DATABASES = {
    "default": env.db("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}"),
}
if USE_SANDBOX:
    # The mounted sandbox is another service: its tables live in a database of their
    # own (example_project/routers.py), as a real deployment keeps them apart.
    DATABASES["sandbox"] = env.db(
        "SANDBOX_DATABASE_URL", default=f"sqlite:///{sandbox_sqlite_path(DATABASES['default'])}"
    )
    DATABASE_ROUTERS = ["example_project.routers.SandboxRouter"]
# Seconds a database connection is kept (0: one per request); a kept connection is
# checked before each request, so one broken by a database restart is replaced.
DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=0)
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
for _database in DATABASES.values():
    if _database["ENGINE"] == "django.db.backends.sqlite3":
        # The site calls its own sandbox while serving a request: several threads may
        # write at once, so wait for the lock instead of failing with "database is
        # locked". A transaction that reads and then writes must take the write lock at
        # its start (IMMEDIATE, Django 5.1+): a deferred one that finds another writer
        # when it upgrades fails at once, without waiting (seen under heavy load).
        _database.setdefault("OPTIONS", {}).setdefault("timeout", 20)
        if django.VERSION >= (5, 1):
            _database["OPTIONS"].setdefault("transaction_mode", "IMMEDIATE")
CACHES = {"default": env.cache("CACHE_URL", default="locmemcache://example-site")}
if CACHES["default"]["BACKEND"].endswith("LocMemCache"):
    # Room for many pending logins (django_toopher.W007: LocMemCache keeps 300 by default).
    CACHES["default"].setdefault("OPTIONS", {})["MAX_ENTRIES"] = 100_000
# django-environ drops ``?key_prefix=`` for Django's RedisCache: set it here instead.
CACHES["default"]["KEY_PREFIX"] = env.str("CACHE_KEY_PREFIX", default="")
if CACHES["default"]["BACKEND"] == "django.core.cache.backends.redis.RedisCache":
    from redis.backoff import ExponentialBackoff
    from redis.exceptions import ConnectionError as RedisConnectionError
    from redis.exceptions import TimeoutError as RedisTimeoutError
    from redis.retry import Retry

    CACHES["default"].setdefault("OPTIONS", {}).update(
        {
            # A Redis that is down fails a request in about a second (then the 503 of
            # the Toopher pages or errors.py), never after the OS's TCP timeout; a
            # restart shorter than that is ridden out by the retries.
            "socket_connect_timeout": 0.5,
            "socket_timeout": 1.0,
            "retry": Retry(ExponentialBackoff(cap=0.4, base=0.05), 4),
            "retry_on_error": [RedisConnectionError, RedisTimeoutError],
            "health_check_interval": 15,
        }
    )
# Sessions: the database by default; ``django.contrib.sessions.backends.cache`` keeps
# them in the (shared) cache. With several instances, either must be shared by all.
SESSION_ENGINE = env.str("SESSION_ENGINE", default="django.contrib.sessions.backends.db")

# Django's hashers. The test suite's example servers name a fast one: with Django's
# default a password check costs half a second of CPU, and their logins are many.
PASSWORD_HASHERS = env.list("PASSWORD_HASHERS", default=global_settings.PASSWORD_HASHERS)

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]

LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "account"
LOGOUT_REDIRECT_URL = "home"

LANGUAGE_CODE = "en-us"
#: English and the languages django_toopher ships (the header's switcher offers these).
LANGUAGES = [
    ("en", "English"),
    ("de", "Deutsch"),
    ("fr", "Français"),
    ("es", "Español"),
    ("pt-br", "Português (Brasil)"),
    ("ja", "日本語"),
]
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
SERVE_STATIC = env.bool("SERVE_STATIC", default=True)
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# Password reset (accounts/password_reset/): the mail with the link is printed in the
# terminal by default. The reset logs the user in (post_reset_login), which, like every
# login, then waits for the phone.
EMAIL_BACKEND = env.str("EMAIL_BACKEND", default="django.core.mail.backends.console.EmailBackend")
EMAIL_FILE_PATH = env.str("EMAIL_FILE_PATH", default=str(BASE_DIR / "sent_emails"))
DEFAULT_FROM_EMAIL = "django-toopher example <noreply@example.com>"

SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE = env.bool("SECURE_COOKIES", default=not DEBUG)

# --- django_toopher ---------------------------------------------------------------
if USE_SANDBOX:
    _key, _secret = derive_credentials(SECRET_KEY)
    TOOPHER_API_URL = f"http://127.0.0.1:{PORT}/sandbox/v1"
else:
    _key = _secret = ""

TOOPHER = {
    "API_URL": TOOPHER_API_URL,
    "CONSUMER_KEY": env.str("TOOPHER_CONSUMER_KEY", default=_key),
    "CONSUMER_SECRET": env.str("TOOPHER_CONSUMER_SECRET", default=_secret),
    "MODE": env.str("TOOPHER_MODE", default="stored"),
    "FAIL_MODE": env.str("TOOPHER_FAIL_MODE", default="closed"),
    "REQUIRE_ENROLLMENT": env.bool("TOOPHER_REQUIRE_ENROLLMENT", default=False),
    # The app's default (5 per 10 minutes) is right for a real site; exploring the
    # demo (the README tour, cancels, two tabs) sends more, so the demo allows 20.
    "PUSH_RATE_LIMIT": env.int("TOOPHER_PUSH_RATE_LIMIT", default=20),
    # The phone simulator stands for another device, but in the demo a person opens it
    # in the same browser (same cookies): a pending login must not redirect its pages.
    # /favicon.ico: the browser fetches it in the background (the admin's and the phone
    # simulator's pages name no icon); sent to the pending page instead, that fetch
    # would answer the pending login and eat its message. /i18n/: the language switcher
    # (it only sets a cookie and goes back) works on the pending page too. /spa/: the
    # single-page example drives a pending login itself, through the API.
    "EXEMPT_PATHS": ["/favicon.ico", "/i18n/", "/spa/", *(["/sandbox/"] if USE_SANDBOX else [])],
}
if TOOPHER["MODE"] not in ("stored", "zero_storage"):
    raise ImproperlyConfigured("TOOPHER_MODE must be 'stored' or 'zero_storage'.")
if TOOPHER["FAIL_MODE"] not in ("closed", "open"):
    raise ImproperlyConfigured("TOOPHER_FAIL_MODE must be 'closed' or 'open'.")

#: The requester the mounted sandbox must know (created after ``migrate`` and by the
#: ``demo`` command, see demo_site/sandbox.py); None when a real service is used.
TOOPHER_SANDBOX_REQUESTER = (
    {
        "key": TOOPHER["CONSUMER_KEY"],
        "secret": TOOPHER["CONSUMER_SECRET"],
        "name": "django-toopher example site",
    }
    if USE_SANDBOX
    else None
)
#: The mounted sandbox's control API token (header X-Sandbox-Token): the demo command
#: prints it and staff see it on the home page. Derived from SECRET_KEY unless set.
TOOPHER_SANDBOX_CONTROL_TOKEN = (
    env.str("TOOPHER_SANDBOX_CONTROL_TOKEN", default=derive_control_token(SECRET_KEY))
    if USE_SANDBOX
    else ""
)

#: The mounted sandbox's rate limits over the service's defaults (toopher_server/
#: ratelimit.py): the browser tests raise the pushes a minute one user may get.
TOOPHER_SERVER_RATE_LIMITS = env.json("TOOPHER_SERVER_RATE_LIMITS", default={})

# Error pages (DEBUG) and error emails list the request's cookies: hide the values of
# django_toopher's terminal and pending-hint cookies, the session and the CSRF cookie.
DEFAULT_EXCEPTION_REPORTER_FILTER = "django_toopher.debug.ToopherExceptionReporterFilter"

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "loggers": {
        "django_toopher": {"handlers": ["console"], "level": env.str("LOG_LEVEL", "INFO")},
        # A 500 leaves its traceback in the server's log, with DEBUG off too.
        "django.request": {"handlers": ["console"], "level": "ERROR", "propagate": False},
    },
}
