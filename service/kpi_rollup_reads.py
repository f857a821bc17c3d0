"""A period's KPI tallies from the roll-ups: whole months and days from their cells, the part of a
day at either end of the period from the cases themselves (a few hundred rows)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from fractions import Fraction
from typing import Any

from sqlalchemy import RowMapping, and_, or_, select
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from service.kpi_rollups import CUBOIDS, DIMENSIONS, FACT_COLUMNS, MEASURES, NONE, SUMS, Tally, stored_zone
from service.tables import cases, kpi_rollups, teams
from states import quantile_sketch
from states.case import as_utc


class RollupReader:
    def __init__(self, engine: AsyncEngine, zone: tzinfo):
        self._engine = engine
        self._zone = zone
        self._zone_checked = False

    async def tallies(
        self, filters: Mapping[str, str], start: datetime, end: datetime, group_by: str | None, with_volumes: bool
    ) -> tuple[dict[Any, Tally], dict[tuple[str, str | None], int]] | None:
        """A tally per group (None: no grouping) over the cases reported in [start, end) that pass `filters`,
        and with_volumes, their volumes per ("kind", value) and ("category", value).
        None when no cuboid holds the dimensions asked for, or the roll-ups are cut in another zone."""
        needed = {"team" if name == "site" else name for name in filters}
        if group_by is not None:
            needed.add("team" if group_by == "site" else group_by)
        if with_volumes:
            needed |= {"kind", "category"}
        cuboid = next((cuboid for cuboid in CUBOIDS if needed <= set(cuboid)), None)
        if cuboid is None:
            return None
        async with self._engine.connect() as connection:
            if not self._zone_checked:
                if await connection.run_sync(lambda sync: stored_zone(sync)) != str(self._zone):
                    return None
                self._zone_checked = True  # a change of zone needs every process restarted (docs/kpis.md)
            sites = dict((await connection.execute(select(teams.c.name, teams.c.site))).all()) if "site" in (*filters, group_by) else {}
            conditions = _dimension_conditions(filters, sites)
            whole_first, whole_last = _whole_days(start, end, self._zone)
            tallies: dict[Any, Tally] = {}
            volumes: dict[tuple[str, str | None], int] = {}
            if whole_first < whole_last:
                await self._add_cells(
                    connection, cuboid, whole_first, whole_last, conditions, group_by, sites, volumes if with_volumes else None, tallies
                )
                edges = [(start, _midnight(whole_first, self._zone)), (_midnight(whole_last, self._zone), end)]
            else:
                edges = [(start, end)]
            edges = [(edge_start, edge_end) for edge_start, edge_end in edges if edge_start < edge_end]
            if edges:
                await _add_cases(connection, edges, conditions, group_by, sites, volumes if with_volumes else None, tallies)
        return tallies, volumes

    async def _add_cells(self, connection, cuboid, first: date, last: date, conditions, group_by, sites, volumes, tallies) -> None:
        months = _whole_months(first, last)
        if months:
            periods = or_(
                and_(kpi_rollups.c.grain == "month", kpi_rollups.c.period >= months[0], kpi_rollups.c.period < months[1]),
                and_(kpi_rollups.c.grain == "day", kpi_rollups.c.period >= first, kpi_rollups.c.period < months[0]),
                and_(kpi_rollups.c.grain == "day", kpi_rollups.c.period >= months[1], kpi_rollups.c.period < last),
            )
        else:
            periods = and_(kpi_rollups.c.grain == "day", kpi_rollups.c.period >= first, kpi_rollups.c.period < last)
        columns = [kpi_rollups.c[name] for name in DIMENSIONS]
        query = select(*columns, kpi_rollups.c.figures).where(
            kpi_rollups.c.cuboid == ",".join(cuboid), periods, *(kpi_rollups.c[name].in_(values) for name, values in conditions)
        )
        for row in (await connection.execute(query)).all():
            values = dict(zip(DIMENSIONS, (None if value == NONE else value for value in row[:-1]), strict=True))
            figures = json.loads(row[-1])
            tallies.setdefault(_key(values, group_by, sites), Tally()).add(figures)
            if volumes is not None:
                _count(volumes, values, figures["s"][0])


async def _add_cases(connection: AsyncConnection, spans: list[tuple[datetime, datetime]], conditions, group_by, sites, volumes, tallies) -> None:
    when = or_(*(and_(cases.c.created_at >= start, cases.c.created_at < end) for start, end in spans))
    where = [when, cases.c.reopen_count.is_not(None)]
    query = select(*(cases.c[name] for name in FACT_COLUMNS)).where(*where, *(cases.c[name].in_(values) for name, values in conditions))
    for facts in (await connection.execute(query)).mappings().all():
        tallies.setdefault(_key(facts, group_by, sites), Tally()).add_exact(facts)
        if volumes is not None:
            _count(volumes, facts, 1)


def _dimension_conditions(filters: Mapping[str, str], sites: Mapping[str, str]) -> list[tuple[str, list[str]]]:
    """Per filter, the dimension and the values it lets through (a site: its teams)."""
    return [
        ("team", sorted(team for team, site in sites.items() if site == value)) if name == "site" else (name, [value])
        for name, value in filters.items()
    ]


def _key(values: Mapping[str, Any] | RowMapping, group_by: str | None, sites: Mapping[str, str]) -> Any:
    if group_by is None:
        return None
    if group_by == "site":
        return sites.get(values["team"]) if values["team"] is not None else None
    return values[group_by]


def _count(volumes: dict[tuple[str, str | None], int], values: Mapping[str, Any] | RowMapping, volume: int) -> None:
    for name in ("kind", "category"):
        key = (name, values[name])
        volumes[key] = volumes.get(key, 0) + volume


def _whole_days(start: datetime, end: datetime, zone: tzinfo) -> tuple[date, date]:
    """The department's days wholly inside [start, end): [first, last)."""
    first = as_utc(start).astimezone(zone).date()
    if _midnight(first, zone) < start:
        first += timedelta(days=1)
    return first, as_utc(end).astimezone(zone).date()


