"""toopher: a Python 3 client for the Toopher API v1."""

__version__ = "3.0.0.dev0"

from .api import DEFAULT_API_URL, DEFAULT_TIMEOUT, ToopherApi  # noqa: E402
from .errors import (  # noqa: E402
    PairingDeactivatedError,
    SignatureValidationError,
    TerminalUnknownError,
    ToopherApiError,
    ToopherConnectionError,
    ToopherMalformedResponseError,
    ToopherTimeoutError,
    ToopherTLSError,
    ToopherTransportError,
    UserDisabledError,
    UserUnknownError,
)
from .iframe import ToopherIframe  # noqa: E402
from .resources import (  # noqa: E402
    Action,
    AuthenticationRequest,
    AuthenticationStatus,
    Pairing,
    PairingStatus,
    User,
    UserTerminal,
)

__all__ = [
    "DEFAULT_API_URL",
    "DEFAULT_TIMEOUT",
    "Action",
    "AuthenticationRequest",
    "AuthenticationStatus",
    "Pairing",
    "PairingDeactivatedError",
    "PairingStatus",
    "SignatureValidationError",
    "TerminalUnknownError",
    "ToopherApi",
    "ToopherApiError",
    "ToopherConnectionError",
    "ToopherIframe",
    "ToopherMalformedResponseError",
    "ToopherTLSError",
    "ToopherTimeoutError",
    "ToopherTransportError",
    "User",
    "UserDisabledError",
    "UserTerminal",
    "UserUnknownError",
    "__version__",
]
