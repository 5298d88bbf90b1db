"""Messages of a review: the parent message, the threaded section messages, the result."""

from __future__ import annotations

from datetime import datetime

from bot.core.advice import (
    MARK_NEXT,
    RECORD_GOLIVE,
    REQUEST_SIGNOFF,
    SEE_BLOCKERS,
    next_step,
    recommended_action,
)
from bot.core.checklist import Item, Mark
from bot.core.review import MessagePart, Review, message_link, part_of_item
from handlers.blocks import text as t
from handlers.blocks.kit import (
    Block,
    actions,
    button,
    context,
    divider,
    header,
    overflow,
    section,
    sections_of,
)
from handlers.ids import ActionId, item_block_id, item_status_block_id
from handlers.state import ItemRef, MarkChoice, SectionRef

Message = tuple[str, list[Block]]


def _score_line(review: Review) -> str:
    card = review.card
    provisional = " (provisional)" if card.unmarked else ""
    return f"{card.score} of {card.max_score}{provisional}"


def _blocker_lines(review: Review) -> list[str]:
    lines = []
    for item_id in review.card.blockers:
        item, st = review.checklist.item(item_id), review.status_of(item_id)
        mark = review.checklist.marks[st.mark].label if st.mark else "?"
        lines.append(f":no_entry: *{item_id}* {t.esc(item.title)}: {mark}, owner {t.user(st.owner)}, due {t.day(st.due)}")
    lines.extend(waived_lines(review))
    return lines


def waived_lines(review: Review) -> list[str]:
    """Blockers under a live waiver: not counted while it holds, shown with who and until when."""
    lines = []
    for item_id in review.card.waived_blockers:
        note = review.waivers.get(item_id)
        who = f" by {t.user(note.granted_by)} until {t.when(note.expires_at)}: {t.esc(note.reason)}" if note else ""
        lines.append(f":shield: *{item_id}* {t.esc(review.checklist.item(item_id).title)}: waived{who}")
    return lines


def action_text(review: Review) -> str:
    """What to do now, following the verdict (the same rule as the packet and the command line)."""
    return recommended_action(review.card, review.owners, person=t.user)


def state_marker(review: Review) -> str:
    """The block id that says which state a message shows: verdict, score, sign-off (read by tests and tools)."""
    return f"state:{review.card.verdict.value}:{review.card.score}:{review.signoff_outcome or 'none'}"


def _item_link(review: Review, item_id: str) -> str | None:
    part = part_of_item(review.checklist, item_id)
    return message_link(review.thread_link, review.channel_id, review.section_ts.get(part.key), review.thread_ts)


def next_step_button(review: Review) -> dict[str, object] | None:
    """The one action that moves the review forward, as the primary button (None when nothing is due)."""
    step = next_step(review.card, status=review.status, signoff_requested=review.signoff_requested,
                     signoff_outcome=review.signoff_outcome, golive_allowed_early=review.golive_allowed_early)
    value = str(review.assessment_id)
    if step == MARK_NEXT and review.card.unmarked:
        link = _item_link(review, review.card.unmarked[0])
        return button("Mark the next item", ActionId.NEXT_STEP, value, style="primary", url=link) if link else None
    if step == SEE_BLOCKERS:
        link = _item_link(review, review.card.blockers[0])
        return button("See the blockers", ActionId.NEXT_STEP, value, style="primary", url=link) if link else None
    if step == REQUEST_SIGNOFF:
        return button("Request sign-off", ActionId.REQUEST_SIGNOFF, value, style="primary")
    if step == RECORD_GOLIVE:
        return button("Record go-live", ActionId.GOLIVE, value, style="primary")
    return None


