"""The recommended action follows the verdict: incomplete, no-go with its blockers, or the band's action."""

from __future__ import annotations

from datetime import date

from bot.core.advice import recommended_action
from bot.core.checklist import Mark
from bot.core.scoring import MarkEntry, score


def all_no(checklist) -> dict[str, MarkEntry]:
    return {i: MarkEntry(mark=Mark.NO, evidence="ok") for i in checklist.item_ids}


def gap(owner: str = "U1") -> MarkEntry:
    return MarkEntry(mark=Mark.YES, owner=owner, due=date(2027, 1, 1), note="x")


def test_an_empty_review_says_how_many_items_are_left_not_to_proceed(checklist):
    card = score(checklist, {})
    said = recommended_action(card, {})
    assert said == "22 of 22 items are still unmarked: mark them before anyone decides."
    assert "Proceed" not in said
    one_left = {k: v for k, v in all_no(checklist).items() if k != "s3"}
    assert recommended_action(score(checklist, one_left), {}) == \
        "1 of 22 item is still unmarked: mark it before anyone decides."


def test_no_go_names_each_blocker_and_its_owner(checklist):
    marks = {**all_no(checklist), "s16": gap("U0SAM"), "s14": MarkEntry(mark=Mark.PARTIAL, owner=None, due=None)}
    card = score(checklist, marks)
    assert card.verdict.value == "no-go"
    said = recommended_action(card, {"s16": "U0SAM"}, person=lambda u: f"<@{u}>")
    assert said == "Do not widen the rollout: clear the blockers first: s14 (no owner), s16 (<@U0SAM>)."


def test_a_no_go_from_the_score_alone_gives_the_bands_action(checklist):
    marks = {**all_no(checklist), **{i: gap() for i in ("s1", "s2", "s3", "s4", "s5", "s6", "s7", "s8")}}
    card = score(checklist, marks)
    assert card.verdict.value == "no-go" and not card.blockers
    assert recommended_action(card, {}) == card.band_action


def test_go_narrow_and_hold_give_the_bands_action(checklist):
    for marked, verdict in ((["s1"], "go"), (["s1", "s2", "s3"], "narrow"), (["s1", "s2", "s3", "s4", "s5"], "hold")):
        card = score(checklist, {**all_no(checklist), **{i: gap() for i in marked}})
        assert card.verdict.value == verdict
        assert recommended_action(card, {}) == card.band_action


def test_at_most_five_blockers_are_named_and_the_rest_counted(checklist):
    blockers = ["s10", "s14", "s15", "s16", "s18", "s20"]
    card = score(checklist, {**all_no(checklist), **{i: gap(f"U{i}") for i in blockers}})
    said = recommended_action(card, {i: f"U{i}" for i in blockers})
    assert said.endswith("s18 (Us18) and 1 more.") and "s20" not in said


def test_the_next_step_follows_the_state(checklist):
    from bot.core.advice import MARK_NEXT, NOTHING, RECORD_GOLIVE, REQUEST_SIGNOFF, SEE_BLOCKERS, next_step

    empty, blocked = score(checklist, {}), score(checklist, {**all_no(checklist), "s16": gap()})
    go = score(checklist, all_no(checklist))
    step = dict(status="complete", signoff_requested=False, signoff_outcome=None)
    assert next_step(empty, **{**step, "status": "open"}) == MARK_NEXT
    assert next_step(blocked, **step) == SEE_BLOCKERS
    assert next_step(go, **step) == REQUEST_SIGNOFF
    assert next_step(go, **{**step, "signoff_requested": True}) == NOTHING  # waiting for the approvers
    assert next_step(go, **{**step, "signoff_requested": True}, golive_allowed_early=True) == RECORD_GOLIVE
    assert next_step(go, **{**step, "signoff_requested": True, "signoff_outcome": "approved-staged"}) == RECORD_GOLIVE
    assert next_step(go, **{**step, "signoff_requested": True, "signoff_outcome": "rejected"}) == NOTHING
    assert next_step(go, **{**step, "status": "live", "signoff_outcome": "approved"}) == NOTHING
    assert next_step(blocked, **{**step, "signoff_outcome": "approved"}) == SEE_BLOCKERS  # a new blocker first
