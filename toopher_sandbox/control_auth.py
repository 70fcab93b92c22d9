"""The control API's per-instance token.

The control API can approve any request and set any requester's secret, so it answers
only a caller that shows the token: header ``X-Sandbox-Token: <token>``. The token is
the setting ``TOOPHER_SANDBOX_CONTROL_TOKEN``; the standalone server makes a random one
per instance (or takes ``--control-token``) and prints it with the key and secret.
Without the setting (a project that mounts the sandbox and set none) the control API
is off. The phone pages are not the control API: see ``phone_views``.
"""

from __future__ import annotations

import hmac

from django.conf import settings
from django.http import HttpRequest

from toopher_server.errors import ApiError

HEADER = "X-Sandbox-Token"
_META_KEY = "HTTP_X_SANDBOX_TOKEN"


def control_token() -> str:
    """The token the control API requires ('' when the control API is off)."""
    return str(getattr(settings, "TOOPHER_SANDBOX_CONTROL_TOKEN", "") or "")


def check_control_token(request: HttpRequest) -> None:
    """Raise a 403 if the control API is off, a 401 if the request lacks the token."""
    expected = control_token()
    if not expected:
        raise ApiError(
            403, 403, "The control API is off: set TOOPHER_SANDBOX_CONTROL_TOKEN to use it."
        )
    given = str(request.META.get(_META_KEY, ""))
    if not hmac.compare_digest(given.encode("utf-8", "replace"), expected.encode("utf-8")):
        raise ApiError(401, 401, f"The control API needs this sandbox's token ({HEADER}).")
