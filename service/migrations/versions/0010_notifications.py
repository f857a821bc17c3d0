"""Notifications: users' channel addresses and preferences, the inbox, and the delivery log of every attempt.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-03
"""

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

TIME = sa.DateTime(timezone=True)
JSON_DOC = sa.JSON().with_variant(sa.dialects.postgresql.JSONB(), "postgresql")
ADDRESSES = (("email", 200), ("wecom_id", 100), ("dingtalk_id", 100), ("feishu_id", 100))


def upgrade() -> None:
    for name, length in ADDRESSES:
        op.add_column("users", sa.Column(name, sa.String(length)))
    op.create_table(
        "notification_preferences",
        sa.Column("user_name", sa.String(100), primary_key=True),
        sa.Column("kind", sa.String(32), primary_key=True),
    )
    op.create_table(
        "inbox_messages",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("message_id", sa.String(100), nullable=False),
        sa.Column("user_name", sa.String(100), nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("case_id", sa.String(64)),
        sa.Column("subject", sa.Text, nullable=False),
        sa.Column("text", sa.Text, nullable=False),
        sa.Column("url", sa.Text),
        sa.Column("created_at", TIME, nullable=False),
        sa.Column("read_at", TIME),
    )
    op.create_index("ux_inbox_message_user", "inbox_messages", ["message_id", "user_name"], unique=True)
    op.create_index("ix_inbox_user", "inbox_messages", ["user_name", "read_at", "id"])
    op.create_table(
        "message_deliveries",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("message_id", sa.String(100), nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("case_id", sa.String(64)),
        sa.Column("channel", sa.String(100), nullable=False),
        sa.Column("language", sa.String(8), nullable=False),
        sa.Column("recipients", JSON_DOC, nullable=False),
        sa.Column("attempt", sa.Integer, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("status_code", sa.Integer),
        sa.Column("error", sa.String(300)),
        sa.Column("at", TIME, nullable=False),
    )
    op.create_index("ux_message_deliveries_attempt", "message_deliveries", ["message_id", "channel", "language", "attempt", "status"], unique=True)
    op.create_index("ix_message_deliveries_case", "message_deliveries", ["case_id", "id"])


def downgrade() -> None:
    op.drop_table("message_deliveries")
    op.drop_table("inbox_messages")
    op.drop_table("notification_preferences")
    with op.batch_alter_table("users") as batch:
        for name, _ in reversed(ADDRESSES):
            batch.drop_column(name)
