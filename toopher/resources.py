"""Resource objects built from the JSON of the Toopher API (spec §2).

Each object is small and immutable. It exposes the fields that the original
ToopherPython library exposed as attributes, keeps the whole JSON as ``.raw``
(a fresh copy on every access), and falls back to the raw JSON for any other
attribute (``pairing.totp_length``). Objects compare equal when their type and
raw JSON are equal, and they pickle.

A body of the wrong shape (a missing ``id``, a ``pending`` that is not a boolean...)
raises :class:`~toopher.errors.ToopherMalformedResponseError`, never a bare
``KeyError``, ``TypeError`` or ``ValueError``.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any

from .errors import REASON_CODE_USER_REQUIRES_OTP, ToopherMalformedResponseError

__all__ = [
    "Action",
    "AuthenticationRequest",
    "AuthenticationStatus",
    "Pairing",
    "PairingStatus",
    "Resource",
    "User",
    "UserTerminal",
]

_MISSING: Any = object()


class _ShapeError(Exception):
    """Internal: the JSON does not have the expected shape."""


def _get(raw: Mapping[str, Any], key: str, default: Any) -> Any:
    if key in raw and raw[key] is not None:
        return raw[key]
    if default is _MISSING:
        raise _ShapeError(f"missing field {key!r}")
    return default


def _str(raw: Mapping[str, Any], key: str, default: Any = _MISSING) -> Any:
    value = _get(raw, key, default)
    if value is default and default is not _MISSING:
        return value
    if isinstance(value, bool):
        raise _ShapeError(f"field {key!r} should be a string, not a boolean")
    if isinstance(value, int):  # ids given as numbers (seen in postback test data)
        return str(value)
    if not isinstance(value, str):
        raise _ShapeError(f"field {key!r} should be a string, not {type(value).__name__}")
    return value


def _bool(raw: Mapping[str, Any], key: str, default: Any = _MISSING) -> Any:
    value = _get(raw, key, default)
    if value is default and default is not _MISSING:
        return value
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in ("true", "false"):
        return value.strip().lower() == "true"
    raise _ShapeError(f"field {key!r} should be a boolean, not {value!r}")


def _int(raw: Mapping[str, Any], key: str, default: Any = _MISSING) -> Any:
    value = _get(raw, key, default)
    if value is default and default is not _MISSING:
        return value
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lstrip("-").isdigit():
        return int(value.strip())
    raise _ShapeError(f"field {key!r} should be an integer, not {value!r}")


def _nested(raw: Mapping[str, Any], key: str, cls: type[Resource], required: bool) -> Any:
    value = raw.get(key)
    if value is None:
        if required:
            raise _ShapeError(f"missing object {key!r}")
        return None
    if not isinstance(value, Mapping):
        raise _ShapeError(f"field {key!r} should be an object, not {type(value).__name__}")
    try:
        return cls(value, _owned=True)
    except ToopherMalformedResponseError as exc:
        raise _ShapeError(f"in {key!r}: {exc.message}") from None


class Resource:
    """Base class: an immutable view of one JSON object of the API."""

    __slots__ = ("_raw",)

    #: Attribute names shown by ``repr()``.
    _repr_fields: tuple[str, ...] = ("id",)

    def __init__(self, raw: Mapping[str, Any], *, _owned: bool = False) -> None:
        # ``_owned``: ``raw`` is a dict nobody else holds (freshly decoded JSON, or a part
        # of a parent resource's own copy), so the defensive deep copy can be skipped.
        name = type(self).__name__
        if not isinstance(raw, Mapping):
            raise ToopherMalformedResponseError(
                f"Could not parse {name} from response: expected a JSON object, "
                f"got {type(raw).__name__}"
            )
        data = raw if _owned and type(raw) is dict else copy.deepcopy(dict(raw))
        try:
            values = self._parse(data)
        except _ShapeError as exc:
            raise ToopherMalformedResponseError(
                f"Could not parse {name} from response: {exc}"
            ) from None
        object.__setattr__(self, "_raw", data)
        for key, value in values.items():
            object.__setattr__(self, key, value)

    def _parse(self, raw: dict[str, Any]) -> dict[str, Any]:  # pragma: no cover - abstract
        raise NotImplementedError

    @property
    def raw(self) -> dict[str, Any]:
        """The whole JSON object, as a fresh (deep) copy."""
        return copy.deepcopy(self._raw)

    def __getattr__(self, name: str) -> Any:
        # Only called when normal lookup fails: fall back to the raw JSON for fields
        # this class does not name. Private and dunder names never fall back, which
        # keeps copy and pickle working.
        if name.startswith("_"):
            raise AttributeError(name)
        try:
            raw = object.__getattribute__(self, "_raw")
        except AttributeError:
            raise AttributeError(name) from None
        if name in raw:
            return copy.deepcopy(raw[name])
        raise AttributeError(f"{type(self).__name__!s} has no attribute {name!r}")

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError(f"{type(self).__name__} objects are immutable")

    def __delattr__(self, name: str) -> None:
        raise AttributeError(f"{type(self).__name__} objects are immutable")

    def __reduce__(self) -> tuple[Any, ...]:
        return (type(self), (self._raw,))

    def __copy__(self) -> Resource:
        return self

    def __deepcopy__(self, memo: dict[int, Any]) -> Resource:
        return self

    def __eq__(self, other: object) -> bool:
        if type(other) is not type(self):
            return NotImplemented
        return self._raw == other._raw

    def __hash__(self) -> int:
        return hash((type(self).__name__, getattr(self, "id", None)))

    def __repr__(self) -> str:
        parts = " ".join(f"{f}={getattr(self, f, None)!r}" for f in self._repr_fields)
        return f"<{type(self).__name__} {parts}>"


class User(Resource):
    """A user of the requester (spec §2.1).

    ``toopher_authentication_enabled`` reads the 2015 field, or the inverse of the
    older ``disable_toopher_auth``; a user carrying neither counts as enabled.
    """

    __slots__ = ("id", "name", "toopher_authentication_enabled")
    _repr_fields = ("id", "name", "toopher_authentication_enabled")

    id: str
    name: str
    toopher_authentication_enabled: bool

    def _parse(self, raw: dict[str, Any]) -> dict[str, Any]:
        if raw.get("toopher_authentication_enabled") is not None:
            enabled = _bool(raw, "toopher_authentication_enabled")
        elif raw.get("disable_toopher_auth") is not None:
            enabled = not _bool(raw, "disable_toopher_auth")
        else:
            enabled = True
        return {
            "id": _str(raw, "id"),
            "name": _str(raw, "name"),
            "toopher_authentication_enabled": enabled,
        }


class Pairing(Resource):
    """A pairing between a user and a phone (spec §2.2).

    True in a boolean context when the pairing is enabled and not deactivated.
    ``pending`` is true until the phone allowed or denied the pairing.
    """

    __slots__ = ("id", "enabled", "pending", "deactivated", "user", "user_id", "user_name",
                 "reason", "reason_code")
    _repr_fields = ("id", "enabled", "pending", "deactivated", "user_name")

    id: str
    enabled: bool
    pending: bool
    deactivated: bool
    user: User
    user_id: str
    user_name: str
    reason: str
    reason_code: int

    def _parse(self, raw: dict[str, Any]) -> dict[str, Any]:
        user = _nested(raw, "user", User, required=True)
        return {
            "id": _str(raw, "id"),
            "enabled": _bool(raw, "enabled"),
            "pending": _bool(raw, "pending"),
            "deactivated": _bool(raw, "deactivated", False),
            "user": user,
            "user_id": user.id,
            "user_name": user.name,
            "reason": _str(raw, "reason", ""),
            "reason_code": _int(raw, "reason_code", 0),
        }

    def __bool__(self) -> bool:
        return bool(self.enabled and not self.deactivated)


class UserTerminal(Resource):
    """A named (user, browser or device) pair (spec §2.3).

    ``requester_specified_id`` reads the 2015 field or the older ``name_extra``;
    ``name_extra`` is an alias. ``user`` is ``None`` when the JSON has no user.
    """

    __slots__ = ("id", "name", "requester_specified_id", "user", "user_id", "user_name")
    _repr_fields = ("id", "name")

    id: str
    name: str
    requester_specified_id: str
    user: User | None
    user_id: str | None
    user_name: str | None

    def _parse(self, raw: dict[str, Any]) -> dict[str, Any]:
        if raw.get("requester_specified_id") is not None:
            extra = _str(raw, "requester_specified_id")
        else:
            extra = _str(raw, "name_extra", "")
        user = _nested(raw, "user", User, required=False)
        return {
            "id": _str(raw, "id"),
            "name": _str(raw, "name", ""),
            "requester_specified_id": extra,
            "user": user,
            "user_id": user.id if user else None,
            "user_name": user.name if user else None,
        }

    @property
    def name_extra(self) -> str:
        """The 1.x name of ``requester_specified_id``."""
        return self.requester_specified_id


class Action(Resource):
    """A named action, such as "Log in" (spec §2.4)."""

    __slots__ = ("id", "name")
    _repr_fields = ("id", "name")

    id: str
    name: str

    def _parse(self, raw: dict[str, Any]) -> dict[str, Any]:
        return {"id": _str(raw, "id", ""), "name": _str(raw, "name", "")}


class AuthenticationRequest(Resource):
    """An authentication request and its outcome (spec §2.5).

    True in a boolean context when it is decided and granted
    (``granted and not pending``). ``terminal``, ``user`` and ``action`` are ``None``
    when the JSON lacks them; ``terminal_id``, ``terminal_name``, ``user_id``,
    ``user_name`` and ``action_name`` are then ``None`` too.

    ``verification_code`` is the number matching code the user picks on the phone (an
    extension of the API that a service with number matching on sends; the site shows
    it while the request is pending), ``None`` when the service sent none.
    """

    __slots__ = ("id", "pending", "granted", "automated", "reason", "reason_code",
                 "terminal", "terminal_id", "terminal_name", "user", "user_id", "user_name",
                 "action", "action_name", "totp_valid", "verification_code")
    _repr_fields = ("id", "pending", "granted", "automated", "reason")

    id: str
    pending: bool
    granted: bool
    automated: bool
    reason: str
    reason_code: int
    terminal: UserTerminal | None
    terminal_id: str | None
    terminal_name: str | None
    user: User | None
    user_id: str | None
    user_name: str | None
    action: Action | None
    action_name: str | None
    totp_valid: bool | None
    verification_code: str | None

    def _parse(self, raw: dict[str, Any]) -> dict[str, Any]:
        terminal = _nested(raw, "terminal", UserTerminal, required=False)
        user = _nested(raw, "user", User, required=False)
        if user is None and terminal is not None:
            user = terminal.user
        action = _nested(raw, "action", Action, required=False)
        return {
            "id": _str(raw, "id"),
            "pending": _bool(raw, "pending"),
            "granted": _bool(raw, "granted"),
            "automated": _bool(raw, "automated", False),
            "reason": _str(raw, "reason", ""),
            "reason_code": _int(raw, "reason_code", 0),
            "terminal": terminal,
            "terminal_id": terminal.id if terminal else None,
            "terminal_name": terminal.name if terminal else None,
            "user": user,
            "user_id": user.id if user else None,
            "user_name": user.name if user else None,
            "action": action,
            "action_name": action.name if action else None,
            "totp_valid": _bool(raw, "totp_valid", None),
            "verification_code": _str(raw, "verification_code", None) or None,
        }

    @property
    def requires_otp(self) -> bool:
        """True when the user must answer with an OTP (``reason_code`` 708)."""
        return self.reason_code == REASON_CODE_USER_REQUIRES_OTP

    def __bool__(self) -> bool:
        return bool(self.granted and not self.pending)


#: The ToopherPython 1.x names of the same classes.
PairingStatus = Pairing
AuthenticationStatus = AuthenticationRequest
