"""Settings of the service in ``bench_push``: the Firefox test's (plain http pushes on
loopback) without rate limits, so that a thousand devices can enrol and pair from one
address."""

from tests.push.live_settings import *  # noqa: F403

TOOPHER_SERVER_RATE_LIMITS = {
    **{kind: {"user": None, "requester": None} for kind in ("push", "code", "pairing")},
    "enrol": {"address": None},
}