def parent_message(review: Review) -> Message:
    card = review.card
    fields = [
        f"*Progress*\n{card.marked}/{card.total} marked",
        f"*Score*\n{_score_line(review)}",
        f"*Band*\n{card.band}",
        f"*Verdict*\n{t.verdict(card.verdict)}",
    ]
    blockers = _blocker_lines(review)
    details = [f"Started by {t.user(review.started_by)}", f"checklist {review.checklist.id} {review.checklist.version}"]
    if review.release_channel_id:
        details.append(f"alerts to {t.channel(review.release_channel_id)}")
    if review.cohorts:
        details.append("cohorts: " + t.esc(", ".join(review.cohorts)))
    if review.baseline_label:
        details.append(f"baseline: {t.esc(review.baseline_label)}")
    blocks: list[Block] = [
        header(f"Rollout readiness: {review.label}"),
        section(f"*{t.esc(review.label)}*: {action_text(review)}", fields=fields),
    ]
    if blockers:
        blocks.extend(sections_of(["*Blockers* (they override the score)", *blockers], 40, "more blockers"))
    else:
        blocks.append(section("*Blockers*: none"))
    if review.status == "closed":
        blocks.append(section(":lock: *Closed.* Marks are frozen and reminders stopped."))
    step = next_step_button(review)
    if step is not None:
        blocks.append(actions([step], block_id=f"next:{review.assessment_id}"))
    blocks.append(context(" · ".join(details) + f" · review #{review.assessment_id}. Mark each item in the thread.",
                          block_id=state_marker(review)))
    text = (
        f"Rollout readiness {t.esc(review.label)}: {card.marked}/{card.total} marked, score {_score_line(review)}, "
        f"band {card.band}, verdict {t.VERDICT_WORD[card.verdict]}"
    )
    return text, blocks


MAX_LINE_EVIDENCE, MAX_LINE_NOTE = 240, 160  # a marked item is one short line; the form shows it all


def item_status_text(review: Review, item: Item) -> str:
    """A marked item in one line: its mark, who set it and when, then the owner and due date or the evidence."""
    st = review.status_of(item.id)
    if st.mark is None:
        return ":white_circle: Not marked yet"
    label = review.checklist.marks[st.mark].label
    parts = [f"{t.MARK_ICON[st.mark]} *{label}* by {t.user(st.marked_by)} {t.when(st.marked_at)}".rstrip()]
    if st.mark is Mark.NO:
        parts.append(f"evidence: {t.clip(t.esc(st.evidence), MAX_LINE_EVIDENCE)}")
    else:
        parts.append(f"owner {t.user(st.owner)}, due {t.day(st.due)}")
        if st.note:
            parts.append(t.clip(t.esc(st.note), MAX_LINE_NOTE))
    if item.id in review.card.blockers:
        parts.append(":no_entry: *blocker*")
    elif item.id in review.card.waived_blockers:
        parts.append(":shield: *blocker, waived*")
    if st.mark is Mark.NO and item.id in review.contradicted:
        parts.append(":warning: *contradicted by the cohort numbers* (`/readiness evidence`)")
    return " · ".join(parts)


def _flags(review: Review, item: Item) -> str:
    flags = ["critical"] if "critical" in item.flags else []
    if item.category:
        flags.append(review.checklist.scoring.categories[item.category].lower())
    return f"  _({', '.join(flags)})_" if flags else ""


def change_control(review: Review, item: Item) -> dict[str, object]:
    """The one control of a marked item: change it to another mark, or edit the same mark's details."""
    current = review.status_of(item.id).mark
    options = [(f"Change to {t.CHOICE[m]}", MarkChoice(assessment=review.assessment_id, item=item.id, mark=m).dump())
               for m in (Mark.NO, Mark.PARTIAL, Mark.YES) if m is not current]
    if current is not None:
        what = "evidence" if current is Mark.NO else "owner, due date or note"
        options.append((f"Edit the {what}", MarkChoice(assessment=review.assessment_id, item=item.id,
                                                       mark=current).dump()))
    return overflow(ActionId.MARK_CHANGE, options)


