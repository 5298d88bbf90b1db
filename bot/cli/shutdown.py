"""Stopping `readiness serve` and `readiness run` cleanly on SIGTERM or SIGINT.

The sequence: stop accepting requests (the listening socket closes; a request still arriving on an open
connection gets 503), stop claiming outbox rows, let the requests in flight and their work after the ack
finish (at most SHUTDOWN_GRACE_SECONDS), let the sweep in progress finish the post it is making, stop the
scheduler, release every outbox row this replica claimed and did not post (another replica takes it at its
next sweep, not after the lease), close the database pool, exit 0. A second signal does not cut it short.
"""

from __future__ import annotations

import logging
import signal
import threading
import time
from collections.abc import Callable
from types import FrameType

from sqlalchemy import Engine

from bot.executor import ListenerExecutor
from scheduler import Delivery

log = logging.getLogger("readiness")


class Stopping:
    """Turns SIGTERM and SIGINT into one call of ``begin`` in a thread of its own (not in the handler)."""

    def __init__(self, begin: Callable[[str], None]) -> None:
        self.requested = threading.Event()
        self._begin = begin

    def install(self) -> Stopping:
        for number in (signal.SIGTERM, signal.SIGINT):
            signal.signal(number, self._on_signal)
        return self

    def _on_signal(self, number: int, _frame: FrameType | None) -> None:
        if self.requested.is_set():
            return
        self.requested.set()
        name = signal.Signals(number).name
        threading.Thread(target=self._begin, args=(name,), name="shutdown", daemon=True).start()


def finish(delivery: Delivery, executor: ListenerExecutor, engine: Engine, deadline: float) -> None:
    """The end of every stop: work after the ack (bounded), the scheduler, the release, the pool."""
    if not executor.wait_idle(timeout=max(0.0, min(deadline - time.monotonic(), 60.0))):
        log.warning("stopping: work after the ack still running at the end of the grace period; abandoned")
    released = delivery.stop()
    executor.shutdown(wait=False, cancel_futures=True)
    engine.dispose()
    log.info("stopped: %d claimed message(s) released for the other replicas", released)
