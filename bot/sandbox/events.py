"""Events the sandbox pushes to the app it is connected to, as Slack does over the Events API.

Slack tells an app about what happens in a workspace by HTTP POSTs of its own, independent of the Web API
calls the app makes. The sandbox does so for what it models: ``member_joined_channel`` when the bot joins a
channel (``conversations.join``) or is invited (``invite_bot``). Deliveries go out one by one from a thread of
their own, after the Web API answer that caused them, never inside it.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable
from typing import Any

Deliver = Callable[[dict[str, Any], str], object]  # (the event, the team it is for): sends it to the app


class EventPush:
    def __init__(self, deliver: Deliver, on_error: Callable[[str], None]) -> None:
        self._deliver, self._on_error = deliver, on_error
        self._queue: queue.Queue[tuple[dict[str, Any], str] | None] = queue.Queue()
        self._pending = 0
        self._idle = threading.Condition()
        self.sent: list[tuple[dict[str, Any], str]] = []
        self._thread = threading.Thread(target=self._run, name="sandbox-events", daemon=True)
        self._thread.start()

    def push(self, event: dict[str, Any], team_id: str) -> None:
        with self._idle:
            self._pending += 1
        self._queue.put((dict(event), team_id))

    def wait_idle(self, timeout: float) -> bool:
        """True once every pushed event was delivered (the app answered it)."""
        with self._idle:
            return self._idle.wait_for(lambda: self._pending == 0, timeout=timeout)

    def close(self) -> None:
        self._queue.put(None)
        self._thread.join(timeout=5)

    def _run(self) -> None:
        while (item := self._queue.get()) is not None:
            event, team_id = item
            try:
                self._deliver(event, team_id)
                self.sent.append((event, team_id))
            except Exception as exc:  # the app could not be reached: loud, as a broken rule would be
                self._on_error(f"{event.get('type')} for {team_id}: {type(exc).__name__}: {exc}")
            finally:
                with self._idle:
                    self._pending -= 1
                    self._idle.notify_all()
