"""Projection fences: which workflow task wrote a case row or an event row.

The projection runs as a local activity inside the workflow task that takes the event; a task can
write and then fail, and its retry may take another event with the same seq, or none. Each write
carries its task's fence (workflows/case_workflow.py `projection_fence`), which grows across task
retries and later tasks: a write with a lower fence never replaces a row written with a higher one.
Rows written before (and by histories from before "project-locally") have none: the lowest fence.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-04
"""

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Plain ADD COLUMN: a batch (recreated) table on SQLite would lose the events' position trigger.
    op.add_column("cases", sa.Column("fence", sa.String(40)))
    op.add_column("events", sa.Column("fence", sa.String(40)))


def downgrade() -> None:
    op.drop_column("events", "fence")
    op.drop_column("cases", "fence")
