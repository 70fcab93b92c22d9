"""A cache backend whose server is down: every call raises, as redis-py does while
Redis restarts (tests of the fail-closed behaviour)."""

from __future__ import annotations

from typing import Any

from django.core.cache.backends.base import BaseCache


class CacheServerDown(ConnectionError):
    pass


class BrokenCache(BaseCache):
    def __init__(self, location: str, params: dict[str, Any]) -> None:
        super().__init__(params)

    def _down(self, *args: Any, **kwargs: Any) -> Any:
        raise CacheServerDown("Error 111 connecting to 127.0.0.1:6379. Connection refused.")

    add = get = set = touch = delete = incr = clear = get_many = set_many = _down
