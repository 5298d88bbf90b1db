"""Rollout packets (trace examples, rollout plans, packets), evidence sets, release policies, suggestions

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-27 04:01:03.996454
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "evidence_sets",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("system", sa.String(length=120), nullable=False),
        sa.Column("version", sa.String(length=80), nullable=False),
        sa.Column("content_hash", sa.String(length=64), nullable=False),
        sa.Column("body", sa.JSON(), nullable=False),
        sa.Column("row_count", sa.Integer(), nullable=False),
        sa.Column("pushed_by", sa.String(length=120), nullable=False),
        sa.Column("pushed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("team_id", sa.String(length=32), nullable=False),
        sa.ForeignKeyConstraint(
            ["team_id"], ["workspaces.team_id"], name=op.f("fk_evidence_sets_team_id_workspaces")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_evidence_sets")),
        sa.UniqueConstraint("team_id", "content_hash", name=op.f("uq_evidence_sets_team_id_content_hash")),
    )
    with op.batch_alter_table("evidence_sets", schema=None) as batch_op:
        batch_op.create_index(
            "ix_evidence_sets_system_version", ["team_id", "system", "version"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_evidence_sets_team_id"), ["team_id"], unique=False)

    op.create_table(
        "release_policies",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("system", sa.String(length=120), nullable=True),
        sa.Column("policy_id", sa.String(length=120), nullable=False),
        sa.Column("version", sa.String(length=80), nullable=False),
        sa.Column("content_hash", sa.String(length=64), nullable=False),
        sa.Column("body", sa.JSON(), nullable=False),
        sa.Column("stored_by", sa.String(length=120), nullable=False),
        sa.Column("stored_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("team_id", sa.String(length=32), nullable=False),
        sa.ForeignKeyConstraint(
            ["team_id"], ["workspaces.team_id"], name=op.f("fk_release_policies_team_id_workspaces")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_release_policies")),
        sa.UniqueConstraint("team_id", "content_hash", name=op.f("uq_release_policies_team_id_content_hash")),
    )
    with op.batch_alter_table("release_policies", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_release_policies_team_id"), ["team_id"], unique=False)

    op.create_table(
        "mark_suggestions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("assessment_id", sa.Integer(), nullable=False),
        sa.Column("item_id", sa.String(length=48), nullable=False),
        sa.Column("evidence_id", sa.Integer(), nullable=False),
        sa.Column("mark", sa.String(length=12), nullable=True),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("decided_by", sa.String(length=32), nullable=True),
        sa.Column("decision_reason", sa.Text(), nullable=True),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("team_id", sa.String(length=32), nullable=False),
        sa.ForeignKeyConstraint(
            ["assessment_id"], ["assessments.id"], name=op.f("fk_mark_suggestions_assessment_id_assessments")
        ),
        sa.ForeignKeyConstraint(
            ["evidence_id"], ["evidence_sets.id"], name=op.f("fk_mark_suggestions_evidence_id_evidence_sets")
        ),
        sa.ForeignKeyConstraint(
            ["team_id"], ["workspaces.team_id"], name=op.f("fk_mark_suggestions_team_id_workspaces")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_mark_suggestions")),
        sa.UniqueConstraint(
            "assessment_id",
            "item_id",
            "evidence_id",
            name=op.f("uq_mark_suggestions_assessment_id_item_id_evidence_id"),
        ),
    )
    with op.batch_alter_table("mark_suggestions", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_mark_suggestions_assessment_id"), ["assessment_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_mark_suggestions_team_id"), ["team_id"], unique=False)

    op.create_table(
        "packets",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("assessment_id", sa.Integer(), nullable=False),
        sa.Column("content_hash", sa.String(length=64), nullable=False),
        sa.Column("markdown", sa.Text(), nullable=False),
        sa.Column("html", sa.Text(), nullable=False),
        sa.Column("generated_by", sa.String(length=64), nullable=False),
        sa.Column("generated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("team_id", sa.String(length=32), nullable=False),
        sa.ForeignKeyConstraint(
            ["assessment_id"], ["assessments.id"], name=op.f("fk_packets_assessment_id_assessments")
        ),
        sa.ForeignKeyConstraint(
            ["team_id"], ["workspaces.team_id"], name=op.f("fk_packets_team_id_workspaces")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_packets")),
    )
    with op.batch_alter_table("packets", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_packets_assessment_id"), ["assessment_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_packets_team_id"), ["team_id"], unique=False)

    op.create_table(
        "rollout_plans",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("assessment_id", sa.Integer(), nullable=False),
        sa.Column("staged_rollout", sa.Text(), nullable=False),
        sa.Column("rollback", sa.Text(), nullable=False),
        sa.Column("updated_by", sa.String(length=32), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("team_id", sa.String(length=32), nullable=False),
        sa.ForeignKeyConstraint(
            ["assessment_id"], ["assessments.id"], name=op.f("fk_rollout_plans_assessment_id_assessments")
        ),
        sa.ForeignKeyConstraint(
            ["team_id"], ["workspaces.team_id"], name=op.f("fk_rollout_plans_team_id_workspaces")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_rollout_plans")),
        sa.UniqueConstraint("assessment_id", name=op.f("uq_rollout_plans_assessment_id")),
    )
    with op.batch_alter_table("rollout_plans", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_rollout_plans_team_id"), ["team_id"], unique=False)

    op.create_table(
        "trace_examples",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("assessment_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=12), nullable=False),
        sa.Column("url", sa.String(length=2000), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("added_by", sa.String(length=32), nullable=False),
        sa.Column("added_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("team_id", sa.String(length=32), nullable=False),
        sa.ForeignKeyConstraint(
            ["assessment_id"], ["assessments.id"], name=op.f("fk_trace_examples_assessment_id_assessments")
        ),
        sa.ForeignKeyConstraint(
            ["team_id"], ["workspaces.team_id"], name=op.f("fk_trace_examples_team_id_workspaces")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_trace_examples")),
    )
    with op.batch_alter_table("trace_examples", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_trace_examples_assessment_id"), ["assessment_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_trace_examples_team_id"), ["team_id"], unique=False)

    with op.batch_alter_table("golives", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("watch_rules", sa.JSON(), nullable=False, server_default=sa.text("'[]'"))
        )


def downgrade() -> None:
    with op.batch_alter_table("golives", schema=None) as batch_op:
        batch_op.drop_column("watch_rules")

    with op.batch_alter_table("trace_examples", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_trace_examples_team_id"))
        batch_op.drop_index(batch_op.f("ix_trace_examples_assessment_id"))

    op.drop_table("trace_examples")
    with op.batch_alter_table("rollout_plans", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_rollout_plans_team_id"))

    op.drop_table("rollout_plans")
    with op.batch_alter_table("packets", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_packets_team_id"))
        batch_op.drop_index(batch_op.f("ix_packets_assessment_id"))

    op.drop_table("packets")
    with op.batch_alter_table("mark_suggestions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_mark_suggestions_team_id"))
        batch_op.drop_index(batch_op.f("ix_mark_suggestions_assessment_id"))

    op.drop_table("mark_suggestions")
    with op.batch_alter_table("release_policies", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_release_policies_team_id"))

    op.drop_table("release_policies")
    with op.batch_alter_table("evidence_sets", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_evidence_sets_team_id"))
        batch_op.drop_index("ix_evidence_sets_system_version")

    op.drop_table("evidence_sets")
