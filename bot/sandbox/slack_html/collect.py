"""Everything one sandbox holds, copied out as plain data for the page builders.

The only module of the renderer that reads a live :class:`~bot.sandbox.server.SlackSandbox`: it takes one
consistent copy under the sandbox's lock, then works out from the recorded calls what each message looked
like when first posted, how often it was updated, and which states each view went through.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from bot.sandbox.slack_html.frames import App

if TYPE_CHECKING:
    from bot.sandbox.server import SlackSandbox

VIEW_METHODS = {"views.open": "opened (views.open)", "views.push": "pushed (views.push)",
                "views.update": "updated (views.update)", "views.publish": "published (views.publish)"}
SHOWN_VIEW_KEYS = ("type", "title", "close", "submit", "blocks")


@dataclass(frozen=True)
class Person:
    id: str
    name: str
    real_name: str
    tz: str


@dataclass(frozen=True)
class Place:
    id: str
    name: str
    is_im: bool = False
    user: str | None = None


@dataclass(frozen=True)
class ViewState:
    """One state a view went through: how it got there, and what it looked like."""

    label: str
    view: Mapping[str, Any]
    at: float
    errors: Mapping[str, str] = field(default_factory=dict)
    submitted: Mapping[str, Any] | None = None


@dataclass(frozen=True)
class ViewRecord:
    id: str
    owner: str | None
    final: Mapping[str, Any]
    states: list[ViewState]
    is_open: bool


@dataclass(frozen=True)
class Workspace:
    """A copy of what a sandbox shows people: places, messages, ephemerals, modals and home tabs."""

    team: str
    app: App
    people: dict[str, Person]
    places: dict[str, Place]
    messages: dict[str, list[dict[str, Any]]]
    first_posted: dict[tuple[str, str], dict[str, Any]] = field(default_factory=dict)
    updates: dict[tuple[str, str], int] = field(default_factory=dict)
    ephemerals: list[dict[str, Any]] = field(default_factory=list)
    modals: list[ViewRecord] = field(default_factory=list)
    homes: dict[str, ViewRecord] = field(default_factory=dict)

    def name_of(self, user_id: str | None) -> str:
        person = self.people.get(user_id or "")
        return person.name if person else str(user_id)

    def tz_of(self, user_id: str | None, default: str = "UTC") -> str:
        person = self.people.get(user_id or "")
        return person.tz if person else default


def shown(view: Mapping[str, Any]) -> str:
    """What of a view people see, as comparable text (ids, hashes and metadata left out)."""
    return json.dumps({k: view.get(k) for k in SHOWN_VIEW_KEYS}, sort_keys=True, default=str)


def _events(calls: list[Any], answers: list[dict[str, Any]]) -> Iterator[tuple[float, str, Any]]:
    merged = [(c.timestamp, "call", c) for c in calls] + [(a["at"], "answer", a) for a in answers]
    yield from sorted(merged, key=lambda e: e[0])


def _answer_state(answer: Mapping[str, Any], current: Mapping[str, Any] | None) -> tuple[str, ViewState | None]:
    body = answer.get("body")
    submitted = answer.get("submitted") if isinstance(answer.get("submitted"), Mapping) else None
    at = float(answer["at"])
    if not isinstance(body, Mapping) or not body:
        return str(answer["view_id"]), (ViewState("submitted, then closed", current, at, submitted=submitted)
                                         if current is not None else None)
    action = body.get("response_action")
    if action == "errors" and current is not None:
        errors = {str(k): str(v) for k, v in (body.get("errors") or {}).items()}
        return str(answer["view_id"]), ViewState("submitted, answered with errors", current, at, errors, submitted)
    if action == "update" and isinstance(body.get("view"), Mapping):
        return str(answer["view_id"]), ViewState("updated (response_action update)", body["view"], at)
    return str(answer["view_id"]), None


def view_histories(calls: list[Any], answers: list[dict[str, Any]],
                   finals: Mapping[str, Mapping[str, Any]] | None = None) -> dict[str, list[ViewState]]:
    """Each view's states in order, from the views.* calls and the answers to its submissions; a state that
    looks like the one before it (same blocks, no errors, nothing submitted) is not repeated."""
    histories: dict[str, list[ViewState]] = {}
    for at, kind, item in _events(calls, answers):
        if kind == "call":
            if item.method not in VIEW_METHODS or not item.ok or not isinstance(item.response, Mapping):
                continue
            view = item.response.get("view")
            if not isinstance(view, Mapping) or not view.get("id"):
                continue
            view_id, state = str(view["id"]), ViewState(VIEW_METHODS[item.method], view, at)
        else:
            known = histories.get(str(item["view_id"]))
            current = known[-1].view if known else (finals or {}).get(str(item["view_id"]))
            view_id, found = _answer_state(item, current)
            if found is None:
                continue
            state = found
        states = histories.setdefault(view_id, [])
        last = states[-1] if states else None
        if (last is not None and not state.errors and state.submitted is None and not last.errors
                and last.submitted is None and shown(last.view) == shown(state.view)):
            continue
        states.append(state)
    return histories


def with_final(states: list[ViewState], final: Mapping[str, Any]) -> list[ViewState]:
    """The states, and the view as it is now when that differs from the last of them (e.g. a view changed by an
    answer the calls do not show, or entries made by clicks inside it)."""
    if not states:
        return states
    last = states[-1]
    entries = final.get("state") if isinstance(final.get("state"), Mapping) else None
    if shown(last.view) != shown(final) or (last.submitted is None and (entries or {}).get("values")):
        return [*states, ViewState("as it is now", final, last.at)]
    return states


def _first_posted(calls: list[Any]) -> tuple[dict[tuple[str, str], dict[str, Any]], dict[tuple[str, str], int]]:
    first: dict[tuple[str, str], dict[str, Any]] = {}
    updates: dict[tuple[str, str], int] = {}
    for call in calls:
        if not call.ok or not isinstance(call.response, Mapping):
            continue
        key = (str(call.response.get("channel")), str(call.response.get("ts")))
        if call.method == "chat.postMessage" and isinstance(call.response.get("message"), Mapping):
            first.setdefault(key, dict(call.response["message"]))
        elif call.method == "chat.update":
            updates[key] = updates.get(key, 0) + 1
    return first, updates


def collect(sandbox: SlackSandbox, app_name: str = "Readiness") -> Workspace:
    """One consistent copy of the sandbox's surfaces."""
    state = sandbox._state
    with state.lock:
        people = {u.id: Person(u.id, u.name, u.real_name, u.tz) for u in state.users.values()}
        places = {c.id: Place(c.id, c.name, c.is_im, c.user) for c in state.channels.values()}
        messages = state.snapshot(state.messages)
        ephemerals = state.snapshot(state.ephemeral)
        views = state.snapshot(state.views)
        owners = dict(state.view_owner)
        homes = dict(state.home_views)
        closed = set(state.closed_views)
        calls = state.snapshot(state.calls)
        answers = state.snapshot(state.view_answers)
        team = state.team_domain
    first, updates = _first_posted(calls)
    histories = view_histories(calls, answers, views)
    home_ids = set(homes.values())
    records = {vid: ViewRecord(vid, owners.get(vid), view, with_final(histories.get(vid) or [], view), vid not in closed)
               for vid, view in views.items()}
    return Workspace(
        team=team, app=App(app_name, sandbox.bot_user_id), people=people, places=places, messages=messages,
        first_posted=first, updates=updates, ephemerals=ephemerals,
        modals=[r for vid, r in records.items() if vid not in home_ids and r.final.get("type") == "modal"],
        homes={user: records[vid] for user, vid in homes.items() if vid in records},
    )
