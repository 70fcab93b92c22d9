"""The live service of the Firefox push test: ``tests.server.live_settings`` plus plain
http push endpoints on loopback (the test's push service), the app's templates and the
test page's URLs."""

from tests.server.live_settings import *  # noqa: F403

ROOT_URLCONF = "tests.push.live_urls"
TOOPHER_SERVER_PUSH_ALLOW_INSECURE_LOOPBACK = True
# The app's pages and its sw.js are templates.
TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "APP_DIRS": True,
        "OPTIONS": {"context_processors": ["django.template.context_processors.request"]},
    }
]

if DATABASES["default"]["ENGINE"].endswith("sqlite3"):  # noqa: F405
    import django

    # As toopher_server.settings has it: the push threads write while requests do, and
    # SQLite refuses a deferred transaction's first write when another thread wrote.
    if django.VERSION >= (5, 1):
        DATABASES["default"].setdefault("OPTIONS", {})["transaction_mode"] = "IMMEDIATE"  # noqa: F405
