"""The read model: cases, events, links, action items, deliveries, idempotency keys.

Revision ID: 0001
Revises:
Create Date: 2026-11-23
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

JSON_DOC = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
TIME = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "cases",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("priority", sa.String(8), nullable=False),
        sa.Column("owner", sa.String(200)),
        sa.Column("customer_id", sa.String(200)),
        sa.Column("created_at", TIME, nullable=False),
        sa.Column("updated_at", TIME, nullable=False),
        sa.Column("closed_at", TIME),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("sla_due", TIME),
        sa.Column("breached", sa.Boolean, nullable=False),
        sa.Column("snapshot", JSON_DOC, nullable=False),
    )
    for name, columns in [
        ("ix_cases_created", ["created_at", "id"]),
        ("ix_cases_kind_created", ["kind", "created_at", "id"]),
        ("ix_cases_state_created", ["state", "created_at", "id"]),
        ("ix_cases_priority_created", ["priority", "created_at", "id"]),
        ("ix_cases_owner_created", ["owner", "created_at", "id"]),
        ("ix_cases_customer_created", ["customer_id", "created_at", "id"]),
        ("ix_cases_sla_due", ["sla_due", "id"]),
        ("ix_cases_breached_created", ["breached", "created_at", "id"]),
    ]:
        op.create_index(name, "cases", columns)
    op.create_table(
        "events",
        sa.Column("case_id", sa.String(64), primary_key=True),
        sa.Column("seq", sa.Integer, primary_key=True),
        sa.Column("action", sa.String(64), nullable=False),
        sa.Column("from_state", sa.String(16)),
        sa.Column("to_state", sa.String(16), nullable=False),
        sa.Column("actor_name", sa.String(200), nullable=False),
        sa.Column("actor_role", sa.String(32)),
        sa.Column("at", TIME, nullable=False),
        sa.Column("note", sa.Text),
        sa.Column("data", JSON_DOC, nullable=False),
        sa.Column("request_id", sa.String(64)),
        sa.Column("prev_hash", sa.String(64)),
        sa.Column("hash", sa.String(64)),
    )
    op.create_index("ix_events_at", "events", ["at"])
    op.create_table(
        "links",
        sa.Column("case_id", sa.String(64), primary_key=True),
        sa.Column("other_case_id", sa.String(64), primary_key=True),
        sa.Column("relation", sa.String(32), primary_key=True),
    )
    op.create_index("ix_links_other", "links", ["other_case_id"])
    op.create_table(
        "action_items",
        sa.Column("case_id", sa.String(64), primary_key=True),
        sa.Column("item_id", sa.String(64), primary_key=True),
        sa.Column("title", sa.Text, nullable=False),
        sa.Column("owner", sa.String(200), nullable=False),
        sa.Column("due", TIME, nullable=False),
        sa.Column("done", sa.Boolean, nullable=False),
        sa.Column("outcome", sa.Text),
    )
    op.create_table(
        "deliveries",
        sa.Column("case_id", sa.String(64), primary_key=True),
        sa.Column("seq", sa.Integer, primary_key=True),
        sa.Column("attempt", sa.Integer, primary_key=True),
        sa.Column("at", TIME, nullable=False),
        sa.Column("outcome", sa.String(16), nullable=False),
        sa.Column("status_code", sa.Integer),
        sa.Column("error", sa.String(200)),
    )
    op.create_table(
        "idempotency_keys",
        sa.Column("key_hash", sa.String(64), primary_key=True),
        sa.Column("request_hash", sa.String(64), nullable=False),
        sa.Column("case_id", sa.String(64), nullable=False),
        sa.Column("created_at", TIME, nullable=False),
        sa.Column("status", sa.Integer),
        sa.Column("response", sa.LargeBinary),
        sa.Column("etag", sa.String(32)),
    )


def downgrade() -> None:
    for table in ("idempotency_keys", "deliveries", "action_items", "links", "events", "cases"):
        op.drop_table(table)
