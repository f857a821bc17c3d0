"""KPI roll-ups: daily and monthly cells per combination of dimensions, each case's contribution,
and the zone their days are cut in; filled from the cases already projected.

The zone is the one `casework db upgrade` passes (the department's, CASEWORK_TIMEZONE), else UTC;
an upgrade with another zone cuts them again (service/kpi_rollups.py `follow_zone`).

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-04
"""

import sqlalchemy as sa
from alembic import op

from service import kpi_rollups

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "kpi_rollups",
        sa.Column("cuboid", sa.String(40), primary_key=True),
        sa.Column("grain", sa.String(5), primary_key=True),
        sa.Column("period", sa.Date, primary_key=True),
        sa.Column("kind", sa.String(32), primary_key=True),
        sa.Column("category", sa.String(32), primary_key=True),
        sa.Column("priority", sa.String(8), primary_key=True),
        sa.Column("owner", sa.String(200), primary_key=True),
        sa.Column("team", sa.String(100), primary_key=True),
        sa.Column("figures", sa.Text, nullable=False),
    )
    op.create_index("ix_kpi_rollups_owner", "kpi_rollups", ["cuboid", "owner", "grain", "period"])
    op.create_index("ix_kpi_rollups_team", "kpi_rollups", ["cuboid", "team", "grain", "period"])
    op.create_table(
        "kpi_rollup_cases",
        sa.Column("case_id", sa.String(64), primary_key=True),
        sa.Column("contribution", sa.Text, nullable=False),
    )
    op.create_table("kpi_rollup_zone", sa.Column("zone", sa.String(64), primary_key=True))
    config = op.get_context().config
    zone = (config.attributes.get("timezone") if config else None) or kpi_rollups.DEFAULT_ZONE
    kpi_rollups.rebuild(op.get_bind(), zone)


def downgrade() -> None:
    op.drop_table("kpi_rollup_zone")
    op.drop_table("kpi_rollup_cases")
    op.drop_table("kpi_rollups")