def item_blocks(review: Review, item: Item) -> list[Block]:
    """An unmarked item: its question, what proves it, and the three answers. A marked one: a single line
    with one control to change it. A closed review offers no control at all."""
    st = review.status_of(item.id)
    title = f"*{item.id} · {t.esc(item.title)}*{_flags(review, item)}"
    editable = review.status != "closed"
    if st.mark is not None:
        line = section(t.clip(f"{title}\n{item_status_text(review, item)}", 2900), block_id=item_block_id(item.id))
        if editable:
            line["accessory"] = change_control(review, item)
        return [line]
    body = section(f"{title}\n{t.esc(item.question)}\n_Proves it is controlled:_ {t.esc(item.evidence)}")
    if not editable:
        return [body, context(":white_circle: Not marked", block_id=item_status_block_id(item.id))]
    value = ItemRef(assessment=review.assessment_id, item=item.id).dump()
    ids = {Mark.NO: ActionId.MARK_NO, Mark.PARTIAL: ActionId.MARK_PARTIAL, Mark.YES: ActionId.MARK_YES}
    return [body, actions([button(t.CHOICE[m], ids[m], value) for m in (Mark.NO, Mark.PARTIAL, Mark.YES)],
                          block_id=item_block_id(item.id))]


def section_message(review: Review, part: MessagePart) -> Message:
    sec = part.section
    suffix = f" ({part.part}/{part.parts})" if part.parts > 1 else ""
    score = next((s for s in review.card.sections if s.id == sec.id), None)
    summary = t.esc(sec.summary) if sec.summary else ""
    score_text = f"Section score {score.score}/{score.max_score}, {score.marked}/{score.total} marked" if score else ""
    blocks: list[Block] = [header(f"{sec.title}{suffix}")]
    if summary or score_text:
        blocks.append(context(*(x for x in (summary, score_text) if x)))
    for index, item in enumerate(part.items):
        if index:
            blocks.append(divider())
        blocks.extend(item_blocks(review, item))
    unmarked = [i for i in part.items if review.status_of(i.id).mark is None]
    if len(unmarked) > 1 and review.status != "closed":
        ref = SectionRef(assessment=review.assessment_id, part=part.key).dump()
        blocks.append(actions([button(f"Mark these {len(unmarked)} items in one form", ActionId.MARK_SECTION, ref)],
                              block_id=f"section:{part.key}"))
    text = f"{t.esc(sec.title)}{suffix}: " + ", ".join(i.id for i in part.items)
    return text, blocks


def gap_lines(review: Review) -> list[str]:
    lines = []
    for item, st in review.gaps():
        assert st.mark is not None
        lines.append(
            f"{t.MARK_ICON[st.mark]} *{item.id}* {t.esc(item.title)}: {review.checklist.marks[st.mark].label}, "
            f"owner {t.user(st.owner)}, due {t.day(st.due)}"
        )
    return lines


def result_message(review: Review, thread_link: str | None = None) -> Message:
    card = review.card
    blocks: list[Block] = [
        header(f"Result: {review.label}"),
        section(f"Verdict {t.verdict(card.verdict)} · score *{card.score} of {card.max_score}*, band *{card.band}*\n"
                f"{action_text(review)}"),
    ]
    blockers = _blocker_lines(review)
    if blockers:
        blocks.extend(sections_of(["*Blockers* (they override the score)", *blockers], 20, "more blockers"))
    gaps = gap_lines(review)
    if gaps:
        blocks.extend(sections_of(["*Open gaps*", *gaps], 24, "more gaps: see `/readiness status`"))
    else:
        blocks.append(section("*Open gaps*: none, every item is marked No with evidence."))
    step = next_step_button(review)
    blocks.append(actions([*([step] if step else []), *packet_buttons(review.assessment_id)],
                          block_id=f"result:{review.assessment_id}"))
    link = f"<{thread_link}|Open the review thread> · " if thread_link else ""
    blocks.append(context(f"{link}review #{review.assessment_id} · kept up to date", block_id=state_marker(review)))
    text = f"Result for {t.esc(review.label)}: score {card.score}/{card.max_score}, band {card.band}, verdict {t.VERDICT_WORD[card.verdict]}"
    return text, blocks


def packet_buttons(assessment_id: int) -> list[dict[str, object]]:
    """The rollout packet's inputs and the packet itself, from the result."""
    value = str(assessment_id)
    return [button("Add trace example", ActionId.ADD_TRACE, value),
            button("Rollout plan", ActionId.ROLLOUT_PLAN, value),
            button("Rollout packet", ActionId.MAKE_PACKET, value)]


