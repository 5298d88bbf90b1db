"""Failure injection and (optional) Slack-like rate limiting for the sandbox."""

from __future__ import annotations

import math
import threading
from collections.abc import Callable
from dataclasses import dataclass

FAILURE_KINDS = ("ratelimited", "server_error", "drop", "accept_then_drop")

# Requests per minute per method for Slack's Web API tiers (t5/"special" methods have their own rules).
TIER_PER_MINUTE: dict[str, int] = {"t1": 1, "t2": 20, "t3": 50, "t4": 100}
# chat.postMessage: about one message per second per channel, with a small burst.
POST_MESSAGE_PER_SECOND = 1.0
POST_MESSAGE_BURST = 3


@dataclass
class InjectedFailure:
    method: str
    kind: str
    remaining: int
    retry_after: int

    def matches(self, method: str) -> bool:
        return self.remaining > 0 and self.method in (method, "*")


class FailurePlan:
    """Failures queued by tests; each is consumed by the next matching request."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._pending: list[InjectedFailure] = []

    def add(self, method: str, kind: str, times: int = 1, retry_after: int = 1) -> None:
        if kind not in FAILURE_KINDS and not kind.startswith(("error:", "slow:")):
            raise ValueError(f"unknown failure kind {kind!r}; expected one of {', '.join(FAILURE_KINDS)}")
        if times < 1:
            raise ValueError("times must be at least 1")
        with self._lock:
            self._pending.append(InjectedFailure(method, kind, times, retry_after))

    def take(self, method: str) -> InjectedFailure | None:
        with self._lock:
            for failure in self._pending:
                if failure.matches(method):
                    failure.remaining -= 1
                    if failure.remaining == 0:
                        self._pending.remove(failure)
                    return InjectedFailure(failure.method, failure.kind, 1, failure.retry_after)
            return None

    def pending(self) -> list[InjectedFailure]:
        with self._lock:
            return [InjectedFailure(f.method, f.kind, f.remaining, f.retry_after) for f in self._pending]

    def clear(self) -> None:
        with self._lock:
            self._pending.clear()


class RateLimiter:
    """Token buckets per (method[, channel]); ``check`` returns seconds to wait, or None when allowed."""

    def __init__(self, clock: Callable[[], float]) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self._buckets: dict[tuple[str, ...], tuple[float, float]] = {}

    def _take(self, key: tuple[str, ...], capacity: float, per_second: float) -> float | None:
        now = self._clock()
        tokens, last = self._buckets.get(key, (capacity, now))
        tokens = min(capacity, tokens + (now - last) * per_second)
        if tokens >= 1.0:
            self._buckets[key] = (tokens - 1.0, now)
            return None
        self._buckets[key] = (tokens, now)
        return (1.0 - tokens) / per_second

    def check(self, method: str, tier: str | None, channel: str | None = None) -> int | None:
        """Retry-After (whole seconds, at least 1) if this call would exceed the limit, else None."""
        with self._lock:
            if method == "chat.postMessage":
                wait = self._take((method, channel or ""), POST_MESSAGE_BURST, POST_MESSAGE_PER_SECOND)
            elif tier in TIER_PER_MINUTE:
                per_minute = TIER_PER_MINUTE[tier]
                wait = self._take((method,), per_minute, per_minute / 60.0)
            else:
                wait = None
            if wait is None:
                return None
            return max(1, math.ceil(wait))

    def check_window(self, method: str, calls: int, seconds: float) -> int | None:
        """Retry-After if ``method`` was called ``calls`` times in the last ``seconds`` (a bucket of ``calls``
        refilled over ``seconds``), else None."""
        with self._lock:
            wait = self._take((method, "window"), calls, calls / seconds)
            return None if wait is None else max(1, math.ceil(wait))

    def reset(self) -> None:
        with self._lock:
            self._buckets.clear()
