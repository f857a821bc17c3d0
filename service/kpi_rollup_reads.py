"""A period's KPI tallies from the roll-ups: whole months and days from their cells, the part of a
day at either end of the period from the cases themselves (a few hundred rows)."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from fractions import Fraction
from typing import Any

from sqlalchemy import RowMapping, Select, and_, or_, select
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from service.kpi_rollups import CUBOIDS, DIMENSIONS, FACT_COLUMNS, MEASURES, NONE, SUMS, Tally, stored_zone
from service.tables import cases, kpi_rollups, teams
from states import quantile_sketch
from states.case import as_utc

Span = tuple[datetime, datetime]


class RollupReader:
    def __init__(self, engine: AsyncEngine, zone: tzinfo):
        self._engine = engine
        self._zone = zone
        self._zone_checked = False

    async def tallies(
        self, filters: Mapping[str, str], spans: Sequence[Span], group_by: str | None, with_volumes: bool
    ) -> tuple[list[dict[Any, Tally]], dict[tuple[str, str | None], int]] | None:
        """Per span [start, end) (disjoint, in order: a period, or the buckets of a week or month
        grouping), a tally per group (None: no grouping) over the cases reported in it that pass
        `filters`, and with_volumes, their volumes over all spans per ("kind", value) and ("category", value).
        One query for the cells of every span, one for the cases of their partial days.
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
            reading = _Reading(_dimension_conditions(filters, sites), group_by, sites, {} if with_volumes else None, len(spans))
            cells: dict[tuple[str, date], int] = {}
            edges: list[tuple[Span, int]] = []
            for index, (start, end) in enumerate(spans):
                whole_first, whole_last = _whole_days(start, end, self._zone)
                if whole_first < whole_last:
                    cells.update(dict.fromkeys(_cells(whole_first, whole_last), index))
                    parts = [(start, _midnight(whole_first, self._zone)), (_midnight(whole_last, self._zone), end)]
                else:
                    parts = [(start, end)]
                edges += [((part_start, part_end), index) for part_start, part_end in parts if part_start < part_end]
            if cells:
                await reading.add_cells(connection, cuboid, cells)
            if edges:
                await reading.add_cases(connection, edges)
        return reading.tallies, reading.volumes or {}


class _Reading:
    """One query's tallies per span and group, and its volumes, as cells and cases are added."""

    def __init__(self, conditions: list[tuple[str, list[str]]], group_by: str | None, sites: Mapping[str, str], volumes, spans: int):
        self.conditions = conditions
        self.group_by = group_by
        self.sites = sites
        self.volumes: dict[tuple[str, str | None], int] | None = volumes
        self.tallies: list[dict[Any, Tally]] = [{} for _ in range(spans)]

    def _tally(self, span: int, values: Mapping[str, Any] | RowMapping) -> Tally:
        key = _key(values, self.group_by, self.sites)
        tally = self.tallies[span].get(key)
        if tally is None:
            tally = self.tallies[span][key] = Tally()
        return tally

    async def add_cells(self, connection: AsyncConnection, cuboid: tuple[str, ...], cells: Mapping[tuple[str, date], int]) -> None:
        """The cells of `cuboid` at the (grain, period)s given, each added to the span it maps to."""
        for row in (await connection.execute(cells_query(cuboid, self.conditions, cells))).all():
            values = dict(zip(DIMENSIONS, (None if value == NONE else value for value in row[2:-1]), strict=True))
            figures = json.loads(row[-1])
            self._tally(cells[(row[0], row[1])], values).add(figures)
            if self.volumes is not None:
                _count(self.volumes, values, figures["s"][0])

    async def add_cases(self, connection: AsyncConnection, edges: list[tuple[Span, int]]) -> None:
        """The cases reported in the partial days, each added to its span."""
        when = or_(*(and_(cases.c.created_at >= start, cases.c.created_at < end) for (start, end), _ in edges))
        where = [when, cases.c.reopen_count.is_not(None), *(cases.c[name].in_(values) for name, values in self.conditions)]
        for facts in (await connection.execute(select(*(cases.c[name] for name in FACT_COLUMNS)).where(*where))).mappings().all():
            created = as_utc(facts["created_at"])
            span = next(index for (start, end), index in edges if start <= created < end)
            self._tally(span, facts).add_exact(facts)
            if self.volumes is not None:
                _count(self.volumes, facts, 1)


def cells_query(cuboid: tuple[str, ...], conditions: list[tuple[str, list[str]]], cells: Iterable[tuple[str, date]]) -> Select:
    """The cells' rows. Every condition sits in each range's term: SQLite then searches an index per
    range (its "multi-index OR"); with the cuboid outside the OR it read every period the cuboid
    ever had, so a query's cost grew with the years of history before it."""
    same_cell = [kpi_rollups.c.cuboid == ",".join(cuboid), *(kpi_rollups.c[name].in_(values) for name, values in conditions)]
    periods = or_(
        *(
            and_(*same_cell, kpi_rollups.c.grain == grain, kpi_rollups.c.period >= first, kpi_rollups.c.period <= last)
            for grain, first, last in _ranges(cells)
        )
    )
    columns = [kpi_rollups.c.grain, kpi_rollups.c.period, *(kpi_rollups.c[name] for name in DIMENSIONS)]
    return select(*columns, kpi_rollups.c.figures).where(periods)


def _cells(first: date, last: date) -> list[tuple[str, date]]:
    """The cells that make up the whole days [first, last): its whole months from month cells, the other days from day cells."""
    months = _whole_months(first, last)
    if months is None:
        return [("day", day) for day in _days(first, last)]
    month_cells, month = [], months[0]
    while month < months[1]:
        month_cells.append(("month", month))
        month = _next_month(month)
    return [*(("day", day) for day in _days(first, months[0])), *month_cells, *(("day", day) for day in _days(months[1], last))]


def _days(first: date, last: date) -> list[date]:
    return [first + timedelta(days=offset) for offset in range((last - first).days)]


def _ranges(cells: Iterable[tuple[str, date]]) -> list[tuple[str, date, date]]:
    """The cells as few (grain, first, last) ranges of consecutive periods as they make."""
    ranges: list[tuple[str, date, date]] = []
    for grain, period in sorted(cells):
        if ranges and ranges[-1][0] == grain and _following(grain, ranges[-1][2]) == period:
            ranges[-1] = (grain, ranges[-1][1], period)
        else:
            ranges.append((grain, period, period))
    return ranges


def _following(grain: str, period: date) -> date:
    return period + timedelta(days=1) if grain == "day" else _next_month(period)


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
        exact, counts = tally.exact[measure], tally.sketches[measure]
        sketched = sum(counts) > len(exact)
        figures[column] = (
            quantile_sketch.quantiles(counts, fractions)
            if sketched
            else {name: quantile_sketch.exact_quantile(exact, fraction) for name, fraction in fractions.items()}
        )
    return figures
