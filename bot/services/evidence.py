"""Evidence from the eval pipeline, stored per workspace, judged against the release policy."""

from __future__ import annotations

from sqlalchemy.orm import Session

from bot.packet.model import CohortEvidence
from models import Assessment


def cohort_section(session: Session, assessment: Assessment) -> CohortEvidence | None:
    """The packet's cohort evidence for this review (None while no evidence is stored)."""
    return None
