"""KPI facts for handling time without waiting for the customer, and every response's time.

`handling_seconds` keeps its column and now leaves out the time waiting for the customer; the cases
get the number of responses to the customer and their total seconds, which the KPI index covers too.
Existing rows get null and are filled in by their next event or `casework reconcile`.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-03
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

KPI_INDEX_COLUMNS_0006 = ("created_at", "kind", "category", "priority", "owner", "team", "first_response_seconds", "first_response_late",
                          "handling_seconds", "closed_by", "closed_at", "reopen_count", "satisfied", "score", "ever_breached")  # fmt: skip
KPI_INDEX_COLUMNS = (*KPI_INDEX_COLUMNS_0006, "responses", "response_seconds")


def upgrade() -> None:
    with op.batch_alter_table("cases") as batch:
        batch.add_column(sa.Column("responses", sa.Integer))
        batch.add_column(sa.Column("response_seconds", sa.Float))
    op.drop_index("ix_cases_kpis", "cases")
    op.create_index("ix_cases_kpis", "cases", list(KPI_INDEX_COLUMNS))


def downgrade() -> None:
    op.drop_index("ix_cases_kpis", "cases")
    op.create_index("ix_cases_kpis", "cases", list(KPI_INDEX_COLUMNS_0006))
    with op.batch_alter_table("cases") as batch:
        batch.drop_column("response_seconds")
        batch.drop_column("responses")
