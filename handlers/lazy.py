"""Work after the ack, without copying the request.

``listen(ack_fn, *after)`` makes one bolt listener: ``ack_fn`` answers Slack in the request's own thread
(validating, writing, acknowledging); each ``after_ack(fn)`` then runs ``fn(body, context, client)`` in a
pool, its lane chosen by what a person is waiting for. Failures go to the one error handler, which logs
them under an error id and tells the user.
"""

from __future__ import annotations

import contextvars
import functools
import inspect
import logging
import queue
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future
from concurrent.futures import TimeoutError as FutureTimeout
from typing import Any

from slack_bolt import Ack, BoltContext
from slack_sdk import WebClient

from bot.context import SAVED, db_of, deps_of
from bot.core.documents import tree_problem
from bot.executor import BACKGROUND, INTERACTIVE
from bot.observe.metrics import RECEIVED, ScreenTimer, kind_of
from bot.services.errors import ServiceError
from handlers.blocks.kit import loading_modal, notice_modal
from handlers.errors import log_error, refusal_text, report_error, user_message

AfterAck = Callable[[dict[str, Any], BoltContext, WebClient], None]
PAYLOAD_NAMES = ("command", "action", "view", "event")
MAX_BODY_DEPTH = 24  # Slack's deepest payloads (a view with its state) stay well inside this


def after_ack(fn: AfterAck, lane: str = BACKGROUND) -> Callable[..., None]:
    def run(body: dict[str, Any], context: BoltContext, client: WebClient, logger: logging.Logger) -> None:
        owed = db_of(context).owed
        try:
            fn(body, context, client)
        except Exception as error:  # handed to the one error handler, which logs it and tells the user
            report_error(error, body, context, client, logger, acked=True)
        if db_of(context).owed > owed:
            deliver_owed(body, context, client, logger)

    run.__name__ = run.__qualname__ = f"after_ack_{fn.__name__}"
    run.lane = lane  # type: ignore[attr-defined]
    return run


def deliver_owed(body: dict[str, Any], context: BoltContext, client: WebClient, logger: logging.Logger) -> None:
    """What the request queued in the outbox (messages, updates of what shows a review) goes out now, not at
    the next sweep; whatever fails here is the outbox's to retry."""
    try:
        deps_of(context).kick()
    except Exception as error:
        report_error(error, body, context, client, logger, acked=True)


def opens_modal(fn: AfterAck) -> Callable[..., None]:
    """Work that opens a modal: the interactive lane, right after the ack (the trigger lives 3 s)."""
    return after_ack(fn, lane=INTERACTIVE)


def listen(ack_fn: Callable[..., None], *after: Callable[..., None]) -> Callable[..., None]:
    wanted = list(inspect.signature(ack_fn).parameters)

    def listener(ack: Ack, body: dict[str, Any], payload: dict[str, Any], context: BoltContext,
                 client: WebClient, logger: logging.Logger) -> None:
        problem = tree_problem(body, max_depth=MAX_BODY_DEPTH)
        if problem:  # a NUL or a lone surrogate can be neither stored nor shown: refused before anything reads it
            raise ServiceError(f"That request holds text Readiness cannot take ({problem}); nothing was changed.")
        available: dict[str, Any] = {"ack": ack, "body": body, "context": context, "client": client,
                                     "logger": logger, **{name: payload for name in PAYLOAD_NAMES}}
        ack_fn(**{name: available[name] for name in wanted})
        context[SAVED] = db_of(context).commits > 0  # what the error handler may tell if later work fails
        executor = deps_of(context).executor
        screen = ScreenTimer(len(after), kind_of(body))
        for work in after:
            job = screen.wrap(functools.partial(work, body, context, client, logger))
            job.lane = getattr(work, "lane", BACKGROUND)  # type: ignore[attr-defined]
            executor.submit(job)
        if db_of(context).owed:
            kick = functools.partial(deliver_owed, body, context, client, logger)
            kick.lane = BACKGROUND  # type: ignore[attr-defined]
            executor.submit(kick)

    listener.__name__ = listener.__qualname__ = ack_fn.__name__
    return listener


