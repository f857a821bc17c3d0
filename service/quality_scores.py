"""An agent's quality score over a period, as assessments and reviews read it: the checks of cases
closed in [start, end) that are settled (final: the appeal window passed; or decided on appeal),
each total scaled to 0–100 by the maximum of the scorecard it was scored on (the rubric its
snapshot keeps; a check sampled before checks kept theirs: `out_of`, the rubric in force).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from service.tables import quality_checks
from states.quality import CheckStatus
from states.scorecard import parse_rubric

SETTLED = (CheckStatus.FINAL, CheckStatus.DECIDED)
FULL_MARKS = 100.0


async def mean_quality_scores(
    engine: AsyncEngine, start: datetime, end: datetime, agents: Iterable[str] | None = None, out_of: float = FULL_MARKS
) -> dict[str, tuple[float, int]]:
    """{agent: (mean total as 0–100, settled checks)} for agents with at least one settled check."""
    checks = quality_checks.c
    statement = select(checks.agent_name, checks.total, checks.snapshot).where(
        *_in_period(start, end, agents), checks.status.in_(SETTLED), checks.total.is_not(None)
    )
    async with engine.connect() as connection:
        rows = (await connection.execute(statement)).all()
    scores: dict[str, list[float]] = defaultdict(list)
    for agent, total, snapshot in rows:
        scores[agent].append(float(total) * FULL_MARKS / _max_total(snapshot, out_of))
    return {agent: (sum(given) / len(given), len(given)) for agent, given in scores.items()}


def _max_total(snapshot: Mapping[str, Any] | None, out_of: float) -> float:
    rubric = (snapshot or {}).get("rubric")
    return parse_rubric(rubric).max_total if rubric else out_of


async def pending_quality_checks(engine: AsyncEngine, start: datetime, end: datetime, agents: Iterable[str] | None = None) -> dict[str, int]:
    """{agent: checks not settled yet} (sampled, scored within the appeal window, or appealed): figures that may still move."""
    checks = quality_checks.c
    statement = select(checks.agent_name, func.count()).where(*_in_period(start, end, agents), checks.status.not_in(SETTLED))
    async with engine.connect() as connection:
        rows = (await connection.execute(statement.group_by(checks.agent_name))).all()
    return {agent: int(count) for agent, count in rows}


def _in_period(start: datetime, end: datetime, agents: Iterable[str] | None) -> list:
    checks = quality_checks.c
    conditions = [checks.case_closed_at >= start, checks.case_closed_at < end]
    if agents is not None:
        conditions.append(checks.agent_name.in_(list(agents)))
    return conditions
