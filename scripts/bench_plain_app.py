"""The plain bolt app of `make bench`: the Slack work Readiness does for each measured interaction, written the
way a Python team would write it with bolt, with no database (marks are kept in memory).

- an item's No/Partial/Yes button (or its "edit the evidence" control): ack, then `views.open` with the
  mark form;
- `/readiness status`: the answer in the ack;
- the mark form submitted: ack, then `chat.update` of the item's message with the mark on it;
- App Home opened: `views.publish` of the person's home tab.

What it shows is as large as what Readiness shows (`Sizes`, measured from Readiness's own calls in the same
run), padded with plain text, so both apps send Slack the same amount of Block Kit.

Given a `MarkStore`, the same app keeps its marks in a database instead (the durable floor: the least a bot
that keeps what it shows does on top of the Slack work): each submission writes the mark and reads back the
message's marks in one transaction before its `chat.update`, and each of the other interactions reads what it
shows in one statement (the item's mark for its form, the latest mark for `status`, the latest ten for the
home tab).
"""

from __future__ import annotations

import json
import re
import threading
from dataclasses import dataclass
from typing import Any

from slack_bolt import Ack, App
from slack_sdk import WebClient
from sqlalchemy import Column, Engine, MetaData, String, Table, Text, select
from sqlalchemy.dialects import postgresql, sqlite

LINE = "Owner <@U0LEAD>, due 2026-12-18 · evidence https://evals.example.com/runs/8812 · score 3 of 4 · "


@dataclass(frozen=True)
class Sizes:
    """Characters of JSON of what each interaction shows: the form, the status answer, the updated message
    (its text and blocks), the home view."""

    form: int = 2500
    status: int = 800
    message: int = 5000
    home: int = 8000


