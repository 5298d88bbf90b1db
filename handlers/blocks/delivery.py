"""What a person is told when Slack refused one of the bot's messages for good, and what to do about it."""

from __future__ import annotations

from handlers.blocks import text as t
from handlers.blocks.kit import Block, actions, button, context, section
from handlers.ids import ActionId

WHAT = {
    "blocker_alert": "the blocker alert", "blocker_cleared": "the note that a blocker cleared",
    "owner_assigned": "the message to a gap's new owner", "result": "the review's result",
    "approvals_voided": "the note that sign-off decisions were voided", "signoff_outcome": "the sign-off outcome",
    "waiver_granted": "the waiver notice", "waiver_ended": "the note that a waiver ended",
    "evidence_suggestions": "the marks the evidence suggests", "watch_breach": "a watch-list breach alert",
    "due_soon": "a gap reminder", "due_today": "a gap reminder", "overdue": "an overdue-gap reminder",
    "escalation_thread": "an overdue-gap escalation", "escalation_channel": "an overdue-gap escalation",
    "watch_checkin": "a first-week check-in", "watch_nudge": "a check-in nudge", "watch_summary":
    "the first-week summary", "watch_issue": "an issue alert",
}


def _what_to_do(error: str, where: str) -> tuple[str, bool]:
    """(the advice, whether trying again can help once it is followed)."""
    if error in ("not_in_channel", "channel_not_found", "channel_is_limited_access"):
        return (f"Readiness is not a member of {where}, or cannot see it. Invite it with `/invite @Readiness` in "
                "that channel, then press *Post it again*.", True)
    if error == "is_archived":
        return f"{where} is archived. Unarchive it, then press *Post it again*.", True
    if error.startswith("restricted_action") or error in ("ekm_access_denied", "posting_to_channel_denied",
                                                          "team_access_not_granted"):
        return f"A workspace or channel setting stops Readiness from posting in {where}.", True
    if error in ("user_not_found", "user_disabled", "cannot_dm_bot", "messages_tab_disabled", "user_not_in_channel"):
        return f"{where} cannot get direct messages from Readiness. Give the gap another owner.", False
    if error in ("missing_scope", "not_allowed_token_type", "no_permission", "access_denied"):
        return ("The Readiness app lacks a permission Slack asked for. A workspace admin should reinstall it from "
                "its manifest (see the README's list of scopes), then press *Post it again*.", True)
    return "Slack refused the message itself: a defect on our side, logged for whoever runs Readiness.", False


def delivery_failed(row_id: int, kind: str, recipient: str, error: str, label: str | None, *,
                    maybe_posted: bool = False) -> tuple[str, list[Block]]:
    """The notice to whoever can fix it. ``maybe_posted``: Slack's answer to the post was lost and the channel's
    history cannot be read, so the message may be there already; *Post it again* then looks before it posts."""
    what = WHAT.get(kind, "a message")
    where = t.user(recipient) if recipient[:1] in "UW" else t.channel(recipient)
    about = f" of *{t.esc(label)}*" if label else ""
    if maybe_posted:
        return _maybe_posted(row_id, what, about, where, error, label)
    advice, again = _what_to_do(error, where)
    blocks: list[Block] = [section(f":warning: Readiness could not post {what}{about} to {where}: Slack answered "
                                   f"`{t.esc(error)}`, which trying again will not change.\n{advice}")]
    if again:
        blocks.append(actions([button("Post it again", ActionId.RETRY_DELIVERY, str(row_id), style="primary")]))
    blocks.append(context(f"Outbox message #{row_id}. `readiness doctor` lists every message that could not be sent."))
    return f"Readiness could not post {what}{' of ' + t.esc(label) if label else ''}: {t.esc(error)}", blocks


def _maybe_posted(row_id: int, what: str, about: str, where: str, error: str,
                  label: str | None) -> tuple[str, list[Block]]:
    blocks: list[Block] = [
        section(f":warning: Readiness may have posted {what}{about} to {where}, but cannot check: Slack's answer to "
                f"the post was lost, and Slack answered `{t.esc(error)}` when Readiness looked in the channel.\n"
                f"Invite it with `/invite @Readiness` in {where}, then press *Post it again*: Readiness looks in the "
                "channel first and posts it only if it is not there."),
        actions([button("Post it again", ActionId.RETRY_DELIVERY, str(row_id), style="primary")]),
        context(f"Outbox message #{row_id}. `readiness doctor` lists every message that could not be sent."),
    ]
    return f"Readiness may have posted {what}{' of ' + t.esc(label) if label else ''} but cannot check: " \
           f"{t.esc(error)}", blocks


def review_not_posted(assessment_id: int, channel: str, error: str) -> tuple[str, list[Block]]:
    where = t.channel(channel)
    advice, _again = _what_to_do(error, where)
    if "Post it again" in advice:
        advice = advice.replace("then press *Post it again*", "and Readiness posts the review there at once")
    return (f"Review #{assessment_id} could not be posted in {where}",
            [section(f":warning: Your review #{assessment_id} is saved, but Slack refused to show it in {where} "
                     f"(`{t.esc(error)}`).\n{advice}")])
