"""KPIs from the read model, as docs/kpis.md defines them.

A period's population is the cases reported in [start, end) that match the filters; every figure is
a count, share, mean or percentile over that cohort as the read model knows it now. Everything runs
in the database, over an index that covers every column read (ix_cases_kpis), so only a few rows
per group come back whatever the number of cases: one scan on PostgreSQL (percentile_cont), and on
SQLite, which has no percentile function, a ranking query (window functions) per percentile column.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from fractions import Fraction
from typing import Any
from urllib.parse import parse_qsl

from sqlalchemy import and_, case, func, null, or_, select

from service.kpi_rollup_reads import RollupReader, as_row
from service.kpi_rollup_reads import percentiles as rollup_percentiles
from service.kpi_rollups import Tally
from service.read_model import ReadModel
from service.tables import cases, teams
from states.case import as_utc, format_time
from states.errors import InvalidData
from states.kpi_names import KPI_NAMES
from states.machine import DISMISSING_ACTIONS, KINDS
from states.spec import CASE_CATEGORIES, PRIORITIES
from states.targets import DEFAULT_TARGETS_DATA, Targets, parse_targets

# A case's site is its team's (teams.site); a case in no team has none.
FILTERS = ("kind", "category", "priority", "owner", "team", "site")
FILTER_VALUES = {"kind": tuple(KINDS), "category": CASE_CATEGORIES, "priority": tuple(PRIORITIES)}
GROUPINGS = ("kind", "category", "priority", "owner", "team", "site", "week", "month")
PERCENTILES = {"p50": Fraction(1, 2), "p90": Fraction(9, 10)}
MAX_PERIOD = timedelta(days=3 * 366)


@dataclass(frozen=True)
class KpiQuery:
    start: datetime
    end: datetime
    kind: str | None = None
    category: str | None = None
    priority: str | None = None
    owner: str | None = None
    group_by: str | None = None
    team: str | None = None
    site: str | None = None

    @property
    def filters(self) -> dict[str, str]:
        return {name: getattr(self, name) for name in FILTERS if getattr(self, name) is not None}


class MetricNotKpi(ValueError):
    pass


def parse_metric(text: Any) -> tuple[str, dict[str, str]] | None:
    """`first_response_on_time_rate?kind=complaint&category=logistics` names a KPI; other text does not.

    Returns None for free text; raises MetricNotKpi when it names a KPI with filters we cannot apply."""
    if not isinstance(text, str):
        return None
    name, _, query = text.strip().partition("?")
    if name not in KPI_NAMES:
        return None
    filters = dict(parse_qsl(query, keep_blank_values=True))
    unknown = sorted(set(filters) - set(FILTERS))
    if unknown:
        raise MetricNotKpi(f"{name}: unknown filter {unknown[0]!r}; filters are {', '.join(FILTERS)}")
    for filter_name, allowed in FILTER_VALUES.items():
        if filter_name in filters and filters[filter_name] not in allowed:
            raise MetricNotKpi(f"{name}: {filter_name} must be one of: {', '.join(allowed)}")
    return name, filters


class Kpis:
    def __init__(self, read_model: ReadModel, zone: tzinfo = UTC, targets: Targets | None = None, rollups: bool = False):
        """`zone`: the department's, where weeks, months and the roll-ups' days begin;
        `targets`: those reports judge their figures by (None: the defaults);
        `rollups`: answer from the daily and monthly roll-ups where they hold the query (percentiles
        from sketches, docs/kpis.md "Speed"), else every figure exactly from the cases."""
        self._engine = read_model.engine
        self._zone = zone
        self.targets = targets or parse_targets(DEFAULT_TARGETS_DATA, KPI_NAMES)
        self._rollups = RollupReader(read_model.engine, zone) if rollups else None
        self.exact = self if not rollups else Kpis(read_model, zone, targets)

    async def report(self, query: KpiQuery) -> dict[str, Any]:
        """Every KPI over the period, and per group when `group_by` is given.

        Refuses a `team` or `site` the department does not have: its figures would be silently empty."""
        await self._check_known(query)
        overall = (await self._figures(query, None, with_volumes=True))[None]
        document: dict[str, Any] = {
            "from": format_time(query.start),
            "to": format_time(query.end),
            "filters": query.filters,
            "group_by": query.group_by,
            "kpis": overall,
            "targets": self.targets.judge(overall, query.team),
        }
        if query.group_by in ("week", "month"):
            buckets = calendar_buckets(query.start, query.end, query.group_by, self._zone)
            by_bucket = await self._bucket_figures(query, [(start, end) for _, start, end in buckets])
            document["groups"] = [
                {"key": key, "from": format_time(start), "to": format_time(end), "kpis": kpis}
                for (key, start, end), kpis in zip(buckets, by_bucket, strict=True)
            ]
        elif query.group_by:
            figures = await self._figures(query, query.group_by)
            document["groups"] = [{"key": key, "kpis": figures[key]} for key in sorted(figures, key=lambda key: (key is None, key or ""))]
            if query.group_by == "team":
                for group in document["groups"]:
                    group["targets"] = self.targets.judge(group["kpis"], group["key"])
        return document

    async def value(self, name: str, filters: dict[str, str], start: datetime, end: datetime) -> tuple[float | None, int]:
        """One KPI over a window, and the number of cases it was computed from."""
        figures = (await self._figures(KpiQuery(start, end, **filters), None))[None]
        return figures[name], figures["volume"]

    async def _check_known(self, query: KpiQuery) -> None:
        asked = [(name, column, value) for name, column in (("team", teams.c.name), ("site", teams.c.site)) if (value := getattr(query, name))]
        if not asked:
            return
        async with self._engine.connect() as connection:
            for name, column, value in asked:
                if (await connection.execute(select(column).where(column == value).limit(1))).first() is None:
                    raise InvalidData(name, f"the department has no {name} named {value!r}")

    async def _bucket_figures(self, query: KpiQuery, spans: list[tuple[datetime, datetime]]) -> list[dict[str, Any]]:
        """The figures of each span of the period (weeks or months): from the roll-ups in one reading where they hold them."""
        if self._rollups is not None:
            found = await self._rollups.tallies(query.filters, spans, None, False)
            if found is not None:
                return [_from_tallies(tallies, {}, None, False)[None] for tallies in found[0]]
        return [(await self._figures(replace(query, start=start, end=end), None))[None] for start, end in spans]

    async def _figures(self, query: KpiQuery, group_by: str | None, with_volumes: bool = False) -> dict[Any, dict[str, Any]]:
        if self._rollups is not None:
            found = await self._rollups.tallies(query.filters, [(query.start, query.end)], group_by, with_volumes)
            if found is not None:
                tallies, volumes = found
                return _from_tallies(tallies[0], volumes, group_by, with_volumes)
        where = _cohort(query)
        group, source = _grouping(group_by)
        native = self._engine.dialect.name == "postgresql"
        columns = [*_AGGREGATES, *(_NATIVE_PERCENTILES if native else ()), *(_VOLUMES if with_volumes else ())]
        statement = select((group if group is not None else null()).label("key"), *columns).select_from(source).where(where)
        if group is not None:
            statement = statement.group_by(group)
        async with self._engine.connect() as connection:
            totals = (await connection.execute(statement)).mappings().all()
            if native:
                percentiles = {column: {row["key"]: _native(row, column) for row in totals} for column in PERCENTILE_COLUMNS}
            else:
                percentiles = {column: await _percentiles(connection, cases.c[column], where, group, source) for column in PERCENTILE_COLUMNS}
        figures = {}
        for row in totals:
            figures[row["key"]] = _kpis(row, {column: ranks.get(row["key"], {}) for column, ranks in percentiles.items()})
            if with_volumes:
                figures[row["key"]].update(_volumes(row))
        return figures


def _from_tallies(
    tallies: dict[Any, Tally], volumes: dict[tuple[str, str | None], int], group_by: str | None, with_volumes: bool
) -> dict[Any, dict[str, Any]]:
    """The figures per group from the roll-ups' tallies: as the cases give them, but for the percentiles
    (sketched) and a group whose cells are all empty now (no group, as no case would make one)."""
    groups = {key: tally for key, tally in tallies.items() if tally.sums[0]}
    if group_by is None:
        groups = {None: tallies.get(None) or Tally()}
    figures = {key: _kpis(as_row(tally), rollup_percentiles(tally, PERCENTILES)) for key, tally in groups.items()}
    if with_volumes:
        counted = {f"{name}={value or 'none'}": volume for (name, value), volume in volumes.items()}
        figures[None].update(_volumes(defaultdict(int, counted)))
    return figures


def _grouping(group_by: str | None) -> tuple[Any, Any]:
    """The column to group by and the rows it is read from: by site, the cases joined with their
    teams, where a case in no team falls under null."""
    if group_by is None:
        return None, cases
    if group_by == "site":
        return teams.c.site, cases.outerjoin(teams, cases.c.team == teams.c.name)
    return cases.c[group_by], cases


def _cohort(query: KpiQuery):
    # Rows without KPI facts were projected before migration 0002; `casework reconcile` fills them in.
    conditions = [cases.c.created_at >= query.start, cases.c.created_at < query.end, cases.c.reopen_count.is_not(None)]
    for name, value in query.filters.items():
        if name == "site":
            conditions.append(cases.c.team.in_(select(teams.c.name).where(teams.c.site == value)))
        else:
            conditions.append(cases.c[name] == value)
    return and_(*conditions)


def _count_where(condition):
    return func.sum(case((condition, 1), else_=0))


_c = cases.c
_AGGREGATES = (
    func.count().label("volume"),
    func.count(_c.first_response_seconds).label("first_responses"),
    func.avg(_c.first_response_seconds).label("first_response_mean"),
    _count_where(_c.first_response_seconds.is_not(None) | _c.first_response_late.is_(True)).label("first_response_decided"),
    _count_where(_c.first_response_seconds.is_not(None) & _c.first_response_late.is_(False)).label("first_response_on_time"),
    func.sum(_c.responses).label("responses"),
    func.sum(_c.response_seconds).label("response_total"),
    func.count(_c.handling_seconds).label("handled"),
    func.avg(_c.handling_seconds).label("handling_mean"),
    _count_where(_c.closed_by.in_(DISMISSING_ACTIONS)).label("dismissed"),
    _count_where(_c.closed_at.is_not(None) & _c.closed_by.not_in(DISMISSING_ACTIONS)).label("resolved"),
    func.count(_c.satisfied).label("satisfaction_responses"),
    _count_where(_c.satisfied.is_(True)).label("satisfied"),
    func.avg(_c.score).label("mean_score"),
    _count_where(_c.reopen_count > 0).label("reopened"),
    _count_where(_c.closed_at.is_not(None) | (_c.reopen_count > 0)).label("ever_closed"),
    _count_where(_c.ever_breached.is_(True)).label("breached"),
)


PERCENTILE_COLUMNS = ("first_response_seconds", "handling_seconds")
# PostgreSQL interpolates percentiles itself (percentile_cont), in the same scan as the rest.
_NATIVE_PERCENTILES = tuple(
    func.percentile_cont(float(fraction)).within_group(_c[column]).label(f"{column}:{name}")
    for column in PERCENTILE_COLUMNS
    for name, fraction in PERCENTILES.items()
)
# Kinds and categories are closed lists, so their volumes are counted in the same scan too.
_VOLUME_KEYS = [("kind", value) for value in sorted(KINDS)] + [("category", value) for value in (*sorted(CASE_CATEGORIES), None)]
_VOLUMES = tuple(
    _count_where(_c[name] == value if value is not None else _c[name].is_(None)).label(f"{name}={value or 'none'}") for name, value in _VOLUME_KEYS
)


def _native(row, column: str) -> dict[str, float | None]:
    return {name: None if row[f"{column}:{name}"] is None else float(row[f"{column}:{name}"]) for name in PERCENTILES}


def _volumes(row) -> dict[str, dict[str, int]]:
    volumes: dict[str, dict[str, int]] = {"volume_by_kind": {}, "volume_by_category": {}}
    for name, value in _VOLUME_KEYS:
        label = f"{name}={value or 'none'}"
        if row[label]:
            volumes[f"volume_by_{name}"][value or "none"] = int(row[label])
    return volumes


def no_figures() -> dict[str, Any]:
    """The KPIs of a group without cases: counts of zero, no shares, means or percentiles."""
    return _kpis(defaultdict(lambda: None), {})


def _kpis(row, percentiles: dict[str, dict[str, float | None]]) -> dict[str, Any]:
    def get(name: str) -> int:
        return int(row[name] or 0)

    def mean(name: str) -> float | None:
        return None if row[name] is None else float(row[name])

    volume, dismissed = get("volume"), get("dismissed")
    first_response, handling = percentiles.get("first_response_seconds", {}), percentiles.get("handling_seconds", {})
    return {
        "volume": volume,
        "first_responses": get("first_responses"),
        "first_response_mean_seconds": mean("first_response_mean"),
        "first_response_p50_seconds": first_response.get("p50"),
        "first_response_p90_seconds": first_response.get("p90"),
        "first_response_on_time_rate": _share(get("first_response_on_time"), get("first_response_decided")),
        "responses": get("responses"),
        # Over every response, not a mean of each case's mean: a case answered often weighs more.
        "response_mean_seconds": float(row["response_total"]) / get("responses") if get("responses") else None,
        "handled": get("handled"),
        "handling_mean_seconds": mean("handling_mean"),
        "handling_p50_seconds": handling.get("p50"),
        "handling_p90_seconds": handling.get("p90"),
        "dismissed": dismissed,
        "resolution_rate": _share(get("resolved"), volume - dismissed),
        "satisfaction_responses": get("satisfaction_responses"),
        "satisfaction_mean_score": mean("mean_score"),
        "satisfied_share": _share(get("satisfied"), get("satisfaction_responses")),
        "reopen_rate": _share(get("reopened"), get("ever_closed")),
        "breach_rate": _share(get("breached"), volume),
    }


async def _percentiles(connection, column, where, group, source) -> dict[Any, dict[str, float | None]]:
    """p50 and p90 per group, interpolated linearly between the two nearest ranks (like percentile_cont).

    The database ranks the values; only the rows at the needed ranks come back."""
    partition = [group] if group is not None else None
    ranked = (
        select(
            (group if group is not None else null()).label("key"),
            column.label("value"),
            func.row_number().over(partition_by=partition, order_by=column).label("rank"),
            func.count().over(partition_by=partition).label("n"),
        )
        .select_from(source)
        .where(where, column.is_not(None))
        .subquery()
    )
    wanted = []
    for fraction in PERCENTILES.values():
        lower = (ranked.c.n - 1) * fraction.numerator // fraction.denominator + 1
        wanted += [ranked.c.rank == lower, ranked.c.rank == lower + 1]
    rows = (await connection.execute(select(ranked.c.key, ranked.c.value, ranked.c.rank, ranked.c.n).where(or_(*wanted)))).all()
    by_group: dict[Any, tuple[int, dict[int, float]]] = {}
    for key, value, rank, count in rows:
        by_group.setdefault(key, (count, {}))[1][rank] = float(value)
    return {key: {name: _interpolate(count, values, fraction) for name, fraction in PERCENTILES.items()} for key, (count, values) in by_group.items()}


def _interpolate(count: int, values: dict[int, float], fraction: Fraction) -> float:
    position = (count - 1) * fraction
    below = int(position)
    low = values[below + 1]
    if position == below:
        return low
    return low + (values[below + 2] - low) * float(position - below)


def _share(part: int, whole: int) -> float | None:
    return part / whole if whole else None


def calendar_buckets(start: datetime, end: datetime, unit: str, zone: tzinfo) -> list[tuple[str, datetime, datetime]]:
    """ISO weeks (from Monday 00:00) or calendar months in `zone` that meet [start, end), each clipped to it (UTC)."""
    buckets = []
    day = _first_day(as_utc(start).astimezone(zone).date(), unit)
    while (cursor := _midnight(day, zone)) < end:
        following = day + timedelta(days=7) if unit == "week" else _next_month(day)
        year, week, _ = day.isocalendar()
        key = f"{year}-W{week:02d}" if unit == "week" else f"{day.year}-{day.month:02d}"
        buckets.append((key, max(cursor, start), min(_midnight(following, zone), end)))
        day = following
    return buckets


def start_of(moment: datetime, unit: str, zone: tzinfo) -> datetime:
    """The start (UTC) of the ISO week or calendar month `moment` falls in, as the calendar reads in `zone`."""
    return _midnight(_first_day(as_utc(moment).astimezone(zone).date(), unit), zone)


def _first_day(day: date, unit: str) -> date:
    return day - timedelta(days=day.weekday()) if unit == "week" else day.replace(day=1)


def _next_month(day: date) -> date:
    return day.replace(year=day.year + 1, month=1) if day.month == 12 else day.replace(month=day.month + 1)


def _midnight(day: date, zone: tzinfo) -> datetime:
    return datetime.combine(day, time(0), zone).astimezone(UTC)
