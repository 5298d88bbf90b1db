"""SQLAlchemy tables, one module per aggregate."""

from models.assessment import Assessment, ItemMark, MarkChange
from models.audit import AuditEvent, AuditHead, AuditImmutable
from models.base import NAMING_CONVENTION, Base, UTCDateTime, utcnow
from models.checklist import ChecklistSnapshot
from models.evidence import EvidenceRecord, MarkSuggestion, PolicyRecord
from models.golive import GoLive, WatchCheckin
from models.installation import slack_bots, slack_installations, slack_oauth_states
from models.interaction import ProcessedInteraction
from models.outbox import OutboxMessage
from models.packet import PacketRecord, RolloutPlan, TraceExample
from models.person import Person
from models.proposal import DueProposal
from models.signoff import ApiToken, Approval, Approver, Waiver, WorkspaceConfig
from models.surface import Surface
from models.workspace import AuditPurgePermit, Workspace, WorkspaceTombstone

__all__ = [
    "ApiToken",
    "Approval",
    "Approver",
    "Waiver",
    "WorkspaceConfig",
    "NAMING_CONVENTION",
    "Assessment",
    "AuditEvent",
    "AuditHead",
    "AuditImmutable",
    "Base",
    "ChecklistSnapshot",
    "EvidenceRecord",
    "MarkSuggestion",
    "PacketRecord",
    "PolicyRecord",
    "RolloutPlan",
    "TraceExample",
    "GoLive",
    "ItemMark",
    "MarkChange",
    "DueProposal",
    "OutboxMessage",
    "Person",
    "ProcessedInteraction",
    "Surface",
    "UTCDateTime",
    "WatchCheckin",
    "Workspace",
    "WorkspaceTombstone",
    "AuditPurgePermit",
    "slack_bots",
    "slack_installations",
    "slack_oauth_states",
    "utcnow",
]
