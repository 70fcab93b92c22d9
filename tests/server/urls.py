"""A project that runs the service alone: ``toopher_server.urls`` at the root."""

from django.urls import include, path

urlpatterns = [path("", include("toopher_server.urls"))]
