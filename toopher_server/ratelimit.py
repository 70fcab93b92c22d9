"""Rate limits per requester and per user on every call that sends a push or checks a code.

Three kinds of call are counted, each against two limits (a number of calls per window
of seconds): one per user (the user name within its requester) and one per requester.

===========  =====================================================  ===========  ============
kind         calls                                                  per user     per requester
===========  =====================================================  ===========  ============
``push``     A1 ``authentication_requests/initiate`` without         10 / 60 s    6,000 / 60 s
             ``otp``; the iframe starting an authentication
``code``     A1 with ``otp``; A3 ``otp_auth``; the iframe's OTP      10 / 600 s   6,000 / 60 s
             form
``pairing``  P1 ``pairings/create`` (a phrase), P2 ``create/qr``,    10 / 600 s   600 / 60 s
             P3 ``create/sms`` (a text); the iframe's pairing form
===========  =====================================================  ===========  ============

One kind is counted per client address (:func:`.client_address.client_address`, which
trusts ``X-Forwarded-For`` only as far as ``TOOPHER_SERVER_TRUSTED_PROXIES`` says):

===========  =====================================================  ===========
kind         calls                                                  per address
===========  =====================================================  ===========
``enrol``    the device API's ``POST app/api/v1/devices``            10 / 3600 s
===========  =====================================================  ===========

Two kinds are counted per device of the authenticator (:func:`check_scopes`):

===========  ==================================================  ======================
kind         calls                                               limits
===========  ==================================================  ======================
``invite``   ``POST app/api/v1/devices/me/invitations``          10 / 3600 s per phone
``join``     ``POST app/api/v1/devices/join`` (a code guessed)   10 / 600 s per device,
                                                                 30 / 600 s per address
===========  ==================================================  ======================

Over a limit, the call is refused with ``429`` and the Toopher error body
``{"error_code": 429, "error_message": "..."}`` plus a ``Retry-After`` header, and
changes nothing: the check comes before the call's first write (or inside its
transaction, which the refusal rolls back). The iframe shows the message on its page.
A call counts when it reaches the check (valid parameters, a known user), whether it
then succeeds or not: a wrong phrase or a wrong code counts, which is the point. The
user's limit is checked first and a refused call does not count against the
requester, so one user's flood does not use up the other users' room.

**Settings.** ``TOOPHER_SERVER_RATE_LIMITS`` overrides any of the defaults above, kind
by kind and scope by scope; ``None`` switches one limit off::

    TOOPHER_SERVER_RATE_LIMITS = {
        "push": {"user": (5, 60)},           # 5 pushes a minute per user
        "pairing": {"requester": None},      # no limit per requester on pairings
        "enrol": {"address": (20, 3600)},    # 20 device enrolments an hour per address
    }

``TOOPHER_SERVER_RATE_LIMIT_CACHE`` names the cache alias that holds the counters
(default ``"default"``). With several instances of the service it must be a cache
they share (Redis): with each instance's local memory every instance counts alone, and
the limits are multiplied by the number of instances. Django's ``DummyCache`` counts
nothing, and then nothing is limited.

The standalone sandbox (``python -m toopher_sandbox``) sets generous limits (its
``server.RATE_LIMITS``: 100,000 calls a minute per user, 1,000,000 per requester),
because test suites and benchmarks log the same user in many times a minute; a project
that mounts the sandbox or the service gets the defaults.

**Counting.** Fixed windows: a counter per (kind, scope, who, window) that the cache
increments atomically (Redis ``INCR``; local memory under its lock) and expires with the
window. A burst may reach twice a limit across a window's edge; that is the price of one
cache operation per limit and call.
"""

from __future__ import annotations

import hashlib
import logging
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from django.core.cache import caches
from django.core.cache.backends.redis import RedisCache
from django.core.exceptions import ImproperlyConfigured
from django.http import JsonResponse

from .conf import setting
from .errors import ApiError
from .models import Requester

log = logging.getLogger(__name__)

