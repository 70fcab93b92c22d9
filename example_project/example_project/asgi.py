"""ASGI entry point: ``uvicorn --app-dir example_project example_project.asgi:application``.

The site calls its own mounted sandbox over HTTP while serving a request, so the
server must answer other requests meanwhile. Under ASGI, Django runs each request's
sync views and middleware in a thread of its own (``asgiref``'s per-request
thread-sensitive context), so a poll that waits on Toopher never blocks the event loop
nor the sandbox request it waits for. One uvicorn process is enough for the demo.
"""

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "example_project.settings")

application = get_asgi_application()
