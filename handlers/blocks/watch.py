"""Go-live and the first-week watch: the plan modal, the announcement, check-ins, nudges, the summary."""

from __future__ import annotations

from typing import Any

from bot.core.evidence import Direction
from bot.services.golive import rule_text
from handlers.blocks import text as t
from handlers.blocks.kit import (
    Block,
    actions,
    button,
    context,
    header,
    input_block,
    modal,
    section,
    text_input,
)
from handlers.blocks.packet import slack_link
from handlers.ids import ActionId, BlockId, CallbackId, InputId
from handlers.state import CheckinRef, GoLiveModalState, IssueModalState
from models import GoLive, WatchCheckin

V = InputId.VALUE


def golive_modal(state: GoLiveModalState, label: str) -> dict[str, Any]:
    blocks: list[Block] = [
        section(f"Record the go-live of *{t.esc(label)}* and its monitoring plan. For seven days the bot posts a "
                "daily check-in in the release channel and nudges the escalation owner when one goes unanswered."),
        text_input(BlockId.ALERTS, "Alerts that matter", action_id=V, multiline=True, max_length=2000,
                   placeholder="e.g. p99 latency > 6 s for 10 min; escalation rate > 8% per cohort"),
        text_input(BlockId.CADENCE, "Review cadence", action_id=V, max_length=200,
                   placeholder="e.g. daily stand-up check for a week, then the weekly reliability review"),
        input_block(BlockId.ESCALATION_OWNER, "Escalation owner", {"type": "users_select", "action_id": V}),
        text_input(BlockId.WATCH_ITEMS, "First-week watch list (one per line)", action_id=V, multiline=True,
                   max_length=2000, placeholder="jp-support task success\nrefund tool timeouts\ntask_success_rate >= 0.90",
                   hint="A line such as `task_success_rate >= 0.90` or `latency_p95_end_to_end <= 2500` is also "
                        "checked against the evidence pushed during the week; a breach is alerted here and to "
                        "the escalation owner."),
    ]
    return modal(CallbackId.GOLIVE, "Go-live", blocks, submit="Record go-live", private_metadata=state.dump())


def announcement(golive: GoLive, label: str) -> tuple[str, list[Block]]:
    items = "\n".join(f"• {t.esc(i)}" for i in golive.watch_items)
    if golive.watch_rules:
        rules = ", ".join(f"`{rule_text(r)}`" for r in golive.watch_rules)
        items += f"\nChecked against the evidence pushed this week: {t.esc(rules)}"
    blocks: list[Block] = [
        header(f"Go-live: {label}"),
        section(f"{t.user(golive.started_by)} recorded the rollout. Escalation owner: {t.user(golive.escalation_owner)}."),
        section(f"*Alerts that matter*\n{t.esc(golive.alerts)}"),
        section(f"*Review cadence*: {t.esc(golive.cadence)}"),
        section(f"*First-week watch list*\n{items}"),
        context(f"A check-in is posted in this thread every day for {golive.days} days."),
    ]
    return f"Go-live of {t.esc(label)} recorded; first-week watch starts", blocks


def _answers_text(answers: list[WatchCheckin]) -> str:
    if not answers:
        return "No answer yet."
    parts = []
    for a in answers:
        if a.answer == "clear":
            parts.append(f":white_check_mark: all clear ({t.user(a.user_id)})")
        else:
            link = f" {slack_link(a.link, 'link')}" if a.link and a.link.startswith(("http://", "https://")) else ""
            parts.append(f":warning: issue ({t.user(a.user_id)}): {t.clip(t.esc(a.description), 300)}{link}")
    return t.clip(" · ".join(parts), 2900)


def checkin(golive: GoLive, label: str, day: int, answers: list[WatchCheckin]) -> tuple[str, list[Block]]:
    items = "\n".join(f"• {t.esc(i)}" for i in golive.watch_items)
    value = CheckinRef(golive=golive.id, day=day).dump()
    blocks: list[Block] = [
        section(f"*Day {day} of {golive.days}: {t.esc(label)} check-in*\nWatch list:\n{items}"),
        actions([button("All clear", ActionId.WATCH_CLEAR, value, style="primary"),
                 button("Issue found", ActionId.WATCH_ISSUE, value, style="danger")],
                block_id=f"checkin:{golive.id}:{day}"),
        context(_answers_text(answers), block_id=f"answers:{golive.id}:{day}"),
    ]
    return f"Day {day} check-in for {t.esc(label)}", blocks


