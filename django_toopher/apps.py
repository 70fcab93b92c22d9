from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DjangoToopherConfig(AppConfig):
    name = "django_toopher"
    verbose_name = _("Toopher two-factor authentication")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # Imported here, not at the top: they need the app registry to be ready.
        from . import checks, receivers  # noqa: F401  (registers checks and signal receivers)
        from .internal.flows.hook import take_over_last_login

        take_over_last_login()
