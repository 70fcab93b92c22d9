"""``toopher_server.settings`` (the production settings, read from the environment)
with room in the limits for a load test.

A load test sends thousands of pushes a minute for a handful of users of one requester
and enrols its devices from one address, which the limits (docs/server-limits.md)
exist to refuse. The limits stay switched on, with room for the load: every call
still counts in the shared cache, as in production, and pays for it. Used by the
service's fault run (tests/faults/test_service_faults.py) and its benchmark
(benchmarks/bench_server.py).
"""

from toopher_server.settings import *  # noqa: F403

_ROOM = (10**9, 60)
TOOPHER_SERVER_RATE_LIMITS = {
    **{kind: {"user": _ROOM, "requester": _ROOM} for kind in ("push", "code", "pairing")},
    "enrol": {"address": _ROOM},
}
