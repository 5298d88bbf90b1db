"""Release policies of a workspace: one per system, a workspace default, else the configured file.

Which policy judges a system's evidence, first found wins:
1. the latest policy stored for that system (``readiness policy push --system S``);
2. the latest workspace default (stored without a system);
3. the ``POLICY_PATH`` file, else the sample shipped in ``bot/samples/policy.yaml``.
A file policy that names another system does not apply (it says so instead of judging).
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.core.evidence import PolicyError, ReleasePolicy, load_policy
from bot.core.evidence.policy import policy_from_data
from bot.core.limits import MAX_SYSTEM
from bot.db import clock_now
from bot.errors import ConfigError
from bot.services import audit
from bot.services.errors import ServiceError
from bot.services.workspaces import ensure_workspace
from bot.settings import load_settings
from models import PolicyRecord

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ChosenPolicy:
    policy: ReleasePolicy
    source: str  # how it was chosen, for people: "stored for S", "workspace default", "file P", "shipped sample"


@dataclass(frozen=True)
class Stored:
    record: PolicyRecord
    created: bool


def store(session: Session, team_id: str, policy: ReleasePolicy, *, system: str | None, actor: str) -> Stored:
    """Store a policy for ``system`` (or the policy's own system), or as the workspace default.

    A policy stored for a system is bound to it (its ``system`` is set). Storing content that is already
    stored makes it the current one again.
    """
    system = (system or "").strip() or policy.system
    if policy.system is not None and system != policy.system:
        raise ServiceError(f"the policy is written for system {policy.system!r}, not {system!r}")
    if system is not None and len(system) > MAX_SYSTEM:
        raise ServiceError(f"system names are limited to {MAX_SYSTEM} characters")
    bound = policy if system is None or policy.system == system else policy.model_copy(update={"system": system})
    bound = policy_from_data(bound.model_dump(mode="json"))  # a fresh model: its hash covers the system
    ensure_workspace(session, team_id)
    now = clock_now(session)
    existing = session.scalar(select(PolicyRecord).where(
        PolicyRecord.team_id == team_id, PolicyRecord.content_hash == bound.content_hash))
    created = existing is None
    if existing is None:
        existing = PolicyRecord(team_id=team_id, system=system, policy_id=bound.id, version=bound.version,
                                content_hash=bound.content_hash, body=bound.model_dump(mode="json"),
                                stored_by=actor, stored_at=now)
        session.add(existing)
    else:
        existing.stored_by, existing.stored_at = actor, now
    session.flush()
    audit.record(session, team_id, "policy.stored", actor=actor, subject=system or "(workspace default)",
                 after={"policy": bound.id, "version": bound.version, "hash": bound.content_hash,
                        "again": not created})
    return Stored(existing, created)


def stored_for(session: Session, team_id: str, system: str | None) -> PolicyRecord | None:
    """The current stored policy of ``system`` (None: of the workspace default), without falling back."""
    query = select(PolicyRecord).where(PolicyRecord.team_id == team_id)
    query = query.where(PolicyRecord.system.is_(None) if system is None else PolicyRecord.system == system)
    return session.scalar(query.order_by(PolicyRecord.stored_at.desc(), PolicyRecord.id.desc()).limit(1))


def policy_for(session: Session, team_id: str, system: str, policy_path: Path | None = None) -> ChosenPolicy:
    """The policy that judges ``system`` in this workspace (see the module text). Raises ServiceError."""
    for candidate, source in ((system, f"stored for {system}"), (None, "the workspace default")):
        record = stored_for(session, team_id, candidate)
        if record is not None:
            policy = _from_record(record)
            return ChosenPolicy(policy, f"{source} ({policy.id} {policy.version})")
    path = policy_path if policy_path is not None else configured_path()
    policy = file_policy(path)
    source = f"file {path}" if path is not None else "the shipped sample"
    if policy.system is not None and policy.system != system:
        raise ServiceError(
            f"no release policy applies to {system}: this workspace stored none, and {source} is for "
            f"{policy.system}. Store one with `readiness policy push FILE --team {team_id} --system {system}`.")
    return ChosenPolicy(policy, f"{source} ({policy.id} {policy.version})")


_cache_lock = threading.Lock()
_records: dict[str, ReleasePolicy] = {}
_files: dict[tuple[str, float], ReleasePolicy] = {}


def _from_record(record: PolicyRecord) -> ReleasePolicy:
    with _cache_lock:
        cached = _records.get(record.content_hash)
    if cached is None:
        cached = policy_from_data(record.body, f"stored policy #{record.id}")
        with _cache_lock:
            _records[record.content_hash] = cached
    return cached


def file_policy(path: Path | None) -> ReleasePolicy:
    """The policy in ``path`` (None: the shipped sample), read again only when the file changes."""
    try:
        key = (str(path), path.stat().st_mtime) if path is not None else ("", 0.0)
    except OSError as exc:
        raise ServiceError(f"the release policy file {path} cannot be read ({exc.strerror})") from None
    with _cache_lock:
        cached = _files.get(key)
    if cached is None:
        try:
            cached = load_policy(path)
        except PolicyError as exc:
            raise ServiceError(f"the release policy file is not valid: {exc}") from None
        with _cache_lock:
            _files[key] = cached
    return cached


def configured_path() -> Path | None:
    """``POLICY_PATH`` from the environment (or .env), for callers that were given no settings."""
    try:
        return load_settings().policy_path
    except ConfigError as exc:
        log.warning("settings unreadable, using the shipped release policy: %s", exc)
        return None
