"""The suite's Redis cache: ``clear()`` deletes this run's keys only.

Django's ``RedisCache.clear()`` empties the whole Redis database (FLUSHDB). The tests
clear the cache around every test, and the Redis of ``make test-postgres`` is shared:
by the xdist workers of one run (each with its own ``KEY_PREFIX``, tests/settings.py),
by the scale test's instances (sessions and counters under a prefix of their own) and by
other runs on the machine. A worker that flushed it would wipe a rate-limit counter or
a session in the middle of another worker's test.
"""

from __future__ import annotations

from django.core.cache.backends.redis import RedisCache


class PrefixedRedisCache(RedisCache):
    def clear(self) -> bool:
        """Delete every key under this cache's ``KEY_PREFIX`` (and nothing else)."""
        if not self.key_prefix:
            raise RuntimeError("PrefixedRedisCache needs a KEY_PREFIX")
        client = self._cache.get_client(None, write=True)
        batch: list[bytes] = []
        for key in client.scan_iter(match=f"{self.key_prefix}:*", count=1000):
            batch.append(key)
            if len(batch) == 500:
                client.delete(*batch)
                batch.clear()
        if batch:
            client.delete(*batch)
        return True
