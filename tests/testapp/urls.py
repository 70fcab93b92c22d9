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
]
