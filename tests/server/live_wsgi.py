"""WSGI entry point of the service alone: ``gunicorn tests.server.live_wsgi:application``."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tests.server.live_settings")
application = get_wsgi_application()
