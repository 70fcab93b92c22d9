"""The bounded in-process queue of pushes and the threads that send them.

Threads start on the first job (an instance that never pushes runs none). A full queue
refuses the job at once (the caller records it as failed): the API's answer never waits
for a push service. :meth:`PushQueue.drain` waits until every job handed in is done
(tests and the benchmark).
"""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Callable
from typing import Any, Generic, TypeVar

from django.db import close_old_connections

log = logging.getLogger(__name__)

Job = TypeVar("Job")


class PushQueue(Generic[Job]):
    """Jobs handed to ``handle(job)`` by up to ``threads`` daemon threads."""

    def __init__(self, handle: Callable[[Job], Any], *, size: int, threads: int) -> None:
        self._handle = handle
        self._queue: queue.Queue[Job] = queue.Queue(maxsize=max(1, size))
        self._wanted = max(1, threads)
        self._threads: list[threading.Thread] = []
        self._lock = threading.Lock()
        self._idle = threading.Condition(self._lock)
        self._unfinished = 0

    def submit(self, job: Job) -> bool:
        """Queue ``job``; False (and nothing queued) when the queue is full."""
        with self._lock:
            self._start_threads()
            try:
                self._queue.put_nowait(job)
            except queue.Full:
                return False
            self._unfinished += 1
        return True

    def drain(self, timeout: float) -> bool:
        """Wait until every job handed in is done; False if ``timeout`` came first."""
        with self._idle:
            return self._idle.wait_for(lambda: self._unfinished == 0, timeout)

    @property
    def threads(self) -> int:
        """How many threads run now."""
        return len(self._threads)

    def _start_threads(self) -> None:
        while len(self._threads) < self._wanted:
            thread = threading.Thread(
                target=self._run, name=f"toopher-push-{len(self._threads) + 1}", daemon=True
            )
            thread.start()
            self._threads.append(thread)

    def _run(self) -> None:
        while True:
            job = self._queue.get()
            close_old_connections()
            try:
                self._handle(job)
            except Exception:  # noqa: BLE001 - a bug: logged, the thread goes on
                log.exception("push: sending failed unexpectedly")
            finally:
                close_old_connections()
                with self._idle:
                    self._unfinished -= 1
                    if self._unfinished == 0:
                        self._idle.notify_all()
