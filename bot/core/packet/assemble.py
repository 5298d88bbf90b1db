"""Fill a :class:`Packet` from plain inputs. Pure: no database, no Slack.

The database service and the assessment-file path both end here, so equal data gives an equal packet,
and an equal content hash, whichever way it was collected.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime

from bot.core.checklist import Checklist
from bot.core.packet.compare import checklist_rows, compare, gate_policy
from bot.core.packet.model import (
    ApproverEntry,
    CohortEvidence,
    History,
    MonitoringPlan,
    Packet,
    ReleasePolicy,
    TraceExample,
    TraceKind,
    Waiver,
    person,
)
from bot.core.scoring import MarkEntry

_KIND_ORDER = {kind: n for n, kind in enumerate(TraceKind)}


@dataclass(frozen=True)
class Side:
    """One assessment as the scorecard needs it: its checklist, marks, version and waived items."""

    checklist: Checklist
    marks: Mapping[str, MarkEntry]
    version: str
    waived: frozenset[str] = field(default_factory=frozenset)


def trace(kind: str, url: str, description: str | None, added_by: str | None,
          names: Mapping[str, str] | None = None) -> TraceExample:
    return TraceExample(
        kind=TraceKind(kind),
        url=url.strip(),
        description=(description or "").strip(),
        added_by=person(added_by, names) if added_by else None,
    )


def ordered_traces(traces: Iterable[TraceExample]) -> tuple[TraceExample, ...]:
    """Good, bad, escalation; within a kind by link and text: the order never depends on entry order."""
    return tuple(
        sorted(
            traces,
            key=lambda t: (_KIND_ORDER[t.kind], t.url, t.description, t.added_by.id if t.added_by else ""),
        )
    )


def _text(value: str | None) -> str | None:
    value = (value or "").strip()
    return value or None


def assemble(
    system: str,
    candidate: Side,
    *,
    today: date,
    now: datetime,
    baseline: Side | None = None,
    cohorts: Sequence[str] = (),
    waivers: Mapping[str, Waiver] | None = None,
    traces: Iterable[TraceExample] = (),
    staged_rollout: str | None = None,
    rollback: str | None = None,
    approvers: Sequence[ApproverEntry] = (),
    monitoring: MonitoringPlan | None = None,
    history: History | None = None,
    cohort: CohortEvidence | None = None,
    names: Mapping[str, str] | None = None,
) -> Packet:
    """The packet of ``candidate`` against ``baseline``. ``waivers`` are the candidate's live waivers by
    item id; ``today`` decides which gaps are overdue; ``now`` is the generation time (not hashed)."""
    waivers = dict(waivers or {})
    card = compare(
        candidate.checklist,
        candidate.marks,
        baseline.checklist if baseline else None,
        baseline.marks if baseline else None,
        waived=candidate.waived | set(waivers),
        baseline_waived=baseline.waived if baseline else (),
    )
    return Packet(
        system=system,
        version=candidate.version,
        baseline_version=baseline.version if baseline else None,
        cohorts=tuple(c for c in (x.strip() for x in cohorts) if c),
        scorecard=card,
        items=checklist_rows(candidate.checklist, candidate.marks, today=today, waivers=waivers, names=names),
        traces=ordered_traces(traces),
        policy=ReleasePolicy(
            gates=gate_policy(candidate.checklist),
            staged_rollout=_text(staged_rollout),
            rollback=_text(rollback),
            approvers=tuple(approvers),
        ),
        monitoring=monitoring,
        cohort=cohort,
        history=history or History(),
        generated_at=now,
    )
