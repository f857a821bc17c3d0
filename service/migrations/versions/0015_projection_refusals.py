"""Projection refusals: the worker records each change the read model refused for good, so that the
API's /health reports it when the two run in separate processes (`casework serve` included).

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-04
"""

import sqlalchemy as sa
from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "projection_refusals",
        sa.Column("case_id", sa.String(64), primary_key=True),
        sa.Column("seq", sa.Integer, primary_key=True),
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_projection_refusals_at", "projection_refusals", ["at"])


def downgrade() -> None:
    op.drop_table("projection_refusals")
