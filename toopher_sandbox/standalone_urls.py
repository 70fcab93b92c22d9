"""Root URLconf of the standalone server: the sandbox at ``/``, plus static files."""

from django.contrib.staticfiles.urls import staticfiles_urlpatterns
from django.urls import include, path

urlpatterns = [path("", include("toopher_sandbox.urls"))] + staticfiles_urlpatterns()
