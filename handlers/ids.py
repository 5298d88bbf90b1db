"""Every Slack id the bot uses (action_id, callback_id, block_id), in one place."""

from __future__ import annotations

from enum import StrEnum


class ActionId(StrEnum):
    MARK_NO = "mark_no"
    MARK_PARTIAL = "mark_partial"
    MARK_YES = "mark_yes"
    REMINDER_REMARK = "reminder_remark"
    REMINDER_NEW_DUE = "reminder_new_due"
    DUE_ACCEPT = "due_accept"
    DUE_REFUSE = "due_refuse"
    GOLIVE = "golive"
    WATCH_CLEAR = "watch_clear"
    WATCH_ISSUE = "watch_issue"
    SIGNOFF_APPROVE = "signoff_approve"
    SIGNOFF_STAGED = "signoff_staged"
    SIGNOFF_REJECT = "signoff_reject"
    REQUEST_SIGNOFF = "request_signoff"
    APPLY_SUGGESTION = "evidence_apply"
    DISMISS_SUGGESTION = "evidence_dismiss"
    WAIVE = "waive"
    ADD_TRACE = "packet_add_trace"
    ROLLOUT_PLAN = "packet_rollout_plan"
    MAKE_PACKET = "packet_make"
    RETRY_DELIVERY = "delivery_retry"
    SIGNOFF_CHANGE = "signoff_change"  # the overflow of a role that decided: another allowed decision
    NEXT_STEP = "next_step"  # a link button to the next thing to do in the thread (Slack still sends the click)
    MARK_CHANGE = "mark_change"  # the one control of a marked item: another mark, or the same one's details
    MARK_SECTION = "mark_section"  # a whole section (or part) in one form
    START_REVIEW = "start_review"  # the App Home's "Start a review"
    REMINDER_SNOOZE = "reminder_snooze"


class CallbackId(StrEnum):
    START_REVIEW = "start_review"
    MARK_ITEM = "mark_item"
    MARK_SECTION = "mark_section"
    PROPOSE_DUE = "propose_due"
    GOLIVE = "golive"
    WATCH_ISSUE = "watch_issue"
    SIGNOFF = "signoff"
    SIGNOFF_REASON = "signoff_reason"
    APPLY_SUGGESTION = "evidence_apply"
    DISMISS_SUGGESTION = "evidence_dismiss"
    WAIVE = "waive"
    CONFIG = "config"
    TRACE = "packet_trace"
    ROLLOUT_PLAN = "packet_rollout_plan"


class BlockId(StrEnum):
    """Fixed block ids of modals. Item blocks in messages use ``item_block_id(item_id)``."""

    SYSTEM = "system"
    VERSION = "version"
    REVIEW_CHANNEL = "review_channel"
    JOIN_CHANNELS = "join_channels"
    COHORTS = "cohorts"
    RELEASE_CHANNEL = "release_channel"
    BASELINE = "baseline"
    EVIDENCE = "evidence"
    OWNER = "owner"
    DUE = "due"
    NOTE = "note"
    REASON = "reason"
    MARK = "mark"  # a section form's mark of one item (with ":<item>" like its other fields)
    NEW_DUE = "new_due"
    ALERTS = "alerts"
    CADENCE = "cadence"
    ESCALATION_OWNER = "escalation_owner"
    WATCH_ITEMS = "watch_items"
    DESCRIPTION = "description"
    LINK = "link"
    WAIVE_ITEM = "waive_item"
    WAIVE_UNTIL = "waive_until"
    RELEASE_CHANNELS = "release_channels"
    ROLES = "roles"
    ADMINS = "admins"
    WAIVER_DAYS = "waiver_days"
    NEW_TOKEN = "new_token"
    REVOKE_TOKENS = "revoke_tokens"
    TRACE_KIND = "trace_kind"
    STAGED_ROLLOUT = "staged_rollout"
    ROLLBACK = "rollback"


class InputId(StrEnum):
    """action_id of the single element inside each modal input block."""

    VALUE = "value"


ITEM_BLOCK_PREFIX = "item:"
ITEM_STATUS_PREFIX = "status:"


def item_block_id(item_id: str) -> str:
    return ITEM_BLOCK_PREFIX + item_id


def item_status_block_id(item_id: str) -> str:
    return ITEM_STATUS_PREFIX + item_id


MARK_ACTIONS = (ActionId.MARK_NO, ActionId.MARK_PARTIAL, ActionId.MARK_YES)