class FormBuilders:
    """A few named daemon threads that build forms while the thread that opens them waits.

    Never a queue: when every builder is busy, ``submit`` answers None and the caller builds the form itself
    (behind a loading view), so a burst of slow forms can neither starve nor deadlock the interactive lane."""

    def __init__(self, size: int) -> None:
        self._free = threading.Semaphore(size)
        self._jobs: queue.SimpleQueue[tuple[Future[dict[str, Any]], Callable[[], dict[str, Any]]]] = \
            queue.SimpleQueue()
        self._size, self._started, self._lock = size, 0, threading.Lock()

    def submit(self, fn: Callable[[], dict[str, Any]]) -> Future[dict[str, Any]] | None:
        """Run ``fn`` on a builder, in a copy of the caller's context (its clock, log context, receipt time)."""
        if not self._free.acquire(blocking=False):
            return None
        with self._lock:
            if self._started < self._size:
                self._started += 1
                threading.Thread(target=self._work, name=f"form-build-{self._started}", daemon=True).start()
        future: Future[dict[str, Any]] = Future()
        self._jobs.put((future, functools.partial(contextvars.copy_context().run, fn)))
        return future

    def _work(self) -> None:
        while True:
            future, fn = self._jobs.get()
            future.set_running_or_notify_cancel()
            try:
                view = fn()
            except BaseException as error:  # handed to the waiting thread, which raises it
                self._free.release()  # free before the waiting thread hears of it
                future.set_exception(error)
            else:
                self._free.release()
                future.set_result(view)
            del future, fn


FORM_BUDGET = 1.0  # seconds from the request's receipt: a form built by then opens at once, without "Loading…"
BUILDERS = FormBuilders(8)


def form_or_notice(body: dict[str, Any], build: Callable[[], dict[str, Any]]) -> dict[str, Any]:
    """The form ``build`` makes, or the modal that says why there is none."""
    try:
        return build()
    except ServiceError as refused:
        return notice_modal("Readiness", f":no_entry: {refusal_text(refused)}")
    except Exception as error:  # any failure: said where the person is looking, logged under its id
        return notice_modal("Readiness", f":warning: {user_message(error, log_error(error, body))}")


def open_form(body: dict[str, Any], context: BoltContext, build: Callable[[], dict[str, Any]]) -> None:
    """Open a form that must read first, within the three seconds the click's trigger lives.

    The form is built on a builder thread while this one waits until ``FORM_BUDGET`` after the request
    arrived: built by then, it opens with one ``views.open``. Otherwise a small loading view opens at once
    and the form replaces it (``views.update``) when it is built. A refusal while building is shown in the
    modal itself, and so is any other failure (a short message with its error id, the traceback logged under
    it): the person is never left looking at "Loading…". The build has the request's context to itself: this
    thread touches nothing of the request's until the build has ended."""
    deps = deps_of(context)
    started = RECEIVED.get() or time.perf_counter()
    future = BUILDERS.submit(functools.partial(form_or_notice, body, build))
    if future is None:  # every builder busy: the loading view now, the form built here
        view_id, view_hash = deps.open_modal(body["trigger_id"], loading_modal())
        deps.update_modal(view_id, view_hash, form_or_notice(body, build))
        return
    try:
        view = future.result(timeout=max(0.0, started + FORM_BUDGET - time.perf_counter()))
    except FutureTimeout:
        pass
    else:
        deps.open_modal(body["trigger_id"], view)
        return
    try:
        view_id, view_hash = deps.open_modal(body["trigger_id"], loading_modal())
    finally:
        view = future.result()  # ended before anything else happens here, even when the trigger had expired
    deps.update_modal(view_id, view_hash, view)
