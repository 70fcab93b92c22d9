"""URLs of the example site: the demo pages, django_toopher, the admin, the sandbox."""

from django.conf import settings
from django.contrib import admin
from django.contrib.staticfiles.views import serve as serve_static
from django.urls import include, path, re_path

#: A database or cache outage answers 503 with a retry path, not a bare 500.
handler500 = "example_project.errors.server_error"
handler400 = "example_project.errors.bad_request"

urlpatterns = [
    path("", include("demo_site.urls")),
    path("toopher/", include("django_toopher.urls")),
    # The JSON API (docs/headless.md), used by the single-page example at /spa/.
    path("_toopher/", include("django_toopher.headless.urls")),
    path("admin/", admin.site.urls),
    path("i18n/", include("django.conf.urls.i18n")),  # set_language: the language switcher
]

if settings.USE_SANDBOX:
    # Our own Toopher service: API v1 at /sandbox/v1/, the phone simulator at /sandbox/phone/.
    urlpatterns.append(path("sandbox/", include("toopher_sandbox.urls")))

if settings.SERVE_STATIC:
    # A demo convenience so that gunicorn serves CSS and scripts too; put a web server
    # or WhiteNoise in front of a real site instead.
    urlpatterns.append(
        re_path(r"^static/(?P<path>.*)$", serve_static, {"insecure": True}),
    )
