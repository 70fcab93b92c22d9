from django.contrib import admin
from django.urls import include, path

urlpatterns = [
    path("admin/", admin.site.urls),
    path("accounts/", include("django.contrib.auth.urls")),
    path("toopher/", include("django_toopher.urls")),
    path("_toopher/", include("django_toopher.headless.urls")),
    path("sandbox/", include("toopher_sandbox.urls")),
    path("", include("tests.testapp.urls")),
]
