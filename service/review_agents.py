"""The review's table of agents (seed 000 §3(1)1): for each agent who owns cases reported in the
period, the cases they served and solved, the complaints they handled, their response and handling
times, their customers' satisfaction and their mean quality score, judged on their team's targets."""

from __future__ import annotations

from typing import Any

from sqlalchemy import case, func, select

from service.kpis import KpiQuery, Kpis
from service.quality_scores import mean_quality_scores
from service.read_model import ReadModel
from service.tables import cases, team_members
from states.machine import DISMISSING_ACTIONS
from states.vocabulary import Kind

# The KPIs (service/kpis.py) each agent's row takes as they are, grouped by owner.
AGENT_KPIS = ("first_response_mean_seconds", "response_mean_seconds", "handling_mean_seconds", "satisfaction_mean_score", "satisfied_share")


async def agent_rows(read_model: ReadModel, kpis: Kpis, query: KpiQuery) -> list[dict[str, Any]]:
    """One row per owner of cases reported in [query.start, query.end), by name.

    `cases`: cases owned (the volume); `solved`: of those, closed now other than by dismissal (as the
    resolution rate counts them); `complaints_handled`: complaints among them closed now, dismissed
    too; `quality_mean_score`: the mean total of the quality checks of their cases closed in the
    period (`quality_checks` of them), null when none was scored; `targets`: each targeted KPI of
    theirs judged on the targets of their team (the first by name, when in several; else the
    department's), and `missed` the KPIs that missed theirs."""
    report = await kpis.report(KpiQuery(query.start, query.end, group_by="owner"))
    figures = {group["key"]: group["kpis"] for group in report["groups"] if group["key"] is not None}
    counts = await _closed_counts(read_model, query)
    quality = await mean_quality_scores(read_model.engine, query.start, query.end, list(figures))
    teams = await _first_teams(read_model, list(figures))
    rows = []
    for agent in sorted(figures):
        solved, complaints = counts.get(agent, (0, 0))
        mean_quality, checks = quality.get(agent, (None, 0))
        judged = kpis.targets.judge(figures[agent], teams.get(agent))
        rows.append(
            {
                "name": agent,
                "cases": figures[agent]["volume"],
                "solved": solved,
                "complaints_handled": complaints,
                **{name: figures[agent][name] for name in AGENT_KPIS},
                "quality_mean_score": mean_quality,
                "quality_checks": checks,
                "targets": judged,
                "missed": [name for name, verdict in judged.items() if verdict["met"] is False],
            }
        )
    return rows


async def _closed_counts(read_model: ReadModel, query: KpiQuery) -> dict[str, tuple[int, int]]:
    closed = cases.c.closed_at.is_not(None)
    statement = (
        select(
            cases.c.owner,
            func.sum(case((closed & cases.c.closed_by.not_in(DISMISSING_ACTIONS), 1), else_=0)),
            func.sum(case((closed & (cases.c.kind == Kind.COMPLAINT), 1), else_=0)),
        )
        .where(cases.c.created_at >= query.start, cases.c.created_at < query.end, cases.c.owner.is_not(None), cases.c.reopen_count.is_not(None))
        .group_by(cases.c.owner)
    )
    async with read_model.engine.connect() as connection:
        rows = (await connection.execute(statement)).all()
    return {owner: (int(solved or 0), int(complaints or 0)) for owner, solved, complaints in rows}


async def _first_teams(read_model: ReadModel, agents: list[str]) -> dict[str, str]:
    statement = (
        select(team_members.c.user_name, func.min(team_members.c.team)).where(team_members.c.user_name.in_(agents)).group_by(team_members.c.user_name)
    )
    async with read_model.engine.connect() as connection:
        return {name: team for name, team in (await connection.execute(statement)).all()}
