"""Root URLconf of the service run on its own (``toopher_server.settings``).

The service at the root (API v1 at ``/v1``, the iframe, the QR link and reset pages),
the health endpoint at ``/health``, the admin at ``/admin/``, and the static files (the
admin's, the iframe's), served here as ``toopher_sandbox.standalone_urls`` does: with
``DEBUG`` off ``staticfiles_urlpatterns()`` would serve nothing. A proxy in front may
serve ``/static/`` itself from ``STATIC_ROOT`` (``toopher-server collectstatic``).

Errors Django raises outside the views (a 404 on an unknown path, a 500) are answered
as the Toopher error JSON under ``/v1`` (the middleware) and as a short page elsewhere.
"""

from django.conf import settings
from django.contrib import admin
from django.contrib.staticfiles.views import serve
from django.urls import include, path, re_path

urlpatterns = [
    path("admin/", admin.site.urls),
    path("", include("toopher_server.urls")),  # first: it serves static/toopher-web.js
    re_path(
        r"^%s(?P<path>.*)$" % settings.STATIC_URL.lstrip("/"),  # noqa: UP031
        serve,
        {"insecure": True},
    ),
]
