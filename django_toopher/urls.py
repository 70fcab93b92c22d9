"""URLs of django_toopher.

Include them once: ``path("toopher/", include("django_toopher.urls"))``.
"""

from django.urls import include, path

from .views import login

app_name = "django_toopher"

urlpatterns = [
    # login: the pending page and its endpoints
    path("pending/", login.pending, name="pending"),
    path("pending/status/", login.status, name="pending_status"),
    path("pending/cancel/", login.cancel, name="pending_cancel"),
    path("pending/otp/", login.otp, name="pending_otp"),
    path("pending/terminal/", login.name_terminal, name="pending_name_terminal"),
    path("pending/pair/", login.pair, name="pending_pair"),
    path("pending/pair/qr.png", login.qr, name="pending_qr"),
]

# enrollment
urlpatterns += [path("", include("django_toopher.enrollment_urls"))]
