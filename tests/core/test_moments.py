"""A moment holds while what it said is true; a closed review supersedes every moment."""

from __future__ import annotations

from datetime import date

from bot.core.checklist import Mark
from bot.core.moments import BLOCKER, CLEARED, DUE, OWNER, VOIDED, WAIVED, WAIVER_ENDED, Now, assertion, holds
from bot.core.scoring import MarkEntry, score


def card_with(checklist, marks, waived=()):
    base = {i: MarkEntry(mark=Mark.NO, evidence="ok") for i in checklist.item_ids}
    return score(checklist, {**base, **marks}, waived=waived)


GAP = MarkEntry(mark=Mark.PARTIAL, owner="U1", due=date(2027, 1, 1), note="x")


def test_blocker_and_cleared_follow_the_item(checklist):
    blocked, cleared = card_with(checklist, {"s16": GAP}), card_with(checklist, {})
    assert holds(assertion(BLOCKER, "s16"), Now(blocked)) and not holds(assertion(BLOCKER, "s16"), Now(cleared))
    assert holds(assertion(CLEARED, "s16"), Now(cleared)) and not holds(assertion(CLEARED, "s16"), Now(blocked))


def test_waivers_hold_while_waived_and_their_end_while_the_blocker_is_back(checklist):
    waived = card_with(checklist, {"s16": GAP}, waived={"s16"})
    back = card_with(checklist, {"s16": GAP})
    assert holds(assertion(WAIVED, "s16"), Now(waived)) and not holds(assertion(WAIVED, "s16"), Now(back))
    assert holds(assertion(WAIVER_ENDED, "s16"), Now(back)) and not holds(assertion(WAIVER_ENDED, "s16"), Now(waived))


def test_voided_decisions_hold_until_someone_decides_again(checklist):
    card = card_with(checklist, {})
    assert holds(assertion(VOIDED), Now(card, live_decisions=0))
    assert not holds(assertion(VOIDED), Now(card, live_decisions=1))


def test_an_owner_message_holds_while_that_person_owns_the_open_gap(checklist):
    card = card_with(checklist, {"s3": GAP})
    said = assertion(OWNER, "s3", owner="U1")
    assert holds(said, Now(card, owners={"s3": "U1"}))
    assert not holds(said, Now(card, owners={"s3": "U2"})) and not holds(said, Now(card, owners={}))


def test_an_owner_message_that_names_a_due_date_stops_holding_when_the_date_moves(checklist):
    card = card_with(checklist, {"s3": GAP})
    said = assertion(OWNER, "s3", owner="U1", due="2027-01-01")
    assert holds(said, Now(card, owners={"s3": "U1"}, dues={"s3": "2027-01-01"}))
    assert not holds(said, Now(card, owners={"s3": "U1"}, dues={"s3": "2027-01-08"}))


def test_a_moved_due_date_holds_until_it_moves_again_or_the_gap_closes(checklist):
    card = card_with(checklist, {"s3": GAP})
    said = assertion(DUE, "s3", due="2027-01-08")
    assert holds(said, Now(card, dues={"s3": "2027-01-08"}))
    assert not holds(said, Now(card, dues={"s3": "2027-01-15"}))
    assert not holds(said, Now(card, dues={}))  # closed: no longer a gap


def test_a_told_verdict_and_a_closed_review_supersede(checklist):
    blocked = card_with(checklist, {"s16": GAP})
    assert holds(assertion(BLOCKER, "s16", verdict="no-go"), Now(blocked))
    assert not holds(assertion(BLOCKER, "s16", verdict="go"), Now(blocked))
    assert not holds(assertion(BLOCKER, "s16"), Now(blocked, closed=True))
    assert holds({"what": "something else"}, Now(blocked))