PUSH = "push"
CODE = "code"
PAIRING = "pairing"
ENROL = "enrol"
INVITE = "invite"
JOIN = "join"
#: The kinds counted per user and per requester (:func:`check`).
KINDS = (PUSH, CODE, PAIRING)
SCOPES = ("user", "requester")
ADDRESS = "address"
#: The kinds counted per client address (:func:`check_address`).
ADDRESS_KINDS = (ENROL,)
#: Each kind's scopes.
KIND_SCOPES: dict[str, tuple[str, ...]] = {
    **{kind: SCOPES for kind in KINDS},
    **{kind: (ADDRESS,) for kind in ADDRESS_KINDS},
    INVITE: ("phone",),
    JOIN: ("device", ADDRESS),
}

#: ``{kind: {scope: (calls, seconds) or None}}``: the defaults (see the module docstring).
DEFAULT_RATE_LIMITS: dict[str, dict[str, tuple[int, int] | None]] = {
    PUSH: {"user": (10, 60), "requester": (6000, 60)},
    CODE: {"user": (10, 600), "requester": (6000, 60)},
    PAIRING: {"user": (10, 600), "requester": (600, 60)},
    ENROL: {ADDRESS: (10, 3600)},
    INVITE: {"phone": (10, 3600)},
    JOIN: {"device": (10, 600), ADDRESS: (30, 600)},
}

_WHAT = {
    PUSH: "authentication requests",
    CODE: "one-time password checks",
    PAIRING: "pairing requests",
    ENROL: "device enrolments",
    INVITE: "invitations",
    JOIN: "invitation codes",
}
_WHO = {
    "user": "this user",
    "requester": "this requester",
    ADDRESS: "this address",
    "phone": "this phone",
    "device": "this device",
}


@dataclass(frozen=True)
class Limit:
    """At most ``calls`` in each window of ``seconds``."""

    calls: int
    seconds: int


class RateLimited(ApiError):
    """A refused call: 429 with the Toopher error body and ``Retry-After``."""

    def __init__(self, message: str, retry_after: int) -> None:
        super().__init__(429, 429, message)
        self.retry_after = retry_after

    def response(self) -> JsonResponse:
        response = super().response()
        response["Retry-After"] = str(self.retry_after)
        return response


def _limit(kind: str, scope: str, value: Any) -> Limit | None:
    if value is None:
        return None
    if (
        not isinstance(value, list | tuple)
        or len(value) != 2
        or not all(isinstance(n, int) and not isinstance(n, bool) and n > 0 for n in value)
    ):
        raise ImproperlyConfigured(
            f"TOOPHER_SERVER_RATE_LIMITS[{kind!r}][{scope!r}] must be (calls, seconds), two "
            f"positive integers, or None; got {value!r}"
        )
    return Limit(value[0], value[1])


def rate_limits() -> dict[str, dict[str, Limit | None]]:
    """The limits in force: the defaults with ``TOOPHER_SERVER_RATE_LIMITS`` over them.

    Raises ``ImproperlyConfigured`` for a malformed setting (a deploy check may call it).
    """
    overrides = setting("RATE_LIMITS", {})
    if not isinstance(overrides, Mapping) or not set(overrides) <= set(KIND_SCOPES):
        raise ImproperlyConfigured(
            f"TOOPHER_SERVER_RATE_LIMITS must be a dict with keys among {tuple(KIND_SCOPES)}"
        )
    merged: dict[str, dict[str, Limit | None]] = {}
    for kind, scopes in KIND_SCOPES.items():
        chosen = overrides.get(kind, {})
        if not isinstance(chosen, Mapping) or not set(chosen) <= set(scopes):
            raise ImproperlyConfigured(
                f"TOOPHER_SERVER_RATE_LIMITS[{kind!r}] must be a dict with keys among {scopes}"
            )
        defaults = DEFAULT_RATE_LIMITS[kind]
        merged[kind] = {
            scope: _limit(kind, scope, chosen[scope] if scope in chosen else defaults[scope])
            for scope in scopes
        }
    return merged


def counter_keys(kind: str, requester: Requester, user_name: str) -> dict[str, str]:
    """The cache key of each scope's counter, without the window (stated once, here).

    ``toopher_server:rl:<kind>:user:<requester id>:<sha256 of the user name, 32 hex>`` and
    ``toopher_server:rl:<kind>:requester:<requester id>``: short, and safe for any cache
    whatever the user name holds.
    """
    name = hashlib.sha256(user_name.encode("utf-8")).hexdigest()[:32]
    return {
        "user": f"toopher_server:rl:{kind}:user:{requester.pk}:{name}",
        "requester": f"toopher_server:rl:{kind}:requester:{requester.pk}",
    }


