"""A token bucket per key (an account, an address) that limits how fast writes may come.

In-memory and per process: a rate limit is a guard against floods and runaway scripts,
not an accounting record, so it needs no shared storage.
"""

from __future__ import annotations

import math
import threading
import time
from collections import OrderedDict

from liveticker.exceptions import RateLimited


class RateLimiter:
    def __init__(self, *, per_minute: int, max_keys: int = 100_000) -> None:
        self.capacity = float(max(per_minute, 1))
        self.refill_per_second = self.capacity / 60.0
        self.max_keys = max_keys
        self._buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()
        self._lock = threading.Lock()

    def hit(self, key: str, *, now: float | None = None) -> None:
        """Take one token for `key`, or raise RateLimited with the seconds to wait."""
        now = time.monotonic() if now is None else now
        with self._lock:
            tokens, last = self._buckets.pop(key, (self.capacity, now))
            tokens = min(self.capacity, tokens + (now - last) * self.refill_per_second)
            if tokens < 1.0:
                self._buckets[key] = (tokens, now)
                wait = math.ceil((1.0 - tokens) / self.refill_per_second)
                raise RateLimited(f"too many requests; try again in {wait} s", retry_after=wait)
            self._buckets[key] = (tokens - 1.0, now)
            # Bounded memory under a flood of distinct keys: forget the longest-idle ones.
            while len(self._buckets) > self.max_keys:
                self._buckets.popitem(last=False)