def _whole_months(first: date, last: date) -> tuple[date, date] | None:
    """The calendar months wholly inside the days [first, last), as [first month, month after the last)."""
    month = first if first.day == 1 else _next_month(first)
    end = last.replace(day=1)
    return (month, end) if month < end else None


def _next_month(day: date) -> date:
    return date(day.year + 1, 1, 1) if day.month == 12 else date(day.year, day.month + 1, 1)


def _midnight(day: date, zone: tzinfo) -> datetime:
    return datetime.combine(day, time(0), zone).astimezone(UTC)


def as_row(tally: Tally) -> dict[str, Any]:
    """The tally under the names service/kpis.py reads its query's rows by."""
    sums = dict(zip(SUMS, tally.sums, strict=True))

    def mean(total: str, count: str, scale: float = 1_000_000) -> float | None:
        return sums[total] / scale / sums[count] if sums[count] else None

    return {
        **sums,
        "first_response_mean": mean("first_response_us", "first_responses"),
        "response_total": sums["response_us"] / 1_000_000,
        "handling_mean": mean("handling_us", "handled"),
        "mean_score": mean("score_total", "scores", 1),
    }


def percentiles(tally: Tally, fractions: Mapping[str, Fraction]) -> dict[str, dict[str, float | None]]:
    """Per measure, from the sketch when any rolled-up cell counted a value, else exact from the cases read."""
    figures = {}
    for column, measure in MEASURES.items():
        exact = tally.exact[measure]
        counts = tally.counts(measure)
        sketched = sum(counts.values()) > len(exact)
        figures[column] = {
            name: quantile_sketch.quantile(counts, fraction) if sketched else quantile_sketch.exact_quantile(exact, fraction)
            for name, fraction in fractions.items()
        }
    return figures
