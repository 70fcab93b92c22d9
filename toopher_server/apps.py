"""App configuration of the Toopher service."""

from django.apps import AppConfig


class ToopherServerConfig(AppConfig):
    name = "toopher_server"
    verbose_name = "Toopher service"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        """Register the service's system checks."""
        from . import checks  # noqa: F401
