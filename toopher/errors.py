"""The exception tree of the Toopher client.

Every error the client raises is a :class:`ToopherApiError`, so one ``except``
clause catches them all. The subclasses say what happened:

* the zero-storage errors of the API (codes 704 to 707, and 601 with a
  "pairing not authorized / deactivated" message) each have their own class;
* :class:`ToopherTransportError` and its subclasses mean that no usable HTTP
  answer arrived (timeout, refused connection, TLS failure);
* :class:`ToopherMalformedResponseError` means an answer arrived but its body was
  not JSON, or was JSON of the wrong shape;
* :class:`SignatureValidationError` means an iframe postback failed validation.

The code -> class table lives in this module only (:data:`ERROR_CODE_CLASSES`).
"""

from __future__ import annotations

from typing import Any

__all__ = [
    "ERROR_CODE_CLASSES",
    "ERROR_CODE_NOT_AUTHORIZED",
    "ERROR_CODE_PAIRING_DEACTIVATED",
    "ERROR_CODE_TERMINAL_UNKNOWN",
    "ERROR_CODE_USER_DISABLED",
    "ERROR_CODE_USER_UNKNOWN",
    "REASON_CODE_USER_REQUIRES_OTP",
    "PairingDeactivatedError",
    "SignatureValidationError",
    "TerminalUnknownError",
    "ToopherApiError",
    "ToopherConnectionError",
    "ToopherMalformedResponseError",
    "ToopherTLSError",
    "ToopherTimeoutError",
    "ToopherTransportError",
    "UserDisabledError",
    "UserUnknownError",
    "error_class_for",
    "error_for",
]

#: "This pairing has not been authorized to authenticate." (pending, denied or old-style
#: deactivated pairing). Mapped to :class:`PairingDeactivatedError` by message.
ERROR_CODE_NOT_AUTHORIZED = 601
#: The user exists but has opted out of Toopher: let them in.
ERROR_CODE_USER_DISABLED = 704
#: No such user, or the user has no pairing: start pairing.
ERROR_CODE_USER_UNKNOWN = 705
#: Zero-storage terminal id not known: ask the user to name this terminal.
ERROR_CODE_TERMINAL_UNKNOWN = 706
#: The pairing was deleted in the app, or reset: pair again.
ERROR_CODE_PAIRING_DEACTIVATED = 707
#: Not an HTTP error: the ``reason_code`` of a pending authentication request whose
#: user must answer with an OTP.
REASON_CODE_USER_REQUIRES_OTP = 708

# Substrings (lowercase) of error messages that mean "the pairing is not usable".
_PAIRING_NOT_USABLE_PHRASES = (
    "pairing has not been authorized",
    "pairing has been deactivated",
)


class ToopherApiError(Exception):
    """Base class of every error raised by the Toopher client.

    :param message: a human-readable description (never contains secrets).
    :param status_code: the HTTP status of the answer, if there was one.
    :param error_code: the numeric ``error_code`` of the API's error body, if any.
    :param error_message: the ``error_message`` of the API's error body, if any.
    """

    def __init__(
        self,
        message: str,
        status_code: int | None = None,
        error_code: int | None = None,
        error_message: str | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.status_code = status_code
        self.error_code = error_code
        self.error_message = error_message

    @property
    def is_service_failure(self) -> bool:
        """True when the service, not the request, is at fault.

        That is: no usable HTTP answer (transport errors), an answer that could not
        be understood (malformed responses), or an HTTP status of 500 or more.
        Integrations use it to choose between failing open and failing closed;
        every other error (a refused pairing, an unknown user...) is a real answer.
        """
        return self.status_code is not None and self.status_code >= 500

    def __str__(self) -> str:
        return self.message

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}({self.message!r}, status_code={self.status_code!r}, "
            f"error_code={self.error_code!r}, error_message={self.error_message!r})"
        )

    def __reduce__(self) -> tuple[Any, ...]:
        # Keep every field through pickling (the default would keep only ``message``).
        return (
            type(self),
            (self.message, self.status_code, self.error_code, self.error_message),
        )


class UserDisabledError(ToopherApiError):
    """704: the user has disabled Toopher authentication (opt-out). Let them in."""


class UserUnknownError(ToopherApiError):
    """705: no such user, or the user has no pairing. Start pairing."""


class TerminalUnknownError(ToopherApiError):
    """706: the terminal id is unknown for this user. Ask for a terminal name (T1)."""


class PairingDeactivatedError(ToopherApiError):
    """707, or 601 "pairing has not been authorized": the pairing is unusable. Re-pair."""


class ToopherTransportError(ToopherApiError):
    """No usable HTTP answer arrived (base class of timeout, connection, TLS errors)."""

    @property
    def is_service_failure(self) -> bool:
        return True


class ToopherTimeoutError(ToopherTransportError):
    """The connection or the read timed out."""


class ToopherConnectionError(ToopherTransportError):
    """The connection could not be made (refused, DNS failure, reset...)."""


class ToopherTLSError(ToopherTransportError):
    """The TLS handshake or certificate verification failed."""


class ToopherMalformedResponseError(ToopherApiError):
    """An answer arrived but its body was not JSON, or was JSON of the wrong shape."""

    @property
    def is_service_failure(self) -> bool:
        return True


class SignatureValidationError(ToopherApiError):
    """An iframe postback failed validation (missing keys, signature, TTL, token)."""


#: The one table that maps API error codes to exception classes.
ERROR_CODE_CLASSES: dict[int, type[ToopherApiError]] = {
    ERROR_CODE_USER_DISABLED: UserDisabledError,
    ERROR_CODE_USER_UNKNOWN: UserUnknownError,
    ERROR_CODE_TERMINAL_UNKNOWN: TerminalUnknownError,
    ERROR_CODE_PAIRING_DEACTIVATED: PairingDeactivatedError,
}


def error_class_for(error_code: int | None, error_message: str | None) -> type[ToopherApiError]:
    """Return the exception class for an API error code and message.

    Codes 704-707 map by code. Any other code whose message says the pairing "has not
    been authorized" or "has been deactivated" (any case) maps to
    :class:`PairingDeactivatedError` (the 601 case, and servers older than 2014-03).
    Everything else is a plain :class:`ToopherApiError`.
    """
    if error_code is not None and error_code in ERROR_CODE_CLASSES:
        return ERROR_CODE_CLASSES[error_code]
    lowered = (error_message or "").lower()
    if any(phrase in lowered for phrase in _PAIRING_NOT_USABLE_PHRASES):
        return PairingDeactivatedError
    return ToopherApiError


def error_for(
    error_code: int | None,
    error_message: str | None,
    status_code: int | None = None,
) -> ToopherApiError:
    """Build (not raise) the right exception for an API error answer."""
    cls = error_class_for(error_code, error_message)
    if error_message:
        message = error_message
    elif error_code is not None:
        message = f"Toopher API error {error_code}"
    else:
        message = f"Toopher API error (HTTP {status_code})"
    if error_code is not None and error_message:
        message = f"{error_message} (error {error_code})"
    return cls(message, status_code=status_code, error_code=error_code,
               error_message=error_message)
