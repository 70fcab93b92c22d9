from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DjangoToopherConfig(AppConfig):
    name = "django_toopher"
    verbose_name = _("Toopher two-factor authentication")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from . import checks, receivers  # noqa: F401  (registers checks and signal receivers)
