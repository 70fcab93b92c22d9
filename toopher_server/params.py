"""Reading API parameters strictly: UTF-8 only, bounded sizes, aliases, booleans.

Parameters come from the query string and, for form-encoded POSTs, from the body
(spec §1.2). Every value is a string on the wire; booleans are parsed
case-insensitively. Anything we cannot read is a 400, never a 500.
"""

from __future__ import annotations

import uuid
from typing import Literal, overload
from urllib.parse import parse_qsl

from django.core.exceptions import RequestDataTooBig
from django.http import HttpRequest

from .errors import ApiError, bad_request

FORM_CONTENT_TYPE = "application/x-www-form-urlencoded"
MAX_FIELDS = 200
MAX_VALUE_LENGTH = 1000
MAX_BODY_BYTES = 256 * 1024

TRUE_VALUES = {"true", "1", "yes", "t", "y", "on"}
FALSE_VALUES = {"false", "0", "no", "f", "n", "off"}


def _parse(text: str, where: str) -> list[tuple[str, str]]:
    try:
        pairs = parse_qsl(
            text,
            keep_blank_values=True,
            encoding="utf-8",
            errors="strict",
            max_num_fields=MAX_FIELDS,
        )
    except UnicodeDecodeError as exc:
        raise bad_request(f"The {where} is not valid UTF-8.") from exc
    except ValueError as exc:
        raise bad_request(f"Too many parameters in the {where}.") from exc
    return pairs


def is_form(request: HttpRequest) -> bool:
    """True when the request body is form-encoded (and so holds parameters)."""
    return request.content_type == FORM_CONTENT_TYPE


def raw_body_text(request: HttpRequest) -> str:
    """The request body as text, or a 400 when it is too big or not UTF-8."""
    try:
        length = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError as exc:
        raise bad_request("Invalid Content-Length.") from exc
    if length > MAX_BODY_BYTES:
        raise ApiError(413, 413, "The request body is too large.")
    try:
        body = request.body
    except RequestDataTooBig as exc:
        raise ApiError(413, 413, "The request body is too large.") from exc
    try:
        return body.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise bad_request("The request body is not valid UTF-8.") from exc


def query_pairs(request: HttpRequest) -> list[tuple[str, str]]:
    return _parse(request.META.get("QUERY_STRING", ""), "query string")


def body_pairs(request: HttpRequest) -> list[tuple[str, str]]:
    if request.method != "POST" or not is_form(request):
        return []
    return _parse(raw_body_text(request), "request body")


class Params:
    """The request's parameters (query + form body), first value wins."""

    def __init__(self, pairs: list[tuple[str, str]]) -> None:
        self._values: dict[str, str] = {}
        for key, value in pairs:
            if "\x00" in key or "\x00" in value:
                raise bad_request("Parameters may not contain NUL characters.")
            self._values.setdefault(key, value)

    @classmethod
    def from_request(cls, request: HttpRequest) -> Params:
        return cls(query_pairs(request) + body_pairs(request))

    def __contains__(self, name: str) -> bool:
        return name in self._values

    @overload
    def text(self, *names: str, required: Literal[True], max_length: int = 200,
             empty_is_absent: bool = True) -> str: ...

    @overload
    def text(self, *names: str, required: bool = False, max_length: int = 200,
             empty_is_absent: bool = True) -> str | None: ...

    def text(
        self,
        *names: str,
        required: bool = False,
        max_length: int = 200,
        empty_is_absent: bool = True,
    ) -> str | None:
        """The first present value among ``names`` (aliases), or None.

        Empty values count as absent unless ``empty_is_absent`` is false. A value
        longer than ``max_length`` is a 400.
        """
        for name in names:
            value = self._values.get(name)
            if value is None or (empty_is_absent and value.strip() == ""):
                continue
            if len(value) > min(max_length, MAX_VALUE_LENGTH):
                raise bad_request(f"Parameter {name} is too long (at most {max_length}).")
            return value
        if required:
            raise bad_request(f"Missing required parameter: {names[0]}.")
        return None

    def boolean(self, *names: str, default: bool | None = None) -> bool | None:
        """A boolean parameter, parsed case-insensitively (True, true, 1, ...)."""
        for name in names:
            value = self._values.get(name)
            if value is None or value.strip() == "":
                continue
            lowered = value.strip().lower()
            if lowered in TRUE_VALUES:
                return True
            if lowered in FALSE_VALUES:
                return False
            raise bad_request(f"Parameter {name} must be a boolean (true or false).")
        return default

    def uuid(self, *names: str, required: bool = False) -> str | None:
        """A UUID parameter in lowercase canonical form; a malformed one is a 400."""
        value = self.text(*names, required=required, max_length=64)
        if value is None:
            return None
        return parse_uuid(value, names[0])


def parse_uuid(value: str, what: str = "id") -> str:
    """Canonical lowercase form of a UUID, or a 400."""
    try:
        return str(uuid.UUID(value))
    except (ValueError, TypeError, AttributeError) as exc:
        raise bad_request(f"Invalid {what}: not a UUID.") from exc