def _event_mark(review: Review, item_id: str, snapshot: dict[str, object] | None) -> tuple[str, str | None, str | None]:
    """(mark label, owner, due) as they were when the event happened, or as they are now."""
    if snapshot is not None:
        mark = snapshot.get("mark")
        label = review.checklist.marks[Mark(str(mark))].label if mark else "unmarked"
        return label, snapshot.get("owner") or None, snapshot.get("due") or None  # type: ignore[return-value]
    st = review.status_of(item_id)
    label = review.checklist.marks[st.mark].label if st.mark else "unmarked"
    return label, st.owner, st.due.isoformat() if st.due else None


def _moment(at: datetime | None, link: str) -> Block:
    """A moment says when it happened; the review's state is in the thread (kept current there)."""
    when = f"Posted {t.when(at)} · " if at is not None else ""
    return context(f"{when}a record of this moment; the review's current state is in its thread{link}")


def blocker_alert(review: Review, item_id: str, actor: str, thread_link: str | None,
                  snapshot: dict[str, object] | None = None, at: datetime | None = None) -> Message:
    item = review.checklist.item(item_id)
    mark, owner, due = _event_mark(review, item_id, snapshot)
    link = f" · <{thread_link}|Open the thread>" if thread_link else ""
    line = (
        f":rotating_light: *Blocker in {t.esc(review.label)}*: *{item_id}* {t.esc(item.title)} marked *{mark}* "
        f"by {t.user(actor)}. Owner {t.user(owner)}, due {due or 'no date'}."
    )
    blocks = [section(line), _moment(at, link)]
    return f"Blocker in {t.esc(review.label)}: {item_id} {t.esc(item.title)} marked {mark}", blocks


def blocker_cleared(review: Review, item_id: str, actor: str, thread_link: str | None,
                    snapshot: dict[str, object] | None = None, at: datetime | None = None) -> Message:
    item = review.checklist.item(item_id)
    mark, _owner, _due = _event_mark(review, item_id, snapshot)
    link = f" · <{thread_link}|Open the thread>" if thread_link else ""
    line = (f":white_check_mark: *Blocker cleared in {t.esc(review.label)}*: *{item_id}* {t.esc(item.title)} "
            f"is now *{mark}* (set by {t.user(actor)}).")
    blocks = [section(line), _moment(at, link)]
    return f"Blocker cleared in {t.esc(review.label)}: {item_id} {t.esc(item.title)}", blocks


def owner_assigned(review: Review, item_id: str, actor: str, thread_link: str | None,
                   snapshot: dict[str, object] | None = None, at: datetime | None = None) -> Message:
    item = review.checklist.item(item_id)
    mark, _owner, due = _event_mark(review, item_id, snapshot)
    note_text = (snapshot or {}).get("note") if snapshot is not None else review.status_of(item_id).note
    link = f"\n<{thread_link}|Open the review thread>" if thread_link else ""
    note = f"\nNote: {t.esc(str(note_text))}" if note_text else ""
    line = (
        f"{t.user(actor)} made you the owner of a gap in the *{t.esc(review.label)}* readiness review.\n"
        f"*{item_id}* {t.esc(item.title)}: marked *{mark}*, due *{due or 'no date'}*.{note}{link}"
    )
    blocks = [section(line), *([context(f"Posted {t.when(at)}")] if at is not None else [])]
    return f"You own {item_id} {t.esc(item.title)} in {t.esc(review.label)}, due {due or 'no date'}", blocks


def due_moved(review: Review, item_id: str, actor: str, was: str | None, due: str | None,
              requested_by: str | None, at: datetime | None = None) -> Message:
    """Exactly what changed: a new due date (no mark changed, so no decision was voided)."""
    item = review.checklist.item(item_id)
    request = f" at {t.user(requested_by)}'s request" if requested_by and requested_by != actor else ""
    line = (f":calendar: {t.user(actor)} moved the due date of *{item_id}* {t.esc(item.title)} from "
            f"*{was or 'no date'}* to *{due or 'no date'}*{request}. The mark stays as it is.")
    blocks = [section(line), *([context(f"Posted {t.when(at)}")] if at is not None else [])]
    return f"Due date of {item_id} moved from {was or 'no date'} to {due or 'no date'}", blocks
