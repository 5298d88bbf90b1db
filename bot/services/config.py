"""A workspace's settings: release channels, approver roles, the admin group, how long a waiver may last.

Only workspace admins (Slack's own admins and owners) and the configured admin group may change them;
every change is in the audit trail with what it was before.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.services import audit
from bot.services.errors import ServiceError
from bot.services.workspaces import ensure_workspace
from models import WorkspaceConfig
from models.signoff import DEFAULT_ROLES

ROLE = re.compile(r"^[a-z][a-z0-9-]{0,39}$")
MAX_ROLES = 6
MAX_WAIVER_DAYS = 90
DEFAULT_WAIVER_DAYS = 14


@dataclass(frozen=True)
class Config:
    release_channels: list[str] = field(default_factory=list)
    roles: list[str] = field(default_factory=lambda: list(DEFAULT_ROLES))
    admins: list[str] = field(default_factory=list)
    waiver_max_days: int = DEFAULT_WAIVER_DAYS
    join_channels: bool = False  # may Readiness join a public channel by itself when a review needs it
    golive_without_signoff: bool = False  # may a go-live be recorded before the sign-off is approved

    def as_dict(self) -> dict[str, object]:
        return {"release_channels": list(self.release_channels), "roles": list(self.roles),
                "admins": list(self.admins), "waiver_max_days": self.waiver_max_days,
                "join_channels": self.join_channels, "golive_without_signoff": self.golive_without_signoff}


class ConfigRefused(ServiceError):
    """Field-by-field reasons (keys: release_channels, roles, admins, waiver_max_days)."""

    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__(" ".join(errors.values()))
        self.errors = errors


def _row(session: Session, team_id: str) -> WorkspaceConfig | None:
    return session.scalar(select(WorkspaceConfig).where(WorkspaceConfig.team_id == team_id))


def get(session: Session, team_id: str) -> Config:
    row = _row(session, team_id)
    if row is None:
        return Config()
    return Config(list(row.release_channels or []), list(row.roles or DEFAULT_ROLES), list(row.admins or []),
                  row.waiver_max_days or DEFAULT_WAIVER_DAYS, bool(row.join_channels),
                  bool(row.golive_without_signoff))


def may_configure(config: Config, user_id: str, *, workspace_admin: bool) -> bool:
    return workspace_admin or user_id in config.admins


def parse_roles(text: str | None) -> list[str]:
    return [r.strip().lower() for r in re.split(r"[,\n]", text or "") if r.strip()]


def validate(new: Config) -> dict[str, str]:
    errors: dict[str, str] = {}
    bad = [r for r in new.roles if not ROLE.match(r)]
    if not new.roles:
        errors["roles"] = "Name at least one approver role, for example quality, policy, operations."
    elif bad:
        errors["roles"] = (f"{', '.join(bad[:3])}: a role is a lowercase word (letters, digits, dashes), "
                           "at most 40 characters.")
    elif len(set(new.roles)) != len(new.roles):
        errors["roles"] = "Each role can appear once."
    elif len(new.roles) > MAX_ROLES:
        errors["roles"] = f"At most {MAX_ROLES} roles."
    if not 1 <= new.waiver_max_days <= MAX_WAIVER_DAYS:
        errors["waiver_max_days"] = f"A waiver may last between 1 and {MAX_WAIVER_DAYS} days."
    if len(new.release_channels) > 20:
        errors["release_channels"] = "At most 20 release channels."
    if len(new.admins) > 50:
        errors["admins"] = "At most 50 people in the admin group."
    return errors


def update(session: Session, team_id: str, new: Config, *, actor: str) -> Config:
    """Validate and store; a refusal (field by field) changes nothing. Returns the stored config."""
    errors = validate(new)
    if errors:
        raise ConfigRefused(errors)
    ensure_workspace(session, team_id)
    before = get(session, team_id)
    row = _row(session, team_id)
    if row is None:
        row = WorkspaceConfig(team_id=team_id)
        session.add(row)
    row.release_channels, row.roles = list(new.release_channels), list(new.roles)
    row.admins, row.waiver_max_days = list(new.admins), new.waiver_max_days
    row.join_channels, row.golive_without_signoff = new.join_channels, new.golive_without_signoff
    if before != new:
        audit.record(session, team_id, "config.changed", actor=actor, before=before.as_dict(), after=new.as_dict())
    return new


def check_release_channel(session: Session, team_id: str, channel: str | None) -> str | None:
    """Why ``channel`` cannot be a review's release channel, or None. With no list configured, any channel."""
    allowed = get(session, team_id).release_channels
    if channel and allowed and channel not in allowed:
        return (f"Release alerts go only to this workspace's {len(allowed)} configured release channel(s): "
                "pick one of them (`/readiness config` lists them).")
    return None
