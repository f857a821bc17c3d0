"""KPI roll-ups: each cell's sketches stored as (bucket, count) pairs rather than a dense run of
counts from the first bucket to the last (a day's cell, a few values over hundreds of buckets,
decodes and adds several times faster). The upgrade cuts the roll-ups again from the cases, in the
zone they were cut in (a database coming from before 0014 has them already as pairs: 0014 runs
today's rebuild); the downgrade writes the cells back as dense runs. A case's contribution, one
bucket per sketch (`[bucket, 1]`), reads the same either way and is left as it is.

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-04
"""

import json
from datetime import date

import sqlalchemy as sa
from alembic import op

from service import kpi_rollups
from service.tables import kpi_rollups as cells

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None

SKETCHES = ("f", "h")
KEY = [cells.c[name] for name in ("cuboid", "grain", "period", "kind", "category", "priority", "owner", "team")]


def upgrade() -> None:
    connection = op.get_bind()
    kpi_rollups.rebuild(connection, kpi_rollups.stored_zone(connection) or kpi_rollups.DEFAULT_ZONE)


def downgrade() -> None:
    """Every cell's sketches written back as dense runs, a month of periods at a time (bounded memory)."""
    connection = op.get_bind()
    first, last = connection.execute(sa.select(sa.func.min(cells.c.period), sa.func.max(cells.c.period))).one()
    if first is None:
        return
    rewrite = sa.update(cells).where(*(column == sa.bindparam(f"k_{column.name}") for column in KEY)).values(figures=sa.bindparam("b_figures"))
    month = first.replace(day=1)
    while month <= last:
        following = date(month.year + month.month // 12, month.month % 12 + 1, 1)
        rows = connection.execute(sa.select(*KEY, cells.c.figures).where(cells.c.period >= month, cells.c.period < following))
        updates = []
        for row in rows.mappings():
            figures = json.loads(row["figures"])
            dense = {**figures, **{name: _run(figures[name]) for name in SKETCHES}}
            updates.append({**{f"k_{column.name}": row[column.name] for column in KEY}, "b_figures": json.dumps(dense)})
        if updates:
            connection.execute(rewrite, updates)
        month = following


def _run(pairs: list[int]) -> list[int]:
    """The first bucket's index, then every bucket's count up to the last's."""
    if not pairs:
        return []
    first, last = pairs[0], pairs[-2]
    counts = [0] * (last - first + 1)
    for index, count in zip(pairs[::2], pairs[1::2]):
        counts[index - first] = count
    return [first, *counts]
