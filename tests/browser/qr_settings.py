"""Settings of the service under test in tests/browser/test_qr_scan.py: the live
service's (``tests.server.live_settings``) with the QR scanning test page."""

from tests.server.live_settings import *  # noqa: F403

ROOT_URLCONF = "tests.browser.qr_urls"

#: The service's pages (the QR link's, the authenticator app's shell) are templates.
TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "APP_DIRS": True,
        "OPTIONS": {"context_processors": ["django.template.context_processors.request"]},
    }
]