def nudge(golive: GoLive, label: str, day: int, link: str | None) -> tuple[str, list[Block]]:
    """``link``: the check-in the nudge is about."""
    where = f" <{link}|Open the check-in>" if link else ""
    line = (f":bell: Nobody answered the day {day} check-in for *{t.esc(label)}* in {t.channel(golive.channel_id)}. "
            f"As escalation owner, please check the watch list and answer it.{where}")
    return f"Day {day} check-in for {t.esc(label)} is unanswered", [section(line)]


def summary(golive: GoLive, label: str, answers: list[WatchCheckin]) -> tuple[str, list[Block]]:
    lines = [f"*First-week summary: {t.esc(label)}*"]
    issues = 0
    for day in range(1, golive.days + 1):
        day_answers = [a for a in answers if a.day == day]
        issues += sum(1 for a in day_answers if a.answer == "issue")
        lines.append(f"Day {day}: {_answers_text(day_answers) if day_answers else ':grey_question: unanswered'}")
    blocks: list[Block] = [section(chunk) for chunk in t.split_lines(lines)][:40]
    blocks.append(context(f"{issues} issue(s) reported. Escalation owner: {t.user(golive.escalation_owner)}."))
    return f"First-week summary for {t.esc(label)}: {issues} issue(s)", blocks


def issue_modal(ref: IssueModalState, label: str) -> dict[str, Any]:
    blocks: list[Block] = [
        section(f"Day {ref.day} of the {t.esc(label)} watch: what did you find?"),
        text_input(BlockId.DESCRIPTION, "What happened", action_id=V, multiline=True, max_length=1000),
        input_block(BlockId.LINK, "Link (dashboard, trace, ticket)", {"type": "url_text_input", "action_id": V},
                    optional=True),
    ]
    return modal(CallbackId.WATCH_ISSUE, "Issue found", blocks, submit="Report issue", private_metadata=ref.dump())


def issue_alert(golive: GoLive, label: str, answer: WatchCheckin) -> tuple[str, list[Block]]:
    link = f"\n{slack_link(answer.link, answer.link)}" if answer.link and answer.link.startswith(("http://", "https://")) else ""
    line = (f":rotating_light: *Issue in the {t.esc(label)} rollout* (day {answer.day} of {golive.days}), reported by "
            f"{t.user(answer.user_id)}: {t.esc(answer.description)}{link}\nEscalation owner: {t.user(golive.escalation_owner)}")
    return f"Issue in the {t.esc(label)} rollout, day {answer.day}", [section(line)]


def _breach_line(b: dict[str, Any]) -> str:
    """One breach; the evidence's cohort, metric and source are pushed text: escaped, the link made safe."""
    side = "below" if b.get("direction") == Direction.HIGHER.value else "above"
    source = b.get("source")
    link = f" {slack_link(source, 'source')}" if isinstance(source, str) and source.startswith(
        ("https://", "http://")) else ""
    return (f"• *{t.esc(str(b.get('cohort')))}*: {t.esc(str(b.get('metric')))} {float(b.get('value', 0)):g} "
            f"is {side} {float(b.get('threshold', 0)):g} (n={t.esc(str(b.get('n')))}){link}")


def breach_alert(golive: GoLive, label: str, payload: dict[str, Any], *, to_owner: bool) -> tuple[str, list[Block]]:
    """Evidence pushed during the watch crossed the watch list's thresholds (each breach is alerted once)."""
    breaches = list(payload.get("breaches") or [])
    count = int(payload.get("count") or len(breaches))
    lines = [_breach_line(b) for b in breaches]
    if count > len(breaches):
        lines.append(f"…and {count - len(breaches)} more")
    owner = "As escalation owner, please look into it." if to_owner else \
        f"Escalation owner: {t.user(golive.escalation_owner)}."
    head = (f":rotating_light: *Watch-list breach in the {t.esc(label)} rollout*: evidence set "
            f"#{payload.get('evidence')} crosses {count} threshold(s) of the first-week watch list.")
    blocks: list[Block] = [section(head), *[section(chunk) for chunk in t.split_lines(lines)][:40], context(owner)]
    return f"Watch-list breach in the {t.esc(label)} rollout: {count} threshold(s) crossed", blocks

