"""ASGI entry point of the service: ``toopher_server.asgi:application``.

For an ASGI server (``uvicorn toopher_server.asgi:application --lifespan off``). The
service's views are sync; Django runs each in a thread of its own.
"""

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "toopher_server.settings")

application = get_asgi_application()
