"""Modal submissions: start a review, save a mark. Input is validated in the ack."""

from __future__ import annotations

from typing import Any

from slack_bolt import Ack, App, BoltContext
from slack_sdk import WebClient

from bot.context import db_of, deps_of
from bot.core.marking import earliest_today, validate_mark
from bot.core.review import message_parts
from bot.services import config, reviews
from bot.services.assessments import MarkOutcome, MarkRequest, StartRequest, start_assessment
from bot.services.errors import MarkRejected, ServiceError
from bot.services.marks import record_mark
from handlers import forms, publish
from handlers.blocks import text as t
from handlers.channels import channel_problems
from handlers.common import parse_control, review_number, team_of, view_key
from handlers.ids import BlockId, CallbackId
from handlers.lazy import after_ack, listen
from handlers.state import MarkModalState, SectionModalState, StartModalState

CHECK_SECONDS = 1.5  # Slack's answers about the form's channels, all of them, before the ack


def submit_start(ack: Ack, body: dict[str, Any], view: dict[str, Any], context: BoltContext) -> None:
    values = view["state"]["values"]
    system = forms.text_value(values, BlockId.SYSTEM)
    version = forms.text_value(values, BlockId.VERSION)
    release = forms.conversation_value(values, BlockId.RELEASE_CHANNEL)
    errors = forms.start_errors(system, version, release)
    if errors:
        ack(response_action="errors", errors=errors)
        return
    state = parse_control(StartModalState, view.get("private_metadata"))
    baseline = forms.option_value(values, BlockId.BASELINE)
    team_id, user_id = team_of(body, context), body["user"]["id"]
    deps, scope = deps_of(context), db_of(context)
    review_channel = forms.conversation_value(values, BlockId.REVIEW_CHANNEL) or state.channel_id
    with scope.read() as session:
        settings = config.get(session, team_id)
        refused = config.check_release_channel(session, team_id, release)
    if refused:
        ack(response_action="errors", errors={BlockId.RELEASE_CHANNEL: refused})
        return
    unusable = _unusable_channels(deps, {BlockId.REVIEW_CHANNEL: review_channel, BlockId.RELEASE_CHANNEL: release},
                                  may_join=settings.join_channels)
    if unusable:
        ack(response_action="errors", errors=unusable)
        return
    request = StartRequest(
        team_id=team_id,
        system=system or "",
        version=version or "",
        started_by=user_id,
        cohorts=forms.cohorts_value(values),
        channel_id=review_channel,
        release_channel_id=release,
        baseline_id=review_number(baseline) if baseline else None,
    )
    try:
        with scope.transaction() as session:
            assessment_id = None
            if reviews.claim_interaction(session, team_id, view_key(view), "start"):
                assessment_id = start_assessment(session, deps.checklist, request).id
    except ServiceError as exc:
        ack(response_action="errors", errors={BlockId.BASELINE if baseline else BlockId.SYSTEM: str(exc)})
        return
    if assessment_id is not None:
        context["started"] = {"assessment_id": assessment_id, "channel_id": review_channel}
    ack()


def _unusable_channels(deps: Any, fields: dict[BlockId, str | None], *, may_join: bool) -> dict[str, str]:
    """Each field whose channel the bot cannot use, with what to do (checked with Slack, in the ack: the
    person sees it under the field while the form is still open). The checks (conversations.info, and
    conversations.join where allowed) run at once within CHECK_SECONDS in all, well inside Slack's three
    seconds for the ack."""
    assert deps.modal_client is not None
    channels = list(dict.fromkeys(channel for channel in fields.values() if channel))
    problems = channel_problems(deps.ack_client, channels, may_join=may_join, seconds=CHECK_SECONDS)
    return {block.value: str(problems[channel]) for block, channel in fields.items()
            if channel and problems.get(channel)}


def post_started_review(body: dict[str, Any], context: BoltContext, client: WebClient) -> None:
    started = context.get("started")
    if started:
        publish.post_or_explain(client, db_of(context), team_of(body, context), started["assessment_id"],
                                started["channel_id"], lead=body["user"]["id"])


