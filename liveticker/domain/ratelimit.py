"""Rate limits. A token bucket per key (an account, an address) limits how fast writes
may come: in memory and per process, a guard against floods and runaway scripts.
`limit_rows` counts rows in the database instead, for limits that must hold across
processes and restarts (sign-ups per address, notes a day, ratings an hour).
"""

from __future__ import annotations

import math
import threading
import time
from collections import OrderedDict
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.orm import Session

from liveticker.exceptions import RateLimited


def limit_rows(
    session: Session,
    *,
    when: Any,
    where: ColumnElement[bool],
    limit: int,
    window: timedelta,
    now: datetime,
    message: str,
) -> None:
    """RateLimited when `limit` rows matching `where` have `when` inside the last `window`;
    Retry-After says when the oldest of them leaves it."""
    count, oldest = session.execute(
        select(func.count(), func.min(when)).where(where, when >= now - window)
    ).one()
    if count >= limit:
        seconds = max(1, int((oldest + window - now).total_seconds()) + 1)
        raise RateLimited(message, retry_after=seconds)


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
