"""URLs of the demo pages."""

from django.contrib.auth import views as auth_views
from django.templatetags.static import static
from django.urls import path, reverse_lazy
from django.views.generic import RedirectView

from . import spa, views

urlpatterns = [
    path("", views.home, name="home"),
    path(
        "accounts/login/",
        auth_views.LoginView.as_view(redirect_authenticated_user=True),
        name="login",
    ),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    # Password reset by mail. post_reset_login logs the user in with the new password:
    # a login like any other, so a paired user's then waits for the phone.
    path("accounts/password_reset/", auth_views.PasswordResetView.as_view(),
         name="password_reset"),
    path("accounts/password_reset/done/", auth_views.PasswordResetDoneView.as_view(),
         name="password_reset_done"),
    path(
        "accounts/reset/<uidb64>/<token>/",
        auth_views.PasswordResetConfirmView.as_view(
            post_reset_login=True, success_url=reverse_lazy("account")
        ),
        name="password_reset_confirm",
    ),
    path("accounts/reset/done/", auth_views.PasswordResetCompleteView.as_view(),
         name="password_reset_complete"),
    path("favicon.ico", RedirectView.as_view(url=static("demo_site/favicon.svg"))),
    path("account/", views.account, name="account"),
    path("account/email/", views.change_email, name="change_email"),
    # The single-page example: plain JavaScript over the JSON API (demo_site/spa.py).
    path("spa/", spa.page, name="spa"),
    path("spa/email", spa.change_email, name="spa_change_email"),
]
