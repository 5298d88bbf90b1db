"""One vocabulary: every stored value has one label, no two things share one, and the surfaces use it."""

from __future__ import annotations

import pytest

from bot.core import words
from bot.core.advice import signoff_outcome
from bot.core.checklist import Mark, Verdict
from bot.core.packet.model import CheckinAnswer, DecisionKind, ItemState, TraceKind, Trend


@pytest.mark.parametrize(("labels", "values"), [
    (words.MARK, list(Mark)),
    (words.MARK_MEANING, list(Mark)),
    (words.VERDICT, list(Verdict)),
    (words.STATUS, list(ItemState)),
    (words.EVENT, list(DecisionKind)),
    (words.TRACE, list(TraceKind)),
    (words.TREND, list(Trend)),
    (words.CHECKIN, list(CheckinAnswer)),
    (words.DECISION, [words.APPROVE, words.STAGED, words.REJECT]),
    (words.DECISION_BUTTON, [words.APPROVE, words.STAGED, words.REJECT]),
    (words.OUTCOME, [words.APPROVED, words.APPROVED_STAGED, words.REJECTED]),
])
def test_every_value_has_one_label_and_no_two_share_one(labels, values):
    assert set(labels) == {str(v) for v in values}
    for value in values:  # an enum member finds its value's entry
        assert labels[value] == labels[str(value)]
    shown = [label for label in labels.values() if label]
    assert len(shown) == len(set(shown))


def test_the_staged_rollout_has_one_name_as_a_button_a_decision_and_an_outcome():
    assert words.DECISION_BUTTON[words.STAGED] == "Approve a staged rollout"
    assert words.DECISION[words.STAGED] == words.OUTCOME[words.APPROVED_STAGED] == "Approved for a staged rollout"
    assert words.in_sentence(words.OUTCOME[words.APPROVED_STAGED]) == "approved for a staged rollout"
    assert words.in_sentence(words.VERDICT[Verdict.NO_GO]) == "no-go"
    assert words.mark_choice(Mark.NO) == "No: controlled" and words.mark_choice(Mark.YES) == "Yes: a gap"
    assert words.mark(None) == words.UNMARKED


def test_the_sign_off_outcome_follows_every_role():
    assert signoff_outcome([]) is None
    assert signoff_outcome(["approve", None]) is None
    assert signoff_outcome(["approve", "approve"]) == words.APPROVED
    assert signoff_outcome(["approve", "staged"]) == words.APPROVED_STAGED
    assert signoff_outcome(["staged", "reject"]) == words.REJECTED
    assert words.signoff_waiting(1, 3) == "Waiting for 2 of 3 decisions"


def test_the_command_line_scorecard_speaks_the_same_words(checklist):
    from bot.core.scorecard_view import scorecard_text
    from bot.core.scoring import MarkEntry, score

    marks = {i: MarkEntry(mark=Mark.NO, evidence="ok") for i in checklist.item_ids}
    marks["s10"] = MarkEntry(mark=Mark.YES, owner="U0SAM")
    card = score(checklist, marks)
    text = scorecard_text("copilot 2.0", checklist, marks, card, {"U0SAM": "sam"})
    assert f"Verdict:   {words.VERDICT[card.verdict]}\n" in text
    assert "s10 Tail latency fits real workflows: Yes, owner sam, due (none)" in text
