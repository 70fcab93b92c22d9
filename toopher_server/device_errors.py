"""The device API's own refusals: a call that passed the signature checks (or an
enrolment refused before them) and that the endpoint's rules refuse.

They extend ``devicesig``'s errors, so a view answers every refusal the same way:
``{"error": <code>, "message": ..., "server_time": ...}`` with the class's status.
Codes are stable (docs/authenticator-protocol.md §9); messages are for people.
"""

from __future__ import annotations

from .devicesig import DeviceSignatureError, Malformed

__all__ = [
    "DeviceApiError",
    "MethodNotAllowed",
    "Mismatch",
    "NotFound",
    "NotPending",
    "RateLimited",
    "ServerError",
    "TooLarge",
    "Unavailable",
    "early_error",
    "CodeRequired",
    "WrongCode",
]


class DeviceApiError(DeviceSignatureError):
    """A device call refused by the endpoint's rules; it changed nothing."""

    code = "device_api"
    http_status = 400


class NotFound(DeviceApiError):
    """No such endpoint, or no such pairing or request on this device (another device's
    or another user's looks exactly like one that does not exist)."""

    code = "not_found"
    http_status = 404


class MethodNotAllowed(DeviceApiError):
    """The endpoint does not answer this HTTP method."""

    code = "method_not_allowed"
    http_status = 405


class NotPending(DeviceApiError):
    """The pairing or request was already answered, cancelled, or has expired."""

    code = "not_pending"
    http_status = 409


class Mismatch(DeviceApiError):
    """The signed decision does not match what the service holds (site, user, action,
    terminal, id, or a number where none was offered)."""

    code = "mismatch"
    http_status = 409


class TooLarge(DeviceApiError):
    """The body is larger than the device API accepts."""

    code = "too_large"
    http_status = 413


class RateLimited(DeviceApiError):
    """Too many enrolments from this address; try again later."""

    code = "rate_limited"
    http_status = 429


class ServerError(DeviceApiError):
    """A bug of the service (logged); the call may or may not have taken effect."""

    code = "server_error"
    http_status = 500


class Unavailable(DeviceApiError):
    """The service's database did not answer (a restart, a failover); nothing changed.
    The device retries a little later, with a new nonce."""

    code = "unavailable"
    http_status = 503


class WrongCode(DeviceApiError):
    """Allow with a number other than the request's: the request is now denied (the one
    refusal that changes something: a wrong pick is a denial)."""

    code = "wrong_code"
    http_status = 409


class CodeRequired(DeviceApiError):
    """Allow without a number for a request that offers numbers; nothing changed."""

    code = "code_required"
    http_status = 409


def early_error(status: int) -> DeviceSignatureError:
    """The device error for an answer Django made before any view ran (a bad ``Host``,
    ...), by its status: the middleware answers it in the device API's form."""
    if status >= 500:
        return ServerError("the service failed to handle this call")
    known: dict[int, type[DeviceSignatureError]] = {
        404: NotFound,
        405: MethodNotAllowed,
        413: TooLarge,
        429: RateLimited,
    }
    return known.get(status, Malformed)("the request could not be handled")
