"""App configuration for the Toopher sandbox."""

from django.apps import AppConfig


class ToopherSandboxConfig(AppConfig):
    name = "toopher_sandbox"
    verbose_name = "Toopher sandbox"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from . import checks  # noqa: F401  (registers the system checks)
