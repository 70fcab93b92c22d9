"""URLs of django_toopher.

Include them once: ``path("toopher/", include("django_toopher.urls"))``.
"""

from django.urls import URLPattern, URLResolver, path

from .views import enrollment, login, recovery, terminals
from .views.reauth import reauth_view

app_name = "django_toopher"

urlpatterns: list[URLPattern | URLResolver] = [
    # login: the pending page and its endpoints
    path("pending/", login.pending, name="pending"),
    path("pending/status/", login.status, name="pending_status"),
    path("pending/cancel/", login.cancel, name="pending_cancel"),
    path("pending/otp/", login.otp, name="pending_otp"),
    path("pending/terminal/", login.name_terminal, name="pending_name_terminal"),
    path("pending/pair/", login.pair, name="pending_pair"),
    path("pending/pair/qr.png", login.qr, name="pending_qr"),
    # a lost phone: recovery codes and the reset link by email
    path("pending/recovery-code/", recovery.pending_code, name="pending_recovery_code"),
    path("pending/reset-email/", recovery.pending_email, name="pending_reset_email"),
    path("pending/reset/<str:token>/", recovery.pending_reset, name="pending_reset"),
    # enrollment: the security page, pairing, terminals, password re-entry
    path("security/", enrollment.security, name="security"),
    path("security/pair/", enrollment.pair, name="pair"),
    path("security/pair/qr.png", enrollment.pair_qr, name="pair_qr"),
    path("security/pair/status/", enrollment.pair_status, name="pair_status"),
    path("security/unpair/", enrollment.unpair, name="unpair"),
    path("security/reauthenticate/", reauth_view, name="reauth"),
    path("security/recovery-codes/", recovery.codes, name="recovery_codes"),
    path("security/recovery-codes/new/", recovery.codes_new, name="recovery_codes_new"),
    path("terminals/", terminals.terminals, name="terminals"),
    path("terminals/<int:pk>/rename/", terminals.terminal_rename, name="terminal_rename"),
    path("terminals/<int:pk>/forget/", terminals.terminal_forget, name="terminal_forget"),
]
