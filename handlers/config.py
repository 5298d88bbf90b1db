"""`/readiness config`: the workspace settings modal, for workspace admins and the configured admin group."""

from __future__ import annotations

from typing import Any
from urllib.error import URLError

from slack_bolt import Ack, BoltContext
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from sqlalchemy import select

from bot.context import db_of, deps_of
from bot.services import config, reviews, tokens
from bot.services.errors import ServiceError
from handlers import forms
from handlers.blocks.config import GOLIVE_EARLY, JOIN, config_modal, token_view
from handlers.common import parse_control, team_of, view_key
from handlers.ids import BlockId, CallbackId
from handlers.lazy import listen, open_form
from handlers.state import ConfigModalState
from models import ApiToken

FIELD_BLOCK = {"release_channels": BlockId.RELEASE_CHANNELS, "roles": BlockId.ROLES, "admins": BlockId.ADMINS,
               "waiver_max_days": BlockId.WAIVER_DAYS, "token": BlockId.NEW_TOKEN, "revoke": BlockId.REVOKE_TOKENS}


RIGHTS_SECONDS = 1.5  # users.info before the settings form's ack (Slack wants the ack within three seconds)
REFUSED = "Only workspace admins and this workspace's Readiness admin group can change its settings."


def config_command(ack: Ack, context: BoltContext) -> None:
    context["open_config"] = True
    ack()


def is_workspace_admin(client: WebClient, user_id: str) -> bool:
    """Slack's own answer, asked each time: a person demoted since is no longer an admin here."""
    try:
        user = client.users_info(user=user_id)["user"]
    except SlackApiError as exc:
        raise ServiceError("Readiness could not check your rights in Slack just now, so nothing was changed. "
                           f"Please try again ({exc.response.get('error')}).") from None
    except (URLError, TimeoutError, OSError):
        raise ServiceError("Slack did not answer in time when Readiness checked your rights, so nothing was "
                           "changed. Please try again.") from None
    return bool(user.get("is_admin") or user.get("is_owner"))


def _live_tokens(session: Any, team_id: str) -> list[str]:
    return list(session.scalars(select(ApiToken.name).where(ApiToken.team_id == team_id,
                                                            ApiToken.revoked_at.is_(None)).order_by(ApiToken.name)))


def open_config_modal(body: dict[str, Any], context: BoltContext, client: WebClient) -> None:
    if not context.get("open_config"):
        return

    def build() -> dict[str, Any]:
        team_id, user_id = team_of(body, context), body["user_id"]
        with db_of(context).read() as session:
            current = config.get(session, team_id)
            live = _live_tokens(session, team_id)
        admin = is_workspace_admin(client, user_id)
        if not config.may_configure(current, user_id, workspace_admin=admin):
            raise ServiceError(REFUSED)
        view = config_modal(ConfigModalState(user_id=user_id), current, live)
        return view

    open_form(body, context, build)


def _wanted(values: dict[str, Any]) -> tuple[config.Config, dict[str, str]]:
    errors: dict[str, str] = {}
    raw_days = (values.get(BlockId.WAIVER_DAYS.value, {}).get("value") or {}).get("value")
    try:
        days = int(raw_days or "")
    except ValueError:
        days, errors["waiver_max_days"] = 0, "Enter a whole number of days."
    channels = (values.get(BlockId.RELEASE_CHANNELS.value, {}).get("value") or {}).get("selected_conversations")
    admins = (values.get(BlockId.ADMINS.value, {}).get("value") or {}).get("selected_users")
    joins = (values.get(BlockId.JOIN_CHANNELS.value, {}).get("value") or {}).get("selected_options") or []
    wanted = config.Config(release_channels=list(channels or []),
                           roles=config.parse_roles(forms.text_value(values, BlockId.ROLES)),
                           admins=list(admins or []), waiver_max_days=days,
                           join_channels=any(o.get("value") == JOIN for o in joins),
                           golive_without_signoff=any(o.get("value") == GOLIVE_EARLY for o in joins))
    return wanted, errors


def submit_config(ack: Ack, body: dict[str, Any], view: dict[str, Any], context: BoltContext,
                  client: WebClient) -> None:
    """Settings, a new token and revocations are one change: all stored, or (with a reason per field) none.

    The person's rights are checked again here, from Slack and the database: the form's own state only says
    who opened it, and a person demoted since then (or a forged submission) is refused."""
    state = parse_control(ConfigModalState, view.get("private_metadata"))
    user_id, team_id = body["user"]["id"], team_of(body, context)
    if user_id != state.user_id:
        raise ServiceError("This settings form was opened by someone else.")
    deps = deps_of(context)  # before the ack: Slack's answer within RIGHTS_SECONDS, or the form says try again
    workspace_admin = is_workspace_admin(deps.ack_client(RIGHTS_SECONDS) if deps.modal_client else client, user_id)
    values = view["state"]["values"]
    wanted, errors = _wanted(values)
    new_token = (forms.text_value(values, BlockId.NEW_TOKEN) or "").strip()
    revoke = [o["value"] for o in
              (values.get(BlockId.REVOKE_TOKENS.value, {}).get("value") or {}).get("selected_options") or []]
    token = None
    try:
        with db_of(context).transaction() as session:
            if errors:
                raise config.ConfigRefused(errors)
            # checked again: the admin group may have changed since the form was opened
            if not config.may_configure(config.get(session, team_id), user_id, workspace_admin=workspace_admin):
                raise ServiceError(REFUSED)
            if reviews.claim_interaction(session, team_id, view_key(view), "config"):
                config.update(session, team_id, wanted, actor=user_id)
                for name in revoke:
                    tokens.revoke(session, team_id, name, actor=user_id, now=deps_of(context).now())
                if new_token:
                    try:
                        token = tokens.create(session, team_id, new_token, actor=user_id)
                    except ServiceError as exc:
                        raise config.ConfigRefused({"token": str(exc)}) from exc
    except config.ConfigRefused as refused:
        ack(response_action="errors", errors={FIELD_BLOCK[k].value: v for k, v in refused.errors.items()})
        return
    if token:
        ack(response_action="update", view=token_view(new_token, token))
        return
    ack()


def register(app: Any) -> None:
    app.view_submission(CallbackId.CONFIG.value)(listen(submit_config))
