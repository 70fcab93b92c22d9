"""App configuration for the Toopher sandbox."""

from django.apps import AppConfig


class ToopherSandboxConfig(AppConfig):
    name = "toopher_sandbox"
    verbose_name = "Toopher sandbox"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from . import checks, outbox  # noqa: F401  (checks registers the system checks)

        outbox.install()  # the service's SMS and emails go to the sandbox's outbox
