"""WSGI entry point: ``gunicorn --chdir example_project --threads 8 example_project.wsgi``.

The site calls its own mounted sandbox over HTTP while serving a request, so it must
be served by a threaded server (runserver is; give gunicorn ``--threads``).
"""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "example_project.settings")

application = get_wsgi_application()