def _count(key: str, limit: Limit, now: float) -> tuple[int, int]:
    """Count one call in the current window: ``(calls so far, seconds left)``."""
    cache = caches[setting("RATE_LIMIT_CACHE", "default")]
    window = int(now // limit.seconds)
    left = max(1, (window + 1) * limit.seconds - int(now))
    full_key = f"{key}:{limit.seconds}:{window}"
    if isinstance(cache, RedisCache):
        return _count_on_redis(cache, full_key, limit.seconds + 1), left
    cache.add(full_key, 0, timeout=limit.seconds + 1)
    try:
        return cache.incr(full_key), left
    except ValueError:  # expired between add and incr
        cache.set(full_key, 1, timeout=limit.seconds + 1)
        return 1, left


def _count_on_redis(cache: RedisCache, key: str, timeout: int) -> int:
    """What ``add(key, 0)`` then ``incr(key)`` do, in one round trip to Redis instead of
    three (Django's ``incr`` asks whether the key exists first): ``SET NX EX`` and
    ``INCR`` in a pipeline. Every call that sends a push or checks a code counts here.
    The counter is the plain integer Django's Redis cache stores for an int."""
    full_key = cache.make_and_validate_key(key)
    # Django's RedisCache has no pipeline of its own: its client's connection for the key.
    client = cache._cache.get_client(full_key, write=True)
    pipeline = client.pipeline(transaction=False)
    pipeline.set(full_key, 0, ex=timeout, nx=True)
    pipeline.incr(full_key)
    return int(pipeline.execute()[1])


def scoped_key(kind: str, scope: str, who: str) -> str:
    """The cache key of ``who``'s counter of ``kind`` in ``scope``, without the window:
    ``toopher_server:rl:<kind>:<scope>:<sha256 of who, 32 hex>``."""
    digest = hashlib.sha256(who.encode("utf-8")).hexdigest()[:32]
    return f"toopher_server:rl:{kind}:{scope}:{digest}"


def address_key(kind: str, address: str) -> str:
    """The cache key of the per-address counter of ``kind``, without the window."""
    return scoped_key(kind, ADDRESS, address)


def _enforce(kind: str, keys: Mapping[str, str], label: str) -> None:
    """Count one call of ``kind`` against each scope's limit, in the order of ``keys``;
    :class:`RateLimited` at the first one it is over (later scopes are not counted)."""
    limits = rate_limits()[kind]
    now = time.time()
    for scope, key in keys.items():
        limit = limits[scope]
        if limit is None:
            continue
        calls, left = _count(key, limit, now)
        if calls > limit.calls:
            log.warning("rate limit: %s calls of %s refused (%s limit, %d in %d s)",
                        kind, label, scope, limit.calls, limit.seconds)
            raise RateLimited(
                f"Rate limit exceeded: too many {_WHAT[kind]} for {_WHO[scope]} (at most "
                f"{limit.calls} in {limit.seconds} s). Try again in {left} s.",
                left,
            )


def check(kind: str, requester: Requester, user_name: str) -> None:
    """Count a call of ``kind`` for this user of this requester; :class:`RateLimited` when
    it is over a limit (per user first, then per requester)."""
    _enforce(kind, counter_keys(kind, requester, user_name), f"requester {requester.pk}")


def check_address(kind: str, address: str) -> None:
    """Count a call of ``kind`` (one of :data:`ADDRESS_KINDS`) from a client ``address``
    (:func:`.client_address.client_address`); :class:`RateLimited` when over its limit."""
    _enforce(kind, {ADDRESS: address_key(kind, address)}, "a client address")


def check_scopes(kind: str, who: Mapping[str, str]) -> None:
    """Count a call of ``kind`` for each of its scopes' ``who`` (a phone id, a device id, a
    client address), in that order; :class:`RateLimited` at the first limit it is over."""
    keys = {scope: scoped_key(kind, scope, value) for scope, value in who.items()}
    _enforce(kind, keys, ", ".join(f"{scope} {value}" for scope, value in who.items()))
