from django.contrib.auth.views import PasswordResetConfirmView
from django.urls import path

from . import views

urlpatterns = [
    path("", views.home, name="home"),
    path("plain/", views.plain, name="plain"),
    path("private/", views.private, name="private"),
    path("change-email/", views.change_email, name="change_email"),
    path("delete-account/", views.delete_account, name="delete_account"),
    path("reports/", views.reports, name="reports"),
    path("transfer/", views.TransferView.as_view(), name="transfer"),
    path("api/change-email/", views.api_change_email, name="api_change_email"),
    # A password reset that logs the user in afterwards (a known 2FA bypass elsewhere).
    path(
        "reset-and-login/<uidb64>/<token>/",
        PasswordResetConfirmView.as_view(post_reset_login=True, success_url="/private/"),
        name="reset_and_login",
    ),
]