def padded(blocks: list[dict[str, Any]], target: int, around: dict[str, Any] | None = None) -> list[dict[str, Any]]:
    """`blocks` with sections of plain text added until the JSON of `around` holding them is `target` long."""
    def size() -> int:
        return len(json.dumps({**(around or {}), "blocks": blocks}))

    while size() < target - 80 and len(blocks) < 45:
        room = min(2900, target - size() - 60)
        text = (LINE * (room // len(LINE) + 1))[:room]
        blocks.append({"type": "section", "text": {"type": "mrkdwn", "text": text}})
    return blocks


def mark_form(item: str, mark: str, metadata: str, size: int) -> dict[str, Any]:
    view: dict[str, Any] = {
        "type": "modal", "callback_id": "mark_item", "private_metadata": metadata,
        "title": {"type": "plain_text", "text": f"{mark.title()}: {item}"},
        "submit": {"type": "plain_text", "text": "Save mark"},
    }
    blocks = [{"type": "section", "text": {"type": "mrkdwn", "text": f"*{item}*"}},
              {"type": "context", "elements": [{"type": "mrkdwn", "text": f"Marking *{mark.title()}*"}]}]
    padded(blocks, size - 250, view)
    blocks.append({"type": "input", "block_id": "evidence", "label": {"type": "plain_text", "text": "Evidence"},
                   "element": {"type": "plain_text_input", "action_id": "value", "multiline": True}})
    view["blocks"] = blocks
    return view


def item_message(items: list[str], marks: dict[str, str], size: int) -> tuple[str, list[dict[str, Any]]]:
    text = "Section: " + ", ".join(items)
    blocks: list[dict[str, Any]] = [{"type": "header", "text": {"type": "plain_text", "text": "Section"}}]
    for item in items:
        line = f"*{item}* · evidence: {marks[item]}" if item in marks else f"*{item}* · not marked yet"
        blocks.append({"type": "section", "text": {"type": "mrkdwn", "text": line}})
        blocks.append({"type": "actions", "block_id": f"item:{item}", "elements": [
            {"type": "button", "action_id": f"mark_{m}", "value": item, "text": {"type": "plain_text", "text": m}}
            for m in ("no", "partial", "yes")]})
    return text, padded(blocks, size, {"text": text})


class MarkStore:
    """Marks kept in one table: a submission's write and the read of what its message shows, one transaction."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        meta = MetaData()
        self.table = Table("plain_bench_marks", meta, Column("channel", String(32), primary_key=True),
                           Column("ts", String(32), primary_key=True), Column("item", String(32), primary_key=True),
                           Column("evidence", Text, nullable=False))
        meta.create_all(engine)
        self.insert = postgresql.insert if engine.dialect.name == "postgresql" else sqlite.insert
        self.reader = engine.execution_options(readonly=True)  # on SQLite a read takes no write lock

    def save(self, channel: str, ts: str, item: str, evidence: str) -> dict[str, str]:
        t = self.table
        upsert = self.insert(t).values(channel=channel, ts=ts, item=item, evidence=evidence)
        upsert = upsert.on_conflict_do_update(index_elements=[t.c.channel, t.c.ts, t.c.item],
                                              set_={"evidence": upsert.excluded.evidence})
        with self.engine.begin() as conn:
            conn.execute(upsert)
            shown = conn.execute(select(t.c.item, t.c.evidence).where(t.c.channel == channel, t.c.ts == ts))
            return {str(i): str(e) for i, e in shown}

    def mark_of(self, channel: str, ts: str, item: str) -> str | None:
        t = self.table
        with self.reader.connect() as conn:
            return conn.scalar(select(t.c.evidence).where(t.c.channel == channel, t.c.ts == ts, t.c.item == item))

    def latest(self, limit: int) -> list[tuple[str, str]]:
        t = self.table
        with self.reader.connect() as conn:
            rows = conn.execute(select(t.c.item, t.c.evidence).order_by(t.c.evidence.desc()).limit(limit))
            return [(str(i), str(e)) for i, e in rows]


def plain_app(signing_secret: str, token: str, api_url: str, sizes: Sizes, store: MarkStore | None = None) -> App:
    app = App(client=WebClient(token=token, base_url=api_url), signing_secret=signing_secret,
              token_verification_enabled=False)
    marks: dict[tuple[str, str], dict[str, str]] = {}
    lock = threading.Lock()

    def save(channel: str, ts: str, item: str, evidence: str) -> dict[str, str]:
        if store is not None:
            return store.save(channel, ts, item, evidence)
        with lock:
            shown = marks.setdefault((channel, ts), {})
            shown[item] = evidence
            return dict(shown)

    @app.action(re.compile(r"^mark_(no|partial|yes|change)$"))
    def open_mark_form(ack: Ack, body: dict[str, Any], action: dict[str, Any], client: WebClient) -> None:
        ack()
        item = action["block_id"].removeprefix("item:")
        items = [b["block_id"].removeprefix("item:") for b in body["message"]["blocks"]
                 if str(b.get("block_id", "")).startswith("item:")]
        metadata = json.dumps({"channel": body["channel"]["id"], "ts": body["container"]["message_ts"],
                               "item": item, "items": items})
        mark = action["action_id"].removeprefix("mark_").replace("change", "no")  # "edit the evidence"
        form = mark_form(item, mark, metadata, sizes.form)
        if store is not None:  # the form shows the evidence the item has now
            shown = store.mark_of(body["channel"]["id"], body["container"]["message_ts"], item)
            form["blocks"][-1]["element"]["initial_value"] = shown or ""
        client.views_open(trigger_id=body["trigger_id"], view=form)

    @app.command("/readiness")
    def status(ack: Ack) -> None:
        latest = store.latest(1) if store is not None else []
        title = f"Latest mark: {latest[0][0]}" if latest else "Latest review"
        blocks = padded([{"type": "header", "text": {"type": "plain_text", "text": title[:150]}}], sizes.status - 40)
        ack(blocks=blocks, text=title)

    @app.view("mark_item")
    def save_mark(ack: Ack, view: dict[str, Any], client: WebClient) -> None:
        ack()
        where = json.loads(view["private_metadata"])
        evidence = view["state"]["values"]["evidence"]["value"]["value"]
        current = save(where["channel"], where["ts"], where["item"], evidence)
        text, blocks = item_message(where["items"], current, sizes.message)
        client.chat_update(channel=where["channel"], ts=where["ts"], text=text, blocks=blocks)

    @app.event("app_home_opened")
    def publish_home(event: dict[str, Any], client: WebClient) -> None:
        header = {"type": "header", "text": {"type": "plain_text", "text": "Your readiness desk"}}
        lines = [{"type": "section", "text": {"type": "mrkdwn", "text": f"*{item}* · {evidence}"[:2900]}}
                 for item, evidence in (store.latest(10) if store is not None else [])]
        view: dict[str, Any] = {"type": "home"}
        view["blocks"] = padded([header, *lines], sizes.home, view)
        client.views_publish(user_id=event["user"], view=view)

    return app
