"""Quality checks (质检): one row per sampled case and its hash-chained events (service/tables.py
quality_checks, quality_check_events).

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-03
"""

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

TIME = sa.DateTime(timezone=True)
JSON_DOC = sa.JSON().with_variant(sa.dialects.postgresql.JSONB(), "postgresql")


def upgrade() -> None:
    op.create_table(
        "quality_checks",
        sa.Column("id", sa.String(100), primary_key=True),
        sa.Column("case_id", sa.String(64), nullable=False),
        sa.Column("agent_name", sa.String(100), nullable=False),
        sa.Column("reviewer", sa.String(100)),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("case_closed_at", TIME, nullable=False),
        sa.Column("sampled_at", TIME, nullable=False),
        sa.Column("scored_at", TIME),
        sa.Column("total", sa.Float),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("snapshot", JSON_DOC, nullable=False),
    )
    op.create_index("ix_quality_checks_agent_closed", "quality_checks", ["agent_name", "case_closed_at"])
    op.create_index("ix_quality_checks_reviewer_status", "quality_checks", ["reviewer", "status"])
    op.create_index("ix_quality_checks_case", "quality_checks", ["case_id"])
    op.create_table(
        "quality_check_events",
        sa.Column("check_id", sa.String(100), primary_key=True),
        sa.Column("seq", sa.Integer, primary_key=True),
        sa.Column("action", sa.String(32), nullable=False),
        sa.Column("from_status", sa.String(16)),
        sa.Column("to_status", sa.String(16), nullable=False),
        sa.Column("actor_name", sa.String(200), nullable=False),
        sa.Column("actor_role", sa.String(32)),
        sa.Column("at", TIME, nullable=False),
        sa.Column("note", sa.Text),
        sa.Column("data", JSON_DOC, nullable=False),
        sa.Column("prev_hash", sa.String(64), nullable=False),
        sa.Column("hash", sa.String(64), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("quality_check_events")
    op.drop_table("quality_checks")
