"""API errors and the JSON error body of spec §4."""

import logging

from django.http import JsonResponse

log = logging.getLogger("toopher_server")

NOT_AUTHORIZED_MESSAGE = "This pairing has not been authorized to authenticate."
OAUTH_MESSAGE = "Not a valid OAuth signed request"


class ApiError(Exception):
    """An error answered as ``{"error_code": int, "error_message": str}``."""

    def __init__(self, status: int, error_code: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.error_code = error_code
        self.message = message

    def response(self) -> JsonResponse:
        return error_response(self.status, self.error_code, self.message)


def error_response(status: int, error_code: int, message: str) -> JsonResponse:
    """A JSON error response."""
    return JsonResponse({"error_code": error_code, "error_message": message}, status=status)


def bad_request(message: str) -> ApiError:
    return ApiError(400, 400, message)


def not_found(message: str) -> ApiError:
    return ApiError(404, 404, message)


def user_disabled() -> ApiError:
    return ApiError(409, 704, "The specified user has disabled Toopher authentication.")


def user_unknown() -> ApiError:
    return ApiError(409, 705, "No matching user exists.")


def terminal_unknown() -> ApiError:
    return ApiError(409, 706, "No matching terminal exists.")


def pairing_deactivated() -> ApiError:
    return ApiError(409, 707, "Pairing has been deactivated")


def pairing_not_authorized() -> ApiError:
    return ApiError(409, 601, NOT_AUTHORIZED_MESSAGE)


def unexpected_error(where: str) -> JsonResponse:
    """The answer to a bug (an exception no rule expected): logged, and still JSON.

    Call it from an ``except Exception`` block, so the traceback is logged.
    """
    log.exception("unexpected error in %s", where)
    return error_response(500, 500, "The service failed to handle this request.")


UNAVAILABLE_MESSAGE = "The service's database is not answering now; try again shortly."


def database_unavailable(where: str, error: Exception) -> JsonResponse:
    """The answer while the database does not answer (a restart, a failover): a 503 the
    caller may retry; logged as a warning, without a traceback.

    Call it from an ``except DatabaseError`` block.
    """
    log.warning("database unavailable in %s: %s", where, error)
    return error_response(503, 503, UNAVAILABLE_MESSAGE)
