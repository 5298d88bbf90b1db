"""A form that must read first: one views.open when it is built in time, a loading view replaced by the form
when it is not, and the modal always says why there is no form."""

from __future__ import annotations

import contextvars
import threading
from typing import Any

import pytest

import handlers.lazy
from bot.observe.metrics import RECEIVED
from bot.services.errors import ServiceError
from handlers.lazy import FormBuilders, open_form

FORM = {"type": "modal", "callback_id": "form", "title": {"type": "plain_text", "text": "Form"}, "blocks": []}
BODY = {"trigger_id": "T.1", "user": {"id": "U1"}, "team": {"id": "T1"}}
ASKED: contextvars.ContextVar[str | None] = contextvars.ContextVar("asked", default=None)


class Modals:
    """views.open and views.update as the request's dependencies make them, in order."""

    def __init__(self, expired: bool = False) -> None:
        self.calls: list[tuple[str, dict[str, Any]]] = []
        self.expired = expired
        self.opened = threading.Event()

    def open_modal(self, trigger_id: str, view: dict[str, Any]) -> tuple[str, str]:
        self.calls.append(("open", view))
        self.opened.set()
        if self.expired:
            raise ServiceError("Please click again.")
        return "V1", "h1"

    def update_modal(self, view_id: str, view_hash: str, view: dict[str, Any]) -> None:
        assert (view_id, view_hash) == ("V1", "h1")
        self.calls.append(("update", view))


def shown(view: dict[str, Any]) -> str:
    return " ".join(str(b.get("text", {}).get("text")) for b in view.get("blocks", []))


def test_a_form_built_in_time_opens_with_one_call():
    modals = Modals()
    open_form(BODY, {"deps": modals}, lambda: FORM)  # type: ignore[arg-type]
    assert modals.calls == [("open", FORM)]


def test_a_refusal_and_a_failure_found_in_time_open_as_the_modal_itself():
    modals = Modals()

    def refused() -> dict[str, Any]:
        raise ServiceError("Only the release lead can do that.")

    def broken() -> dict[str, Any]:
        raise RuntimeError("the checklist could not be read")

    open_form(BODY, {"deps": modals}, refused)  # type: ignore[arg-type]
    open_form(BODY, {"deps": modals}, broken)  # type: ignore[arg-type]
    assert [kind for kind, _ in modals.calls] == ["open", "open"]
    assert "Only the release lead" in shown(modals.calls[0][1])
    assert "error id" in shown(modals.calls[1][1]) and "checklist" not in shown(modals.calls[1][1])


def test_a_form_not_built_in_time_opens_as_a_loading_view_then_replaces_it(monkeypatch):
    monkeypatch.setattr(handlers.lazy, "FORM_BUDGET", 0.0)
    modals, go_on = Modals(), threading.Event()

    def slow() -> dict[str, Any]:
        assert go_on.wait(10)  # held until the loading view is open
        return FORM

    opening = threading.Thread(target=open_form, args=(BODY, {"deps": modals}, slow))
    opening.start()
    assert modals.opened.wait(10)
    assert [kind for kind, _ in modals.calls] == ["open"] and "Loading" in shown(modals.calls[0][1])
    go_on.set()
    opening.join(10)
    assert not opening.is_alive()
    assert modals.calls[1:] == [("update", FORM)]


def test_the_build_ends_before_an_expired_trigger_is_reported(monkeypatch):
    """The build has the request's context to itself: nothing else of the request runs until it has ended."""
    monkeypatch.setattr(handlers.lazy, "FORM_BUDGET", 0.0)
    modals, go_on, ended = Modals(expired=True), threading.Event(), threading.Event()

    def slow() -> dict[str, Any]:
        assert go_on.wait(10)
        ended.set()
        return FORM

    threading.Timer(0.05, go_on.set).start()
    with pytest.raises(ServiceError, match="click again"):
        open_form(BODY, {"deps": modals}, slow)  # type: ignore[arg-type]
    assert ended.is_set() and [kind for kind, _ in modals.calls] == ["open"]


def test_with_every_builder_busy_the_form_is_built_behind_a_loading_view_in_the_callers_thread(monkeypatch):
    monkeypatch.setattr(handlers.lazy, "BUILDERS", FormBuilders(0))
    modals, built_in = Modals(), []

    def build() -> dict[str, Any]:
        built_in.append(threading.current_thread())
        return FORM

    open_form(BODY, {"deps": modals}, build)  # type: ignore[arg-type]
    assert built_in == [threading.current_thread()]
    assert [kind for kind, _ in modals.calls] == ["open", "update"] and "Loading" in shown(modals.calls[0][1])
    assert modals.calls[1] == ("update", FORM)


def test_builders_are_few_named_daemons_that_carry_the_callers_context():
    contextvars.copy_context().run(builders_carry_context)


def builders_carry_context() -> None:
    builders, go_on = FormBuilders(2), threading.Event()
    ASKED.set("the caller's")  # set in a copy of the test's context: gone when this returns
    RECEIVED.set(12.5)

    def held() -> dict[str, Any]:
        assert go_on.wait(10)
        thread = threading.current_thread()
        return {"name": thread.name, "daemon": thread.daemon, "asked": ASKED.get(), "received": RECEIVED.get()}

    first, second = builders.submit(held), builders.submit(held)
    assert first is not None and second is not None
    assert builders.submit(held) is None  # both busy: no queue
    go_on.set()
    seen = [first.result(10), second.result(10)]
    assert all(s["name"].startswith("form-build-") and s["daemon"] for s in seen)
    assert all(s["asked"] == "the caller's" and s["received"] == 12.5 for s in seen)
    third = builders.submit(lambda: {"again": True})  # free again once a build has ended
    assert third is not None and third.result(10) == {"again": True}
