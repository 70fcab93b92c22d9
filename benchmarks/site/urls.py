"""URLs of the benchmark site: two tiny views, login/logout, static files and
(with ``BENCH_TOOPHER=1``) django_toopher."""

from django.conf import settings
from django.contrib.auth import views as auth_views
from django.contrib.staticfiles.views import serve as serve_static
from django.urls import include, path, re_path

from . import views

urlpatterns = [
    path("bench/hello/", views.hello, name="hello"),
    path("bench/session/", views.session_probe, name="session_probe"),
    path("accounts/login/", auth_views.LoginView.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    # pending.js for the approval runs (gunicorn serves no static files by itself).
    re_path(r"^static/(?P<path>.*)$", serve_static, {"insecure": True}),
]

if settings.WITH_TOOPHER:
    urlpatterns.append(path("toopher/", include("django_toopher.urls")))
    urlpatterns.append(path("bench/forced-login/", views.forced_login, name="forced_login"))
