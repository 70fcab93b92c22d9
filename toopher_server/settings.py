"""Production settings of the Toopher service, read from the environment (django-environ).

``toopher-server`` uses this module unless ``DJANGO_SETTINGS_MODULE`` says otherwise.
Every instance behind a balancer gets the same environment. The variables (see
docs/server.md):

===============================  ==========================================================
``SECRET_KEY``                   required; 50+ random characters (``toopher-server init``)
``SECRET_KEY_FALLBACKS``         old values while ``SECRET_KEY`` is rotated (comma list)
``TOOPHER_SECRET_KEYS``          the key ring of the secrets at rest (``init`` makes it);
                                 ``check --deploy`` fails without it
``TOOPHER_AUDIT_KEY``            the audit chain's key (``init`` makes it)
``DATABASE_URL``                 ``postgres://user:password@host:5432/toopher`` in production;
                                 default: the SQLite file ``$TOOPHER_SERVER_DATA_DIR/db.sqlite3``
                                 (a one-machine trial)
``TOOPHER_SERVER_DATA_DIR``      default ``~/.toopher-server`` (the SQLite default's folder)
``CONN_MAX_AGE``                 seconds a database connection is kept (default 60)
``ALLOWED_HOSTS``                the service's host names (default loopback only)
``CSRF_TRUSTED_ORIGINS``         ``https://toopher.example.com`` (the admin's forms)
``CACHE_URL``                    ``redis://...`` with several instances (default: local memory)
``CACHE_KEY_PREFIX``             default ``toopher-server``
``EMAIL_URL``                    ``smtp+tls://user:password@smtp.example.com:587`` for reset
                                 links (default: none; ``send_reset_link`` then answers 403);
                                 ``DEFAULT_FROM_EMAIL``
``TOOPHER_SERVER_BEHIND_TLS_PROXY``  ``true`` behind a TLS proxy that sets
                                 ``X-Forwarded-Proto`` (and strips the client's): trusts it
                                 and redirects plain HTTP to HTTPS
``SECURE_SSL_REDIRECT``          redirect plain HTTP (default: as the flag above)
``SECURE_HSTS_SECONDS``          default one year; ``SECURE_HSTS_INCLUDE_SUBDOMAINS``,
                                 ``SECURE_HSTS_PRELOAD`` default false
``TOOPHER_SERVER_REQUEST_EXPIRY``  seconds a pending authentication request lives (300)
``TOOPHER_SERVER_PAIRING_PHRASE_MAX_AGE``  seconds a device's pairing phrase pairs (600)
``TOOPHER_SERVER_QR_PAIRING_MAX_AGE``  seconds a QR pairing can be scanned (600)
``TOOPHER_SERVER_TRUSTED_PROXIES``  proxies of your own in front of the service (0; 1 behind
                                 nginx): how far ``X-Forwarded-For`` is trusted
``TOOPHER_SERVER_REMEMBER_DAYS``  days a remembered browser ("always allow") applies (30)
``TOOPHER_SERVER_PUSH_CONTACT``  the VAPID ``sub`` of Web Push: ``mailto:`` an operator
                                 (default ``mailto:`` ``DEFAULT_FROM_EMAIL``); docs/push.md
``TOOPHER_SERVER_PUSH_TIMEOUT``  seconds a push service has to answer (5)
``TOOPHER_SERVER_NOT_ME_PUSH_HOLD``  seconds "This wasn't me" holds a user's pushes (900)
``LOG_LEVEL``                    default ``INFO``; logs go to stderr, secrets masked
``TOOPHER_SERVER_DEBUG``         ``true`` turns Django's DEBUG on: never in production
===============================  ==========================================================
"""

from __future__ import annotations

from pathlib import Path

import environ

from toopher_server import dbsettings

env = environ.Env()

# DEBUG only with an explicit flag of the service's own (a site's DEBUG=true in a shared
# environment does not turn it on).
DEBUG = env.bool("TOOPHER_SERVER_DEBUG", default=False)
SECRET_KEY = env.str("SECRET_KEY")
SECRET_KEY_FALLBACKS = env.list("SECRET_KEY_FALLBACKS", default=[])
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "toopher_server",
]

