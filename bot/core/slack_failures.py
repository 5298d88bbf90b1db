"""Slack errors that no retry can fix, and who can fix them.

A post refused for one of these is dead at once (never tried eight times), and the person who can fix it
is told: the review's release lead for a channel or a recipient, the workspace's Readiness admins for a
problem of the whole installation. A token Slack no longer accepts cannot be used to tell anyone: that
shows in `readiness doctor` and the log.
"""

from __future__ import annotations

from dataclasses import dataclass

CHANNEL = "channel"  # the bot cannot post there: invite it, unarchive, or pick another channel
RECIPIENT = "recipient"  # a direct message cannot reach the person
CONTENT = "content"  # Slack refused what Readiness wrote: a defect on our side
INSTALLATION = "installation"  # the app's token or scopes: for the workspace's admins
TOKEN = "token"  # the token itself is refused: nobody can be told through Slack
MESSAGE = "message"  # the message to update is gone or can no longer be edited: it is left as it is

KINDS: dict[str, str] = {
    **dict.fromkeys(("channel_not_found", "not_in_channel", "is_archived", "restricted_action",
                     "restricted_action_read_only_channel", "restricted_action_thread_only_channel",
                     "restricted_action_non_threadable_channel", "restricted_action_thread_locked",
                     "ekm_access_denied", "posting_to_channel_denied", "cannot_reply_to_message",
                     "channel_is_limited_access", "team_access_not_granted"), CHANNEL),
    **dict.fromkeys(("user_not_found", "user_disabled", "cannot_dm_bot", "messages_tab_disabled",
                     "user_not_in_channel"), RECIPIENT),
    **dict.fromkeys(("invalid_blocks", "invalid_blocks_format", "msg_too_long", "msg_blocks_too_long", "no_text",
                     "invalid_attachments", "too_many_attachments", "invalid_metadata_format",
                     "metadata_too_large", "markdown_text_conflict", "invalid_arguments", "block_mismatch", "view_too_large"), CONTENT),
    **dict.fromkeys(("message_not_found", "cant_update_message", "edit_window_closed", "is_inactive"), MESSAGE),
    **dict.fromkeys(("missing_scope", "not_allowed_token_type", "no_permission", "access_denied"), INSTALLATION),
    **dict.fromkeys(("invalid_auth", "account_inactive", "token_revoked", "token_expired", "not_authed",
                     "org_login_required", "app_uninstalled"), TOKEN),
}


@dataclass(frozen=True)
class Failure:
    error: str
    kind: str

    @property
    def tell_lead(self) -> bool:
        return self.kind in (CHANNEL, RECIPIENT, CONTENT)

    @property
    def tell_admins(self) -> bool:
        return self.kind == INSTALLATION


def permanent(error: str | None) -> Failure | None:
    """The failure, when ``error`` is one no retry can fix; None for the ones worth trying again."""
    kind = KINDS.get(error or "")
    return Failure(str(error), kind) if kind else None
