"""Sign-off: the approvers modal, the approval card, the reason modal, and what the channel is told."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from bot.core import words
from bot.core.review import Review
from bot.services.signoff import ALLOWED, APPROVE, REJECT, STAGED, WHY_NOT, WORDS, RoleState, SignoffState
from handlers.blocks import text as t
from handlers.blocks.kit import (
    Block,
    actions,
    button,
    context,
    header,
    input_block,
    modal,
    overflow,
    plain,
    section,
    sections_of,
    text_input,
)
from handlers.blocks.review import gap_lines, state_marker, waived_lines
from handlers.ids import ActionId, BlockId, CallbackId, InputId
from handlers.state import DecisionRef, SignoffModalState

V = InputId.VALUE


def approvers_modal(state: SignoffModalState, label: str, roles: list[str], current: dict[str, str]) -> dict[str, Any]:
    blocks: list[Block] = [section(f"Name one approver per role for *{t.esc(label)}*. Each decides on the card "
                                   "posted in the release channel.")]
    for role in roles:
        element: dict[str, Any] = {"type": "users_select", "action_id": V}
        if current.get(role):
            element["initial_user"] = current[role]
        blocks.append(input_block(f"role:{role}", f"{role.title()} approver", element))
    return modal(CallbackId.SIGNOFF, "Request sign-off", blocks, submit="Post the card", private_metadata=state.dump())


DECISION_LABEL = words.DECISION_BUTTON
OUTCOME_WORD = {o: words.in_sentence(label) for o, label in words.OUTCOME.items()}
OUTCOME_LINE = {"approved": ":white_check_mark: *Approved*", "approved-staged": ":large_yellow_circle: *Approved for a "
                "staged rollout*", "rejected": ":no_entry: *Rejected*"}


def role_line(role: RoleState) -> str:
    """One role's state: waiting, its decision (by whom, when, why), or its voided decision and why."""
    who = f"*{role.role.title()}* ({t.user(role.approver)})"
    if role.decision:
        why = f": {t.esc(role.reason)}" if role.reason else ""
        icon = {APPROVE: ":white_check_mark:", STAGED: ":large_yellow_circle:"}.get(role.decision, ":no_entry:")
        by = "" if role.decided_by in (None, role.approver) else f" by {t.user(role.decided_by)}"
        return f"{icon} {who} {WORDS[role.decision]}{by} {t.when(role.decided_at)}{why}"
    if role.voided is not None:
        v = role.voided
        return (f":heavy_multiplication_x: {who}: ~{WORDS[v.decision]}~ by {t.user(v.by)}, voided {t.when(v.at)}: "
                f"{t.esc(v.why)}. Waiting for a new decision.")
    return f":hourglass_flowing_sand: {who}: waiting for a decision"


def _role_control(review: Review, role: RoleState, allowed: tuple[str, ...]) -> dict[str, Any] | None:
    """A role that decided gets one control to change its decision (to another allowed one), or none."""
    others = [d for d in allowed if d != role.decision]
    ref = DecisionRef(assessment=review.assessment_id, role=role.role)
    if not others:
        return None
    if len(others) == 1:
        return button(f"Change to: {DECISION_LABEL[others[0]]}", ActionId.SIGNOFF_CHANGE,
                      ref.model_copy(update={"decision": others[0]}).dump())
    return overflow(ActionId.SIGNOFF_CHANGE, [(f"Change to: {DECISION_LABEL[d]}",
                                              ref.model_copy(update={"decision": d}).dump()) for d in others])


def _decision_buttons(review: Review, role: RoleState, allowed: tuple[str, ...]) -> Block:
    value = DecisionRef(assessment=review.assessment_id, role=role.role).dump()
    ids = {APPROVE: ActionId.SIGNOFF_APPROVE, STAGED: ActionId.SIGNOFF_STAGED, REJECT: ActionId.SIGNOFF_REJECT}
    styles = {APPROVE: "primary", STAGED: "primary" if APPROVE not in allowed else None}
    return actions([button(DECISION_LABEL[d], ids[d], value, style=styles.get(d)) for d in allowed],
                   block_id=f"decide:{role.role}")


def card(review: Review, st: SignoffState) -> tuple[str, list[Block]]:
    """The approval card as things stand: the outcome first once every role decided, one line per role, and
    only the controls the verdict allows now (none at all once the review is live or closed)."""
    c = st.card
    verdict = c.verdict
    open_for_decisions = review.status not in ("closed", "live")
    allowed = ALLOWED[verdict] if open_for_decisions else ()
    blocks: list[Block] = [header(f"Sign-off: {review.label}")]
    if st.outcome:
        blocks.append(section(f"{OUTCOME_LINE[st.outcome]}: every role has decided."))
    blocks.append(section(f"Verdict {t.verdict(verdict)} · score *{c.score} of {c.max_score}*, band *{c.band}* · "
                          f"blockers: {', '.join(c.blockers) or 'none'} · open gaps: {len(review.gaps())}"))
    waived = waived_lines(review)
    if waived:
        blocks.append(section(t.clip("\n".join(waived), 2900)))
    gaps = gap_lines(review)  # what the approvers accept if they approve: owners and dates, kept current
    if gaps:
        blocks.extend(sections_of(["*Open gaps*", *gaps], 4, "more gaps: see the result in the review's thread"))
    for role in st.roles:
        line = section(t.clip(role_line(role), 2900))
        if role.decision:
            control = _role_control(review, role, allowed)
            if control is not None:
                line["accessory"] = control
            blocks.append(line)
        else:
            blocks.append(line)
            if allowed:
                blocks.append(_decision_buttons(review, role, allowed))
    if c.blockers and open_for_decisions:
        blocks.append(actions([button("Waive a blocker", ActionId.WAIVE, SignoffModalState(
            assessment_id=review.assessment_id).dump())], block_id="waive"))
    why_not = f"{WHY_NOT[verdict][:1].upper()}{WHY_NOT[verdict][1:]}. " if verdict in WHY_NOT and open_for_decisions else ""
    if not open_for_decisions:
        why_not = f"The review is {review.status}: decisions are final. "
    blocks.append(context(f"{why_not}A new mark or a waiver voids the decisions given; a new owner or due date "
                          "does not.", block_id=state_marker(review)))
    head = OUTCOME_WORD[st.outcome] if st.outcome else f"verdict {t.VERDICT_WORD[verdict]}"
    return f"Sign-off for {t.esc(review.label)}: {head}", blocks