MIDDLEWARE = [
    "toopher_server.middleware.JsonApiErrorsMiddleware",
    "toopher_server.health.HealthMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "toopher_server.project_urls"
WSGI_APPLICATION = "toopher_server.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
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

# The database: PostgreSQL in production, a SQLite file for a one-machine trial.
DATA_DIR = Path(env.str("TOOPHER_SERVER_DATA_DIR", default=str(Path.home() / ".toopher-server")))
if "DATABASE_URL" not in env.ENVIRON:
    DATA_DIR.mkdir(mode=0o700, parents=True, exist_ok=True)
DATABASES = {
    "default": dbsettings.configure(
        env.db("DATABASE_URL", default=f"sqlite:///{DATA_DIR / 'db.sqlite3'}"), env
    )
}

# Redis with several instances (the rate limits and anything cached are then shared).
CACHES = {"default": env.cache("CACHE_URL", default="locmemcache://toopher-server")}
CACHES["default"]["KEY_PREFIX"] = env.str("CACHE_KEY_PREFIX", default="toopher-server")

# Reset links by email (toopher_server.messaging); without EMAIL_URL none is sent (403).
_EMAIL = env.email_url("EMAIL_URL", default="dummymail://")
EMAIL_BACKEND = _EMAIL["EMAIL_BACKEND"]
EMAIL_HOST = _EMAIL.get("EMAIL_HOST", "localhost")
EMAIL_PORT = _EMAIL.get("EMAIL_PORT") or 25
EMAIL_HOST_USER = _EMAIL.get("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = _EMAIL.get("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = bool(_EMAIL.get("EMAIL_USE_TLS", False))
EMAIL_USE_SSL = bool(_EMAIL.get("EMAIL_USE_SSL", False))
EMAIL_TIMEOUT = 10
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="toopher@localhost")
SERVER_EMAIL = DEFAULT_FROM_EMAIL

TOOPHER_SERVER_REQUEST_EXPIRY = env.int("TOOPHER_SERVER_REQUEST_EXPIRY", default=300)
TOOPHER_SERVER_PAIRING_PHRASE_MAX_AGE = env.int(
    "TOOPHER_SERVER_PAIRING_PHRASE_MAX_AGE", default=600
)
TOOPHER_SERVER_QR_PAIRING_MAX_AGE = env.int("TOOPHER_SERVER_QR_PAIRING_MAX_AGE", default=600)
TOOPHER_SERVER_TRUSTED_PROXIES = env.int("TOOPHER_SERVER_TRUSTED_PROXIES", default=0)
TOOPHER_SERVER_REMEMBER_DAYS = env.int("TOOPHER_SERVER_REMEMBER_DAYS", default=30)
# Web Push (docs/push.md).
TOOPHER_SERVER_PUSH_CONTACT = env.str(
    "TOOPHER_SERVER_PUSH_CONTACT", default=f"mailto:{DEFAULT_FROM_EMAIL}"
)
TOOPHER_SERVER_PUSH_TIMEOUT = env.float("TOOPHER_SERVER_PUSH_TIMEOUT", default=5.0)
TOOPHER_SERVER_NOT_ME_PUSH_HOLD = env.int("TOOPHER_SERVER_NOT_ME_PUSH_HOLD", default=900)

# HTTPS. Behind a TLS proxy (nginx, a balancer) that sets X-Forwarded-Proto on every
# request and removes any the client sent, the flag trusts that header.
BEHIND_TLS_PROXY = env.bool("TOOPHER_SERVER_BEHIND_TLS_PROXY", default=False)
if BEHIND_TLS_PROXY:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=BEHIND_TLS_PROXY)
SECURE_REDIRECT_EXEMPT = [r"^health$"]  # a balancer may probe over plain HTTP
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", default=False)
SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=False)
SECURE_REFERRER_POLICY = "same-origin"
SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True
X_FRAME_OPTIONS = "DENY"  # the iframe pages lift it for themselves

STATIC_URL = "/static/"
STATIC_ROOT = env.str("STATIC_ROOT", default=None)

LANGUAGE_CODE = "en"
USE_I18N = True
USE_TZ = True
TIME_ZONE = "UTC"
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"redact": {"()": "toopher_server.logs.RedactSecrets"}},
    "formatters": {"line": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "handlers": {
        "stderr": {
            "class": "logging.StreamHandler",
            "stream": "ext://sys.stderr",
            "formatter": "line",
            "filters": ["redact"],
        }
    },
    "root": {"handlers": ["stderr"], "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": {
        # Django's own request errors go to the root handler once (no email to admins).
        "django": {"handlers": [], "level": "INFO", "propagate": True},
        # oauthlib says why each refused signature failed, at INFO: the 401 is enough.
        "oauthlib": {"handlers": [], "level": "WARNING", "propagate": True},
    },
}
