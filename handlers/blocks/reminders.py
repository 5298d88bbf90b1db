"""Reminder messages: the owner's digest, and the escalations to the thread and the release channel."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from bot.core.review import Proposal
from handlers.blocks import text as t
from handlers.blocks.kit import (
    Block,
    actions,
    button,
    context,
    input_block,
    modal,
    overflow,
    section,
    sections_of,
    text_input,
)
from handlers.ids import ActionId, BlockId, CallbackId, InputId
from handlers.state import ItemRef, ProposalRef, SnoozeRef

MAX_WITH_BUTTONS = 20
SNOOZE_DAYS = (1, 3, 7)


@dataclass(frozen=True)
class GapLine:
    assessment_id: int
    label: str
    item_id: str
    title: str
    mark_label: str
    owner: str
    due: date
    today: date
    thread_link: str | None = None
    live: bool = False  # the review went live: the gap is open after the go-live
    @property
    def when(self) -> str:
        days = (self.due - self.today).days
        if days > 1:
            return f"due in {days} days ({self.due.isoformat()})"
        if days == 1:
            return f"due tomorrow ({self.due.isoformat()})"
        if days == 0:
            return f"*due today* ({self.due.isoformat()})"
        return f":red_circle: *overdue by {-days} day{'s' if days < -1 else ''}* (was due {self.due.isoformat()})"

    def line(self) -> str:
        link = f" · <{self.thread_link}|thread>" if self.thread_link else ""
        return (f"*{self.item_id}* {t.esc(self.title)} in *{t.esc(self.label)}*: {self.mark_label}, "
                f"{self.when}{link}")


def heading(lines: list[GapLine]) -> str:
    """What the digest is about, in the words of the review's phase (before or after the go-live)."""
    one = len(lines) == 1
    what = "a gap that" if one else f"{len(lines)} gaps that"
    if all(g.live for g in lines):
        return f":alarm_clock: You own {what} {'is' if one else 'are'} still open after the go-live."
    return f":alarm_clock: You own {what} still {'needs' if one else 'need'} closing before the rollout widens."


def snooze_menu(gap: GapLine) -> dict[str, object] | None:
    """Snooze for 1, 3 or 7 days, never past the due date (the longest option stops there; none once due)."""
    left = (gap.due - gap.today).days
    if left <= 0:
        return None
    days = [d for d in SNOOZE_DAYS if d < left] + [d for d in SNOOZE_DAYS if d >= left][:1]
    options = [(f"Snooze {d} day{'s' if d > 1 else ''}" if d < left else "Snooze until it is due",
                SnoozeRef(assessment=gap.assessment_id, item=gap.item_id, days=d).dump()) for d in days]
    if len(options) == 1:
        return button(options[0][0], ActionId.REMINDER_SNOOZE, options[0][1])
    return overflow(ActionId.REMINDER_SNOOZE, options)


def digest(lines: list[GapLine]) -> tuple[str, list[Block]]:
    """One message for everything an owner is reminded of in one run, overdue first."""
    lines = sorted(lines, key=lambda g: (g.due, g.assessment_id, g.item_id))
    blocks: list[Block] = [section(heading(lines))]
    for gap in lines[:MAX_WITH_BUTTONS]:
        value = ItemRef(assessment=gap.assessment_id, item=gap.item_id).dump()
        blocks.append(section(gap.line()))
        controls = [button("Closed: mark No with evidence", ActionId.REMINDER_REMARK, value, style="primary"),
                    button("Propose a new due date", ActionId.REMINDER_NEW_DUE, value)]
        menu = snooze_menu(gap)
        blocks.append(actions([*controls, *([menu] if menu else [])], block_id=f"gap:{gap.assessment_id}:{gap.item_id}"))
    rest = [g.line() for g in lines[MAX_WITH_BUTTONS:]]
    if rest:
        blocks.extend(sections_of(["*Also open:*", *rest], 50 - len(blocks) - 1, "more open gaps"))
    blocks.append(context("Reminders stop when a gap is marked No with evidence, or when the review is closed. "
                          "At most one reminder a working day; a newer one replaces this one."))
    text = "Reminder: " + "; ".join(f"{g.item_id} {t.esc(g.title)} ({t.esc(g.label)})" for g in lines[:5])
    return t.clip(text, 3000), blocks


def replaced(link: str | None) -> tuple[str, list[Block]]:
    """A reminder a newer one replaced: kept, without buttons (what they offered is in the newer one)."""
    see = f" <{link}|See the newer reminder>." if link else " See the newer reminder below."
    return ("Replaced by a newer reminder",
            [context(f":arrows_counterclockwise: This reminder was replaced by a newer one.{see}",
                     block_id="replaced")])


def escalation(gap: GapLine, in_thread: bool) -> tuple[str, list[Block]]:
    overdue = (gap.today - gap.due).days
    who = t.user(gap.owner)
    where = "" if in_thread else f" in *{t.esc(gap.label)}*"
    link = f" · <{gap.thread_link}|Open the thread>" if gap.thread_link and not in_thread else ""
    line = (f":warning: *{gap.item_id}* {t.esc(gap.title)}{where} is overdue by {overdue} day"
            f"{'s' if overdue != 1 else ''}. {who}, please close it or propose a new due date.{link}")
    return f"Overdue gap {gap.item_id} {t.esc(gap.title)} ({t.esc(gap.label)})", [section(line)]


def propose_modal(ref: ItemRef, title: str, current_due: date, today: date) -> dict[str, object]:
    blocks: list[Block] = [
        section(f"*{ref.item} · {t.esc(title)}* is due *{current_due.isoformat()}*. Propose a new date; "
                "the review's release lead accepts or refuses it."),
        input_block(BlockId.NEW_DUE, "New due date", {"type": "datepicker", "action_id": InputId.VALUE,
                                                      "initial_date": max(current_due, today).isoformat()}),
        text_input(BlockId.REASON, "Why", action_id=InputId.VALUE, multiline=True, max_length=500, optional=True,
                   placeholder="What is left and why it needs longer"),
    ]
    return modal(CallbackId.PROPOSE_DUE, "New due date", blocks, submit="Propose", private_metadata=ref.dump())


def proposal_message(p: Proposal, ref: ProposalRef, reason: str | None) -> tuple[str, list[Block]]:
    why = f"\n>{t.esc(reason)}" if reason else ""
    line = (f"{t.user(p.owner)} asks to move *{p.item_id}* {t.esc(p.title)} in *{t.esc(p.label)}* "
            f"from *{p.current_due.isoformat()}* to *{p.new_due.isoformat()}*.{why}")
    value = ref.dump()
    blocks = [section(line), actions([button("Accept", ActionId.DUE_ACCEPT, value, style="primary"),
                                      button("Refuse", ActionId.DUE_REFUSE, value, style="danger")],
                                     block_id=f"proposal:{p.assessment_id}:{p.item_id}")]
    return f"New due date proposed for {p.item_id} in {t.esc(p.label)}", blocks


def proposal_decided(ref: ProposalRef, accepted: bool, lead: str) -> tuple[str, list[Block]]:
    verdict = "accepted" if accepted else "refused"
    line = (f"{':white_check_mark:' if accepted else ':no_entry_sign:'} {t.user(lead)} {verdict} moving "
            f"*{ref.item}* (review #{ref.assessment}) from {ref.was.isoformat()} to {ref.due.isoformat()}.")
    return f"Due date change {verdict}: {t.esc(ref.item)}", [section(line)]
