"""WSGI entry point of the service: ``toopher_server.wsgi:application``.

``toopher-server serve`` runs it under gunicorn (Linux) or waitress (elsewhere); any
WSGI server will do.
"""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "toopher_server.settings")

application = get_wsgi_application()
