"""System checks: the sandbox is a development tool, not a production service."""

from django.conf import settings
from django.core.checks import Tags, Warning, register

W001 = "toopher_sandbox.W001"


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
                "Remove 'toopher_sandbox' from INSTALLED_APPS in production."
            ),
            id=W001,
        )
    ]