def submit_mark(ack: Ack, body: dict[str, Any], view: dict[str, Any], context: BoltContext) -> None:
    state = parse_control(MarkModalState, view.get("private_metadata"))
    values = view["state"]["values"]
    due, due_error = forms.date_value(values, BlockId.DUE)
    if due_error:
        ack(response_action="errors", errors={BlockId.DUE: due_error})
        return
    team_id, user_id = team_of(body, context), body["user"]["id"]
    deps, scope = deps_of(context), db_of(context)
    request = MarkRequest(
        item_id=state.item_id,
        mark=state.mark,
        evidence=forms.text_value(values, BlockId.EVIDENCE),
        owner=forms.user_value(values, BlockId.OWNER),
        due=due,
        note=forms.text_value(values, BlockId.NOTE),
        reason=forms.text_value(values, BlockId.REASON),
        note_required=True,
    )
    outcome: MarkOutcome | None = None
    try:
        with scope.transaction() as session:
            if reviews.claim_interaction(session, team_id, view_key(view), "mark"):
                outcome = record_mark(session, team_id, state.assessment_id, request, actor=user_id,
                                      today=earliest_today(deps.now()), now=deps.now(), policy=deps.policy)
    except MarkRejected as exc:
        present = {b.get("block_id") for b in view.get("blocks", []) if b.get("type") == "input"}
        fallback = next(iter(sorted(present)), BlockId.EVIDENCE.value)
        ack(response_action="errors", errors=forms.mark_errors_to_blocks(exc.errors, present, fallback))
        return
    if outcome is not None and outcome.changed:
        context["outcome"] = outcome
    ack()


def submit_section(ack: Ack, body: dict[str, Any], view: dict[str, Any], context: BoltContext) -> None:
    """A section's marks, all or nothing: each picked item is checked (with its own fields' errors under them)
    before any is stored; an item someone marked since the form opened is refused, not overwritten."""
    state = parse_control(SectionModalState, view.get("private_metadata"))
    picked, errors = forms.section_marks(view["state"]["values"], state.items)
    if not picked and not errors:
        errors = {f"{BlockId.MARK}:{state.items[0]}": "Pick a mark for at least one item."}
    if errors:
        ack(response_action="errors", errors=errors)
        return
    team_id, user_id = team_of(body, context), body["user"]["id"]
    deps, scope = deps_of(context), db_of(context)
    today = earliest_today(deps.now())
    try:
        with scope.transaction() as session:
            if reviews.claim_interaction(session, team_id, view_key(view), "mark-section"):
                errors = section_marks_refused(session, team_id, state, picked, today)
                if errors:
                    raise SectionRefused(errors)
                for chosen in picked:
                    record_mark(session, team_id, state.assessment_id,
                                MarkRequest(item_id=chosen.item_id, mark=chosen.mark, evidence=chosen.evidence,
                                            owner=chosen.owner, due=chosen.due, note=chosen.note),
                                actor=user_id, today=today, now=deps.now(), policy=deps.policy)
    except SectionRefused as exc:
        ack(response_action="errors", errors=exc.errors)
        return
    ack()


class SectionRefused(ServiceError):
    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__("Some marks of the section cannot be saved.")
        self.errors = errors


def section_marks_refused(session: Any, team_id: str, state: SectionModalState, picked: list[forms.SectionMark],
                          today: Any) -> dict[str, str]:
    """Each picked item's problems under its own fields: not an item of that section (a forged form), marked
    by someone else since the form opened, or a mark without what it needs."""
    review = reviews.load_review(session, team_id, state.assessment_id)
    part = next((p for p in message_parts(review.checklist) if p.key == state.part), None)
    allowed = {i.id for i in part.items} if part is not None else set()
    errors: dict[str, str] = {}
    for chosen in picked:
        where = f"{BlockId.MARK}:{chosen.item_id}"
        if chosen.item_id not in allowed:
            errors[where] = f"{chosen.item_id} is not an item of this section."
            continue
        now = review.status_of(chosen.item_id)
        if now.mark is not None:
            errors[where] = (f"{t.user(now.marked_by)} marked {chosen.item_id} "
                             f"{review.checklist.marks[now.mark].label} since this form opened: change it from "
                             "its own menu in the thread.")
            continue
        problems = validate_mark(review.checklist, chosen.item_id, chosen.mark, evidence=chosen.evidence,
                                 owner=chosen.owner, due=chosen.due, note=chosen.note, today=today,
                                 note_required=True)
        for field, message in problems.items():
            block = f"{field}:{chosen.item_id}" if field in forms.FIELD_BLOCKS else where
            errors[block] = f"{errors[block]} {message}" if block in errors else message
    return errors


def register(app: App) -> None:
    app.view_submission(CallbackId.START_REVIEW.value)(listen(submit_start, after_ack(post_started_review)))
    app.view_submission(CallbackId.MARK_ITEM.value)(listen(submit_mark))
    app.view_submission(CallbackId.MARK_SECTION.value)(listen(submit_section))
