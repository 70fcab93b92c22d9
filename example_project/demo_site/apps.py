from django.apps import AppConfig
from django.db.models.signals import post_migrate


class DemoSiteConfig(AppConfig):
    name = "demo_site"
    verbose_name = "Example site"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from .sandbox import ensure_sandbox_requester_after_migrate

        # After migrate (never at import time): make the mounted sandbox know our requester.
        post_migrate.connect(
            ensure_sandbox_requester_after_migrate,
            dispatch_uid="demo_site.ensure_sandbox_requester",
        )
