"""The rules for a mark, before anything is stored: each error keyed by the field the modal shows it under."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from bot.core.checklist import Mark
from bot.core.marking import (
    DETAILS_CHANGE,
    DUE_CHANGE,
    MARK_CHANGE,
    MAX_DUE_DAYS,
    MAX_EVIDENCE,
    MAX_NOTE,
    OWNER_CHANGE,
    change_kind,
    earliest_today,
    validate_mark,
)
from bot.core.scoring import MarkEntry

TODAY = date(2026, 12, 3)


def check(checklist, mark: Mark, item_id: str = "s2", **fields) -> dict[str, str]:
    values = {"evidence": None, "owner": None, "due": None, "note": None} | fields
    return validate_mark(checklist, item_id, mark, today=TODAY, **values)


def test_a_no_with_evidence_is_accepted(checklist):
    assert check(checklist, Mark.NO, evidence="https://evals.example.com/runs/8812") == {}
    assert check(checklist, Mark.NO, evidence="  tenant isolation tests  ", owner=None, due=None) == {}


@pytest.mark.parametrize("evidence", [None, "", "   \n\t "])
def test_a_no_needs_evidence(checklist, evidence):
    assert check(checklist, Mark.NO, evidence=evidence) == {
        "evidence": "Marking No needs evidence: a link or a short description of the proof."
    }


def test_a_no_needs_no_owner_or_due_date(checklist):
    # An owner or a due date on a No is not required and not checked (a past date included).
    assert check(checklist, Mark.NO, evidence="proof", owner="", due=date(2020, 1, 1)) == {}


@pytest.mark.parametrize("mark", [Mark.PARTIAL, Mark.YES])
def test_a_gap_with_owner_and_due_date_is_accepted(checklist, mark):
    assert check(checklist, mark, owner="U0DANA", due=TODAY) == {}
    assert check(checklist, mark, owner="U0DANA", due=date(2027, 1, 15), note="jp-support lags") == {}


@pytest.mark.parametrize("mark", [Mark.PARTIAL, Mark.YES])
def test_a_gap_needs_an_owner_and_a_due_date(checklist, mark):
    assert check(checklist, mark) == {"owner": "A gap needs a named owner.", "due": "A gap needs a due date."}
    assert check(checklist, mark, owner="  ", due=TODAY) == {"owner": "A gap needs a named owner."}
    assert check(checklist, mark, owner="U0DANA") == {"due": "A gap needs a due date."}


def test_a_gap_needs_no_evidence(checklist):
    assert check(checklist, Mark.YES, owner="U0DANA", due=TODAY, evidence=None) == {}


def test_a_due_date_before_today_is_in_the_past_and_today_is_not(checklist):
    assert check(checklist, Mark.PARTIAL, owner="U0DANA", due=date(2026, 12, 2)) == {
        "due": "The due date 2026-12-02 is in the past."
    }
    assert check(checklist, Mark.PARTIAL, owner="U0DANA", due=TODAY) == {}


def test_a_due_date_at_most_three_years_away_is_a_plan_and_one_day_more_is_refused(checklist):
    last = TODAY + timedelta(days=MAX_DUE_DAYS)
    assert MAX_DUE_DAYS == 1095
    assert check(checklist, Mark.YES, owner="U0DANA", due=last) == {}
    assert check(checklist, Mark.YES, owner="U0DANA", due=last + timedelta(days=1)) == {
        "due": "The due date 2029-12-03 is more than 3 years away; pick the date the gap will really be closed by."
    }


def test_an_unknown_item_is_refused_before_anything_else(checklist):
    assert check(checklist, Mark.NO, item_id="s99") == {
        "item": "s99 is not an item of checklist enterprise-ai-rollout 2026.11.1"
    }


def test_evidence_is_limited_to_2000_characters_after_trimming(checklist):
    assert MAX_EVIDENCE == 2000
    assert check(checklist, Mark.NO, evidence="e" * 2000) == {}
    assert check(checklist, Mark.NO, evidence="  " + "e" * 2000 + "  ") == {}
    assert check(checklist, Mark.NO, evidence="e" * 2001) == {"evidence": "Evidence is limited to 2000 characters."}
    # on a gap too, where evidence is optional
    assert check(checklist, Mark.YES, owner="U0DANA", due=TODAY, evidence="e" * 2001) == {
        "evidence": "Evidence is limited to 2000 characters."
    }


def test_the_note_is_limited_to_2000_characters(checklist):
    assert MAX_NOTE == 2000
    assert check(checklist, Mark.YES, owner="U0DANA", due=TODAY, note="n" * 2000) == {}
    assert check(checklist, Mark.YES, owner="U0DANA", due=TODAY, note="n" * 2001) == {
        "note": "The note is limited to 2000 characters."
    }
    assert check(checklist, Mark.NO, evidence="proof", note="") == {}


def test_every_problem_is_reported_at_once(checklist):
    assert check(checklist, Mark.PARTIAL, owner="", due=date(2026, 1, 1), evidence="e" * 2001, note="n" * 2001) == {
        "owner": "A gap needs a named owner.",
        "due": "The due date 2026-01-01 is in the past.",
        "evidence": "Evidence is limited to 2000 characters.",
        "note": "The note is limited to 2000 characters.",
    }


@pytest.mark.parametrize(
    ("now", "earliest"),
    [
        (datetime(2026, 12, 3, 12, 0, tzinfo=UTC), date(2026, 12, 3)),  # noon UTC: UTC-12 is at midnight
        (datetime(2026, 12, 3, 11, 59, tzinfo=UTC), date(2026, 12, 2)),  # still the 2nd at UTC-12
        (datetime(2026, 12, 3, 0, 0, tzinfo=UTC), date(2026, 12, 2)),
        (datetime(2026, 12, 3, 23, 59, tzinfo=UTC), date(2026, 12, 3)),
    ],
)
def test_earliest_today_is_the_date_at_utc_minus_12(now, earliest):
    assert earliest_today(now) == earliest


def test_a_yes_says_what_is_missing_when_the_form_asks_for_it(checklist):
    gap = {"owner": "U0DANA", "due": TODAY}
    assert check(checklist, Mark.YES, **gap) == {}  # files and the API may leave the note out
    assert set(validate_mark(checklist, "s2", Mark.YES, evidence=None, note="  ", today=TODAY, note_required=True,
                             **gap)) == {"note"}
    assert validate_mark(checklist, "s2", Mark.YES, evidence=None, note="no escalation tests", today=TODAY,
                         note_required=True, **gap) == {}
    assert validate_mark(checklist, "s2", Mark.PARTIAL, evidence=None, note=None, today=TODAY, note_required=True,
                         **gap) == {}  # a Partial's note stays optional


def test_what_a_change_of_an_item_is():
    """Only a first or a new mark is a mark change (it changes the scorecard and voids decisions); otherwise the
    first of owner and due date that differs, else only the details (evidence, note)."""
    partial = MarkEntry(mark=Mark.PARTIAL, evidence="runs/1", owner="U0DANA", due=date(2027, 1, 15), note="n")
    assert change_kind(None, partial) == MARK_CHANGE
    assert change_kind(partial, partial.model_copy(update={"mark": Mark.YES})) == MARK_CHANGE
    assert change_kind(partial, partial.model_copy(update={"mark": Mark.YES, "owner": "U0EVE"})) == MARK_CHANGE
    assert change_kind(partial, partial.model_copy(update={"owner": "U0EVE"})) == OWNER_CHANGE
    assert change_kind(partial, partial.model_copy(update={"owner": "U0EVE", "due": date(2027, 2, 1)})) == \
        OWNER_CHANGE
    assert change_kind(partial, partial.model_copy(update={"due": date(2027, 2, 1)})) == DUE_CHANGE
    assert change_kind(partial, partial.model_copy(update={"evidence": "runs/2", "note": None})) == DETAILS_CHANGE
    assert change_kind(partial, partial) == DETAILS_CHANGE
