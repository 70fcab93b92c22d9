"""Root URLconf of the standalone server: the sandbox at ``/``, plus its static files.

The standalone server runs with ``DEBUG`` off (no debug pages, no query log), so
``staticfiles_urlpatterns()`` would serve nothing: the static files are served here
explicitly, from the apps' ``static`` directories, as ``runserver`` would.
"""

from django.conf import settings
from django.contrib.staticfiles.views import serve
from django.urls import include, path, re_path

urlpatterns = [
    path("", include("toopher_sandbox.urls")),
    re_path(
        r"^%s(?P<path>.*)$" % settings.STATIC_URL.lstrip("/"),  # noqa: UP031
        serve,
        {"insecure": True},
    ),
]