def reason_modal(ref: DecisionRef, decision: str, label: str) -> dict[str, Any]:
    blocks: list[Block] = [
        section(f"{'Reject' if decision == REJECT else 'Approve a staged rollout of'} *{t.esc(label)}* as "
                f"{ref.role} approver."),
        text_input(BlockId.REASON, "Reason", action_id=V, multiline=True, max_length=1000),
    ]
    title = "Reject" if decision == REJECT else "Staged rollout"
    return modal(CallbackId.SIGNOFF_REASON, title, blocks, submit="Record decision",
                 private_metadata=ref.model_copy(update={"decision": decision}).dump())


def waiver_modal(state: SignoffModalState, label: str, blockers: list[tuple[str, str]], max_days: int,
                 latest: date) -> dict[str, Any]:
    options = [{"text": plain(t.clip(f"{item_id} {title}", 75)), "value": item_id} for item_id, title in blockers]
    blocks: list[Block] = [
        section(f"Waive a blocker of *{t.esc(label)}*. While the waiver holds, the blocker no longer forces "
                f"no-go; when it ends the blocker is back and decisions given meanwhile are void."),
        input_block(BlockId.WAIVE_ITEM, "Blocker", {"type": "static_select", "action_id": V, "options": options[:100]}),
        text_input(BlockId.REASON, "Why the rollout may go ahead with it", action_id=V, multiline=True,
                   max_length=1000),
        input_block(BlockId.WAIVE_UNTIL, "Waived through (UTC)", {"type": "datepicker", "action_id": V},
                    hint=f"At most {max_days} days: {latest.isoformat()} at the latest."),
    ]
    return modal(CallbackId.WAIVE, "Waive a blocker", blocks, submit="Waive", private_metadata=state.dump())


def waiver_notice(review: Review, item_id: str, granted_by: str, reason: str, expires_at: datetime, *,
                  ended: bool, voided: int, end_reason: str | None, at: datetime | None = None
                  ) -> tuple[str, list[Block]]:
    title = t.esc(review.checklist.item(item_id).title)
    if not ended:
        line = (f":shield: {t.user(granted_by)} waived blocker *{item_id}* {title} in *{t.esc(review.label)}* "
                f"until {t.when(expires_at)}: {t.esc(reason)}.")
        summary = f"Blocker {item_id} waived for {t.esc(review.label)}"
    else:
        why = "was re-marked" if end_reason == "re-marked" else "expired"
        line = (f":rotating_light: The waiver of *{item_id}* {title} in *{t.esc(review.label)}* {why}: the blocker "
                "is back.")
        summary = f"Waiver of {item_id} ended for {t.esc(review.label)}: blocker back"
    if voided:
        line += f" {voided} sign-off decision(s) given on the waived scorecard are void: approvers, decide again."
    return summary, [section(t.clip(line, 2900)), *_posted(at)]


def voided(review: Review, item_id: str, actor: str, count: int, at: datetime | None = None
           ) -> tuple[str, list[Block]]:
    line = (f":warning: {t.user(actor)} re-marked *{item_id}* in *{t.esc(review.label)}*: the {count} sign-off "
            f"decision(s) given so far are void, because they saw another scorecard. Approvers, please decide again.")
    return f"Sign-off decisions voided for {t.esc(review.label)}", [section(line), *_posted(at)]


def _posted(at: datetime | None) -> list[Block]:
    return [context(f"Posted {t.when(at)} · the sign-off card shows the decisions as they are now")] if at else []


def outcome(review: Review, st: SignoffState) -> tuple[str, list[Block]]:
    """The sign-off's outcome post, kept current: the outcome, or that the sign-off is open again."""
    label = t.esc(review.label)
    if st.outcome:
        line = f"{OUTCOME_LINE[st.outcome]}: sign-off for *{label}* is complete."
        text = f"Sign-off for {label}: {OUTCOME_WORD[st.outcome]}"
    else:
        waiting = sum(1 for r in st.roles if not r.decision)
        line = (f":hourglass_flowing_sand: Sign-off for *{label}* is open again: {waiting} of {len(st.roles)} "
                "role(s) must decide again, as decisions were voided. See the sign-off card.")
        text = f"Sign-off for {label}: open again"
    return text, [section(line), context(f"Kept up to date · review #{review.assessment_id}",
                                         block_id=state_marker(review))]
