"""KPI facts on each case, the stored weekly and monthly reviews, and an index to expire
idempotency keys by age.

Rows projected before this revision get the facts on their next event, or at once with
`casework reconcile`.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

JSON_DOC = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
TIME = sa.DateTime(timezone=True)
KPI_INDEX_COLUMNS = ("created_at", "kind", "category", "priority", "owner", "first_response_seconds", "first_response_late",
                     "handling_seconds", "closed_by", "closed_at", "reopen_count", "satisfied", "score", "ever_breached")  # fmt: skip


def upgrade() -> None:
    with op.batch_alter_table("cases") as cases:
        cases.add_column(sa.Column("category", sa.String(32)))
        cases.add_column(sa.Column("first_response_seconds", sa.Float))
        cases.add_column(sa.Column("first_response_late", sa.Boolean))
        cases.add_column(sa.Column("handling_seconds", sa.Float))
        cases.add_column(sa.Column("closed_by", sa.String(64)))
        cases.add_column(sa.Column("reopen_count", sa.Integer))
        cases.add_column(sa.Column("satisfied", sa.Boolean))
        cases.add_column(sa.Column("score", sa.Integer))
        cases.add_column(sa.Column("ever_breached", sa.Boolean))
    # Covers every column a KPI query reads (service/kpis.py): the wide rows are never scanned.
    op.create_index("ix_cases_kpis", "cases", list(KPI_INDEX_COLUMNS))
    op.create_table(
        "reviews",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("cadence", sa.String(16), nullable=False),
        sa.Column("period_from", TIME, nullable=False),
        sa.Column("period_to", TIME, nullable=False),
        sa.Column("created_at", TIME, nullable=False),
        sa.Column("created_by", sa.String(200), nullable=False),
        sa.Column("document", JSON_DOC, nullable=False),
    )
    op.create_index("ix_reviews_period", "reviews", ["period_from", "id"])
    op.create_index("ix_idempotency_keys_created", "idempotency_keys", ["created_at"])


def downgrade() -> None:
    op.drop_index("ix_idempotency_keys_created", "idempotency_keys")
    op.drop_table("reviews")
    op.drop_index("ix_cases_kpis", "cases")
    with op.batch_alter_table("cases") as cases:
        for name in (
            "ever_breached",
            "score",
            "satisfied",
            "reopen_count",
            "closed_by",
            "handling_seconds",
            "first_response_late",
            "first_response_seconds",
            "category",
        ):
            cases.drop_column(name)
