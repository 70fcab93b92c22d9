"""Toopher error JSON for every error answer under the sandbox's API and control paths.

The service's middleware (``toopher_server.middleware``) with the control API's
prefix added; the standalone server puts it first.
"""

from toopher_server import middleware


class JsonApiErrorsMiddleware(middleware.JsonApiErrorsMiddleware):
    """The service's JSON errors, for ``/v1`` and ``/control``."""

    prefixes = ("/v1", "/control")
