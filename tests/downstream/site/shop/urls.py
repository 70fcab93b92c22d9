from django.contrib.auth import views as auth_views
from django.urls import include, path

from . import views

urlpatterns = [
    path("accounts/login/", auth_views.LoginView.as_view(), name="login"),
    path("toopher/", include("django_toopher.urls")),
    path("email/", views.change_email, name="change_email"),
    path("", views.home, name="home"),
]
