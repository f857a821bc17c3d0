"""An agent's mean quality score over a period, as assessments and reviews read it: the checks of
cases closed in [start, end) that have a score (after any appeal's decision)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from service.tables import quality_checks


async def mean_quality_scores(
    engine: AsyncEngine, start: datetime, end: datetime, agents: Iterable[str] | None = None
) -> dict[str, tuple[float, int]]:
    """{agent: (mean total, checks scored)} for agents with at least one scored check."""
    checks = quality_checks.c
    statement = (
        select(checks.agent_name, func.avg(checks.total), func.count())
        .where(checks.case_closed_at >= start, checks.case_closed_at < end, checks.total.is_not(None))
        .group_by(checks.agent_name)
    )
    if agents is not None:
        statement = statement.where(checks.agent_name.in_(list(agents)))
    async with engine.connect() as connection:
        rows = (await connection.execute(statement)).all()
    return {agent: (float(mean), int(count)) for agent, mean, count in rows}
