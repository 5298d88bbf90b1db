"""The workspace settings modal, and the one view that shows a new API token (once)."""

from __future__ import annotations

from typing import Any

from bot.services.config import MAX_WAIVER_DAYS, Config
from handlers.blocks import text as t
from handlers.blocks.kit import Block, context, input_block, modal, plain, section, text_input
from handlers.ids import BlockId, CallbackId, InputId
from handlers.state import ConfigModalState

V = InputId.VALUE
JOIN, GOLIVE_EARLY = "join", "golive_early"
JOIN_OPTION = {"text": plain("Readiness may join a public channel by itself when a review needs it"), "value": JOIN}
GOLIVE_OPTION = {"text": plain("A go-live may be recorded before the sign-off is approved"), "value": GOLIVE_EARLY}


def config_modal(state: ConfigModalState, config: Config, live_tokens: list[str]) -> dict[str, Any]:
    channels: dict[str, Any] = {"type": "multi_conversations_select", "action_id": V,
                                "filter": {"include": ["public", "private"], "exclude_bot_users": True}}
    if config.release_channels:
        channels["initial_conversations"] = list(config.release_channels)
    admins: dict[str, Any] = {"type": "multi_users_select", "action_id": V}
    if config.admins:
        admins["initial_users"] = list(config.admins)
    blocks: list[Block] = [
        section("Settings of Readiness for this workspace. Every change is kept in the audit trail."),
        input_block(BlockId.RELEASE_CHANNELS, "Release channels", channels, optional=True,
                    hint="Reviews post alerts and sign-off cards to one of these. Leave empty to allow any channel."),
        text_input(BlockId.ROLES, "Approver roles", action_id=V, initial=", ".join(config.roles), max_length=300,
                   hint="Comma-separated, e.g. quality, policy, operations. The policy approver can waive blockers."),
        input_block(BlockId.ADMINS, "Admin group", admins, optional=True,
                    hint="Besides workspace admins, these people may change these settings."),
        input_block(BlockId.WAIVER_DAYS, "Longest waiver (days)",
                    {"type": "number_input", "action_id": V, "is_decimal_allowed": False, "min_value": "1",
                     "max_value": str(MAX_WAIVER_DAYS), "initial_value": str(config.waiver_max_days)}),
        input_block(BlockId.JOIN_CHANNELS, "Allow", {
            "type": "checkboxes", "action_id": V, "options": [JOIN_OPTION, GOLIVE_OPTION],
            **({"initial_options": chosen} if (chosen := [o for o, on in ((JOIN_OPTION, config.join_channels),
                                                                         (GOLIVE_OPTION, config.golive_without_signoff))
                                                          if on]) else {})}, optional=True,
            hint="Otherwise a review's channels must have Readiness invited (/invite @Readiness) before it starts, "
                 "and a go-live waits for the sign-off."),
        text_input(BlockId.NEW_TOKEN, "Create an API token named", action_id=V, optional=True, max_length=80,
                   placeholder="e.g. ci-main",
                   hint="For pipelines asking the gate. The token is shown once; only its hash is kept."),
    ]
    if live_tokens:
        options = [{"text": plain(t.clip(name, 75)), "value": name} for name in live_tokens[:100]]
        blocks.append(input_block(BlockId.REVOKE_TOKENS, "Revoke API tokens",
                                  {"type": "multi_static_select", "action_id": V, "options": options}, optional=True))
    return modal(CallbackId.CONFIG, "Readiness settings", blocks, submit="Save", private_metadata=state.dump())


def token_view(name: str, token: str) -> dict[str, Any]:
    return {
        "type": "modal",
        "title": plain("API token created"),
        "close": plain("Done"),
        "blocks": [
            section(f"Settings saved. The token *{t.esc(name)}* is below: copy it now, it is not shown again."),
            section(f"```{token}```"),
            context("Send it as `Authorization: Bearer <token>` to `GET /api/v1/gate`. Revoke it here any time."),
        ],
    }
