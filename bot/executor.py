"""The pools that run work after the ack, and know how much of it is in flight.

Two lanes: ``interactive`` for what a person is waiting to see right now (opening a modal, whose
trigger_id lives three seconds), and ``background`` for the rest (refreshing messages, delivering
what a change queued). A burst of background work never delays a modal.
"""

from __future__ import annotations

import contextvars
import threading
from collections.abc import Callable
from concurrent.futures import Executor, Future, ThreadPoolExecutor
from typing import Any

INTERACTIVE, BACKGROUND = "interactive", "background"


class ListenerExecutor(Executor):
    def __init__(self, background_workers: int = 8, interactive_workers: int = 32) -> None:
        self._pools = {
            BACKGROUND: ThreadPoolExecutor(max_workers=background_workers, thread_name_prefix="after-ack"),
            INTERACTIVE: ThreadPoolExecutor(max_workers=interactive_workers, thread_name_prefix="interactive"),
        }
        self._busy = 0
        self._idle = threading.Condition()

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future[Any]:
        lane = getattr(fn, "lane", BACKGROUND)
        with self._idle:
            self._busy += 1

        def run() -> Any:
            try:
                return fn(*args, **kwargs)
            finally:
                with self._idle:
                    self._busy -= 1
                    self._idle.notify_all()

        # the request's context (what its log lines are about) goes with its work
        return self._pools.get(lane, self._pools[BACKGROUND]).submit(contextvars.copy_context().run, run)

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        for pool in self._pools.values():
            pool.shutdown(wait=wait, cancel_futures=cancel_futures)

    @property
    def busy(self) -> int:
        return self._busy

    def wait_idle(self, timeout: float = 10.0) -> bool:
        """Block until no listener work is running or queued; False on timeout."""
        with self._idle:
            return self._idle.wait_for(lambda: self._busy == 0, timeout=timeout)
