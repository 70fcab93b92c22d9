"""``wait_until``: wait for a condition instead of sleeping a fixed time.

A test that sleeps a fixed time is slow when the machine is fast and flaky when it
is slow; ``wait_until(predicate, timeout)`` returns as soon as the predicate holds and
fails with a message when it never does.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")

#: Seconds between two looks at the predicate.
INTERVAL = 0.02


def wait_until(
    predicate: Callable[[], T],
    timeout: float = 10.0,
    *,
    interval: float = INTERVAL,
    message: str | Callable[[], str] = "",
) -> T:
    """Call ``predicate`` until it returns something truthy, and return that.

    Raises :class:`AssertionError` (with ``message``, or a callable giving it, and the
    last value seen) when ``timeout`` seconds pass first. The predicate is called at
    least once.
    """
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            text = message() if callable(message) else message
            raise AssertionError(
                f"{text or 'the condition'} did not hold within {timeout} s (last: {value!r})"
            )
        time.sleep(interval)
