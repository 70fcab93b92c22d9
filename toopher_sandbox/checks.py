"""System checks: the sandbox is a development tool on top of the Toopher service."""

from django.apps import apps
from django.conf import settings
from django.core.checks import Error, Tags, Warning, register

W001 = "toopher_sandbox.W001"
E002 = "toopher_sandbox.E002"


@register(Tags.security, deploy=False)
def check_debug(app_configs=None, **kwargs) -> list[Warning]:
    """Warn when the sandbox is installed in a project running with DEBUG off."""
    if settings.DEBUG:
        return []
    return [
        Warning(
            "toopher_sandbox is installed while DEBUG is off.",
            hint=(
                "The sandbox phone page and control API let anyone approve any request. "
                "Remove 'toopher_sandbox' from INSTALLED_APPS in production and run "
                "toopher_server instead (docs/server.md)."
            ),
            id=W001,
        )
    ]


@register()
def check_service_installed(app_configs=None, **kwargs) -> list[Error]:
    """The sandbox serves the service's API and tables: ``toopher_server`` must be installed."""
    if apps.is_installed("toopher_server"):
        return []
    return [
        Error(
            "toopher_sandbox needs toopher_server in INSTALLED_APPS.",
            hint="Add 'toopher_server' to INSTALLED_APPS (the sandbox is built on it).",
            id=E002,
        )
    ]
