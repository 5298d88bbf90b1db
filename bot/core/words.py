"""One word for each thing: the labels people read for marks, item statuses, verdicts, sign-off decisions and
outcomes, check-in answers, trends and trace kinds. Pure core: no Slack, no database.

Every surface takes its words from here: the rollout packet (Markdown and HTML), the command line's scorecard
and, as they adopt it, the Slack messages. A label starts with a capital letter, as at the start of a line
or in a table cell; in the middle of a sentence use :func:`in_sentence`.

Keys are the stored values (``"no"``, ``"approve"``, ``"approved-staged"``...). The enums of the core are
``StrEnum``, so a member looks up the same entry as its value: ``VERDICT[Verdict.NARROW] == VERDICT["narrow"]``.

The checklist asks about problems ("Can this fail in a way we cannot see?"), so **No** is the good answer:
:data:`MARK_MEANING` says what each answer means, and :func:`mark_choice` is the label of a choice that
says it ("No: controlled").
"""

from __future__ import annotations

from collections.abc import Mapping

from bot.core.checklist import Mark, Verdict

# -- marks ---------------------------------------------------------------------------------------------

MARK: Mapping[str, str] = {Mark.NO: "No", Mark.PARTIAL: "Partial", Mark.YES: "Yes"}
UNMARKED = "Unmarked"
MARK_MEANING: Mapping[str, str] = {Mark.NO: "controlled", Mark.PARTIAL: "partly controlled", Mark.YES: "a gap"}


def mark(value: str | None) -> str:
    """A mark's label; ``None`` (not marked yet) is :data:`UNMARKED`."""
    return MARK[value] if value is not None else UNMARKED


def mark_choice(value: str) -> str:
    """The label of a choice that says what the answer means: "No: controlled", "Yes: a gap"."""
    return f"{MARK[value]}: {MARK_MEANING[value]}"


# -- item statuses (derived from the mark, the due date and waivers) ------------------------------------

OPEN, OVERDUE, CLOSED, WAIVED = "open", "overdue", "closed", "waived"
STATUS: Mapping[str, str] = {
    OPEN: "Open",
    OVERDUE: "Overdue",
    CLOSED: "Closed",
    WAIVED: "Waived",
    "unmarked": UNMARKED,
}
BLOCKER = "Blocker"  # an item whose mark blocks the rollout, whatever the score

# -- verdicts ------------------------------------------------------------------------------------------

VERDICT: Mapping[str, str] = {
    Verdict.GO: "Go",
    Verdict.NARROW: "Narrow",
    Verdict.HOLD: "Hold",
    Verdict.NO_GO: "No-go",
    Verdict.INCOMPLETE: "Incomplete",
}

# -- sign-off ------------------------------------------------------------------------------------------

APPROVE, STAGED, REJECT = "approve", "staged", "reject"  # what one approver decides
APPROVED, APPROVED_STAGED, REJECTED = "approved", "approved-staged", "rejected"  # the outcome, once all decided

DECISION_BUTTON: Mapping[str, str] = {  # what a person clicks
    APPROVE: "Approve",
    STAGED: "Approve a staged rollout",
    REJECT: "Reject",
}
DECISION: Mapping[str, str] = {  # what was decided, by one approver
    APPROVE: "Approved",
    STAGED: "Approved for a staged rollout",
    REJECT: "Rejected",
}
WAITING = "Waiting for a decision"  # a named approver who has not decided

OUTCOME: Mapping[str, str] = {  # the sign-off as a whole, once every role decided
    APPROVED: "Approved",
    APPROVED_STAGED: "Approved for a staged rollout",
    REJECTED: "Rejected",
}
SIGNOFF_NOT_REQUESTED = "Not requested yet"


def signoff_waiting(decided: int, roles: int) -> str:
    """The sign-off while some roles have not decided: "Waiting for 2 of 3 decisions"."""
    left = roles - decided
    return f"Waiting for {left} of {roles} decision{'s' if roles != 1 else ''}"


# events in a review's history besides the decisions above
VOIDED, WAIVE, WAIVER_EXPIRED, WAIVER_REMARKED = "void", "waive", "waiver-expired", "waiver-remarked"
EVENT: Mapping[str, str] = {
    **DECISION,
    VOIDED: "Decision voided",
    WAIVE: "Blocker waived",
    WAIVER_EXPIRED: "Waiver expired",
    WAIVER_REMARKED: "Waiver ended: the item was re-marked",
}

# -- the first week after go-live ----------------------------------------------------------------------

CHECKIN: Mapping[str, str] = {"clear": "All clear", "issue": "Issue found"}
CHECKIN_UNANSWERED = "No answer"  # the day's check-in was asked and nobody answered
CHECKIN_UPCOMING = "Not asked yet"

# -- comparisons with the baseline, trace examples -----------------------------------------------------

TREND: Mapping[str, str] = {
    "better": "Better",
    "worse": "Worse",
    "same": "No change",
    "added": "New in this checklist",
    "removed": "No longer in the checklist",
    "marked": "Newly marked",
    "unmarked": "No longer marked",
    "new": "",
}
TRACE: Mapping[str, str] = {"good": "Good path", "bad": "Bad path", "escalation": "Escalation path"}


def in_sentence(label: str) -> str:
    """A label inside a sentence: "approved for a staged rollout" (a first word in capitals stays)."""
    first = label.split(" ", 1)[0]
    return label if first.isupper() and len(first) > 1 else label[:1].lower() + label[1:]
