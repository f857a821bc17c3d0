"""The department: teams and their members, away periods, the routing rules and a log of every change
to them; and the team each case is in.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-03
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

TIME = sa.DateTime(timezone=True)
JSON_DOC = sa.JSON().with_variant(sa.dialects.postgresql.JSONB(), "postgresql")
# 0002's covering index of the KPI queries, and the same with the team the KPIs now filter and group by.
KPI_INDEX_COLUMNS_0002 = ("created_at", "kind", "category", "priority", "owner", "first_response_seconds", "first_response_late",
                          "handling_seconds", "closed_by", "closed_at", "reopen_count", "satisfied", "score", "ever_breached")  # fmt: skip
KPI_INDEX_COLUMNS = ("created_at", "kind", "category", "priority", "owner", "team", "first_response_seconds", "first_response_late",
                     "handling_seconds", "closed_by", "closed_at", "reopen_count", "satisfied", "score", "ever_breached")  # fmt: skip


def upgrade() -> None:
    op.create_table(
        "teams",
        sa.Column("name", sa.String(100), primary_key=True),
        sa.Column("site", sa.String(100), nullable=False),
        sa.Column("assignment", sa.String(32), nullable=False),
        sa.Column("shifts", JSON_DOC),
        sa.Column("last_assigned", sa.String(100)),
        sa.Column("sla_policy", JSON_DOC),
        sa.Column("created_at", TIME, nullable=False),
        sa.Column("updated_at", TIME, nullable=False),
    )
    op.create_table(
        "team_members",
        sa.Column("team", sa.String(100), sa.ForeignKey("teams.name"), primary_key=True),
        sa.Column("user_name", sa.String(100), sa.ForeignKey("users.name"), primary_key=True),
        sa.Column("supervises", sa.Boolean, nullable=False),
    )
    op.create_index("ix_team_members_user", "team_members", ["user_name"])
    with op.batch_alter_table("users") as batch:
        batch.add_column(sa.Column("away_from", TIME))
        batch.add_column(sa.Column("away_to", TIME))
        batch.add_column(sa.Column("shifts", JSON_DOC))
    op.create_table(
        "department",
        sa.Column("key", sa.String(64), primary_key=True),
        sa.Column("value", JSON_DOC, nullable=False),
        sa.Column("updated_at", TIME, nullable=False),
    )
    op.create_table(
        "directory_changes",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("at", TIME, nullable=False),
        sa.Column("actor", sa.String(200), nullable=False),
        sa.Column("subject", sa.String(16), nullable=False),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("change", JSON_DOC, nullable=False),
    )
    op.create_index("ix_directory_changes_at", "directory_changes", ["at", "id"])
    with op.batch_alter_table("cases") as batch:
        batch.add_column(sa.Column("team", sa.String(100)))
    op.create_index("ix_cases_team_created", "cases", ["team", "created_at", "id"])
    op.drop_index("ix_cases_kpis", "cases")
    op.create_index("ix_cases_kpis", "cases", list(KPI_INDEX_COLUMNS))


def downgrade() -> None:
    op.drop_index("ix_cases_kpis", "cases")
    op.create_index("ix_cases_kpis", "cases", list(KPI_INDEX_COLUMNS_0002))
    op.drop_index("ix_cases_team_created", "cases")
    with op.batch_alter_table("cases") as batch:
        batch.drop_column("team")
    op.drop_table("directory_changes")
    op.drop_table("department")
    with op.batch_alter_table("users") as batch:
        batch.drop_column("shifts")
        batch.drop_column("away_to")
        batch.drop_column("away_from")
    op.drop_table("team_members")
    op.drop_table("teams")
