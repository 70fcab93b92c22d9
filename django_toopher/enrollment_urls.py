"""URL patterns of the enrollment pages (security overview, pairing, terminals,
password re-entry). Included by :mod:`django_toopher.urls` in its ``# enrollment``
block, so they live in the ``django_toopher`` namespace."""

from django.urls import path

from .reauth import reauth_view
from .views import enrollment, terminals

urlpatterns = [
    path("security/", enrollment.security, name="security"),
    path("security/pair/", enrollment.pair, name="pair"),
    path("security/pair/qr.png", enrollment.pair_qr, name="pair_qr"),
    path("security/pair/status/", enrollment.pair_status, name="pair_status"),
    path("security/unpair/", enrollment.unpair, name="unpair"),
    path("terminals/", terminals.terminals, name="terminals"),
    path("terminals/<int:pk>/rename/", terminals.terminal_rename,
         name="terminal_rename"),
    path("terminals/<int:pk>/forget/", terminals.terminal_forget,
         name="terminal_forget"),
    path("security/reauthenticate/", reauth_view, name="reauth"),
]
