"""Assessments (考核): per agent per month, quarter and year, and the log of every change to them.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-03
"""

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

TIME = sa.DateTime(timezone=True)
JSON_DOC = sa.JSON().with_variant(sa.dialects.postgresql.JSONB(), "postgresql")


def upgrade() -> None:
    op.create_table(
        "assessments",
        sa.Column("id", sa.String(100), primary_key=True),
        sa.Column("agent_name", sa.String(100), nullable=False),
        sa.Column("team", sa.String(100)),
        sa.Column("cadence", sa.String(16), nullable=False),
        sa.Column("period_key", sa.String(16), nullable=False),
        sa.Column("period_from", TIME, nullable=False),
        sa.Column("period_to", TIME, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("total", sa.Float),
        sa.Column("grade", sa.String(16)),
        sa.Column("created_at", TIME, nullable=False),
        sa.Column("updated_at", TIME, nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("document", JSON_DOC, nullable=False),
    )
    op.create_index("ix_assessments_period", "assessments", ["period_key", "agent_name"])
    op.create_index("ix_assessments_agent", "assessments", ["agent_name", "period_from"])
    op.create_table(
        "assessment_log",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("assessment_id", sa.String(100), nullable=False),
        sa.Column("at", TIME, nullable=False),
        sa.Column("actor", sa.String(200), nullable=False),
        sa.Column("actor_role", sa.String(32), nullable=False),
        sa.Column("change", sa.String(32), nullable=False),
        sa.Column("data", JSON_DOC, nullable=False),
    )
    op.create_index("ix_assessment_log_assessment", "assessment_log", ["assessment_id", "id"])


def downgrade() -> None:
    op.drop_table("assessment_log")
    op.drop_table("assessments")
