"""Weekly and monthly reviews: a period's KPIs beside the previous period's, and what needs attention.

A review is made by the schedule (workflows/reviews.py) or on demand, and stored whole, so
the meeting reads the figures as they were when it was made. Making one again for the same period
replaces it: the numbers of a period keep maturing as its cases close.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, tzinfo
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select

from service.assessments import assessment_summary
from service.kpis import KPI_NAMES, KpiQuery, Kpis, no_figures, start_of
from service.read_model import ReadModel
from service.review_agents import agent_rows
from service.tables import cases, reviews, teams
from states.assessment_periods import period_at
from states.case import as_utc, format_time, parse_time
from states.targets import Targets
from states.vocabulary import SUPERVISING_ROLES, Kind, Phase, Role

CADENCES = ("weekly", "monthly", "custom")
# Who reads every agent's row of a review; others read the department's figures and their own row.
READS_EVERY_AGENT = (*SUPERVISING_ROLES, Role.AUDITOR)
UNITS = {"weekly": "week", "monthly": "month"}
LISTED_CASES = 50
TOP_CATEGORIES = 5
SCHEDULED_BY = "schedule"  # who made a review the schedule made


@dataclass(frozen=True)
class Period:
    start: datetime
    end: datetime

    def as_dict(self) -> dict[str, str]:
        return {"from": format_time(self.start), "to": format_time(self.end)}


def period_before(moment: datetime, cadence: str, zone: tzinfo) -> Period:
    """The last whole ISO week (from Monday 00:00) or calendar month in `zone` that ended by `moment`."""
    end = start_of(moment, UNITS[cadence], zone)
    return Period(start_of(end - timedelta(days=1), UNITS[cadence], zone), end)


def period_containing(moment: datetime, cadence: str, zone: tzinfo) -> Period:
    """The ISO week or calendar month in `zone` that `moment` falls in."""
    start = start_of(moment, UNITS[cadence], zone)
    # A day past the longest week or month: the next one's start, whatever the zone's clock changes.
    return Period(start, start_of(start + timedelta(days=8 if cadence == "weekly" else 32), UNITS[cadence], zone))


def as_seen_by(document: dict[str, Any], name: str, role: str) -> dict[str, Any]:
    """A review as `name` may read it: supervisors, managers and auditors all of it; anyone else the
    department's and teams' figures, and of the per-agent rows and assessments only their own."""
    if role in READS_EVERY_AGENT:
        return document
    seen = dict(document)
    if "agents" in document:
        seen["agents"] = [row for row in document["agents"] if row["name"] == name]
    if document.get("assessments"):
        summary = document["assessments"]
        mine = [row for row in summary["agents"] if row["agent_name"] == name]
        seen["assessments"] = {**summary, "agents": mine, "below_target": [each for each in summary["below_target"] if each == name]}
    return seen


def previous_period(period: Period, cadence: str, zone: tzinfo) -> Period:
    """The period a review compares with: the week or month before, or as long as this one and just before it."""
    if cadence in UNITS:
        return Period(start_of(period.start - timedelta(days=1), UNITS[cadence], zone), period.start)
    return Period(period.start - (period.end - period.start), period.start)


def review_id(cadence: str, period: Period, zone: tzinfo) -> str:
    """A weekly or monthly review is named by its first day in `zone`; a custom one by its UTC instants."""
    if cadence == "custom":
        return f"rev_custom_{period.start:%Y%m%dT%H%M%S}_{period.end:%Y%m%dT%H%M%S}"
    return f"rev_{cadence}_{period.start.astimezone(zone):%Y-%m-%d}"


class Reviews:
    def __init__(self, read_model: ReadModel, zone: ZoneInfo, targets: Targets | None = None):
        """`zone`: the department's, where its weeks and months begin; `targets`: the KPI targets (None: the defaults)."""
        self._read_model = read_model
        self._zone = zone
        self._kpis = Kpis(read_model, zone, targets)

    @property
    def zone(self) -> ZoneInfo:
        """The department's time zone, where its weeks and months begin."""
        return self._zone

    async def make(self, cadence: str, period: Period, created_by: str, now: datetime) -> dict[str, Any]:
        """Compute the review of `period`, store it (replacing an earlier one of the same id), return it."""
        before = previous_period(period, cadence, self._zone)
        current_report = await self._kpis.report(KpiQuery(period.start, period.end, group_by="team"))
        current = current_report["kpis"]
        previous = (await self._kpis.report(KpiQuery(before.start, before.end)))["kpis"]
        document = {
            "id": review_id(cadence, period, self._zone),
            "cadence": cadence,
            # Where its weeks and months were cut, and so how its days are named.
            "timezone": self._zone.key,
            "period": period.as_dict(),
            "previous_period": before.as_dict(),
            "created_at": format_time(now),
            "created_by": created_by,
            "kpis": current,
            "targets": current_report["targets"],
            "previous_kpis": previous,
            "deltas": {name: _delta(current[name], previous[name]) for name in KPI_NAMES},
            "top_categories": _top_categories(current),
            "teams": await self._by_team(current_report["groups"]),
            "agents": await agent_rows(self._read_model, self._kpis, KpiQuery(period.start, period.end)),
            "breached_cases": await self._cases(cases.c.created_at >= period.start, cases.c.created_at < period.end, cases.c.ever_breached.is_(True)),
            "open_incidents": await self._cases(cases.c.kind == Kind.INCIDENT, cases.c.state != Phase.CLOSED),
            "open_improvement_plans": await self._cases(cases.c.kind == Kind.IMPROVEMENT_PLAN, cases.c.state != Phase.CLOSED),
        }
        if cadence == "monthly":
            document["assessments"] = await assessment_summary(self._read_model.engine, period_at(period.start, cadence, self._zone))
        await self._store(document, period)
        return document

    async def make_scheduled(self, cadence: str, by: str) -> str:
        """The schedule's review: the whole week or month that ended by `by` (the scheduled time)."""
        document = await self.make(cadence, period_before(parse_time(by), cadence, self._zone), SCHEDULED_BY, datetime.now(UTC))
        return document["id"]

    async def get(self, review_id: str) -> dict[str, Any] | None:
        async with self._read_model.engine.connect() as connection:
            return (await connection.execute(select(reviews.c.document).where(reviews.c.id == review_id))).scalar()

    async def newest(self, cadence: str | None, limit: int) -> list[dict[str, Any]]:
        """Newest period first: id, cadence, period and when it was made (not the figures)."""
        query = select(reviews.c.id, reviews.c.cadence, reviews.c.period_from, reviews.c.period_to, reviews.c.created_at, reviews.c.created_by)
        if cadence is not None:
            query = query.where(reviews.c.cadence == cadence)
        query = query.order_by(reviews.c.period_from.desc(), reviews.c.id.desc()).limit(limit)
        async with self._read_model.engine.connect() as connection:
            rows = (await connection.execute(query)).mappings().all()
        return [
            {
                "id": row["id"],
                "cadence": row["cadence"],
                "period": Period(as_utc(row["period_from"]), as_utc(row["period_to"])).as_dict(),
                "created_at": format_time(as_utc(row["created_at"])),
                "created_by": row["created_by"],
            }
            for row in rows
        ]

    async def _by_team(self, groups: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """Every team of the department by site, those without cases too, then the cases in no team if any."""
        figures = {group["key"]: group["kpis"] for group in groups}
        async with self._read_model.engine.connect() as connection:
            sites = {name: site for name, site in (await connection.execute(select(teams.c.name, teams.c.site))).all()}
        named = sorted(set(sites) | (set(figures) - {None}), key=lambda name: (sites.get(name) or "", name))
        rows = [{"team": name, "site": sites.get(name), "kpis": figures.get(name) or no_figures()} for name in named]
        if None in figures:
            rows.append({"team": None, "site": None, "kpis": figures[None]})
        for row in rows:
            # The cases in no team are judged on the department's targets.
            row["targets"] = self._kpis.targets.judge(row["kpis"], row["team"])
        return rows

    async def _cases(self, *conditions) -> list[dict[str, Any]]:
        query = select(cases.c.snapshot).where(*conditions).order_by(cases.c.created_at, cases.c.id).limit(LISTED_CASES)
        async with self._read_model.engine.connect() as connection:
            snapshots = (await connection.execute(query)).scalars().all()
        fields = ("id", "kind", "title", "priority", "owner", "state")
        return [{name: snapshot.get(name) for name in fields} for snapshot in snapshots]

    async def _store(self, document: dict[str, Any], period: Period) -> None:
        row = {
            "id": document["id"],
            "cadence": document["cadence"],
            "period_from": period.start,
            "period_to": period.end,
            "created_at": parse_time(document["created_at"]),
            "created_by": document["created_by"],
            "document": document,
        }
        upsert = self._read_model.insert(reviews).values(row)
        upsert = upsert.on_conflict_do_update(index_elements=[reviews.c.id], set_={name: upsert.excluded[name] for name in row if name != "id"})
        async with self._read_model.engine.begin() as connection:
            await connection.execute(upsert)


def _delta(current: float | None, previous: float | None) -> dict[str, float | None]:
    delta = current - previous if current is not None and previous is not None else None
    return {"current": current, "previous": previous, "delta": delta}


def _top_categories(kpis: dict[str, Any]) -> list[dict[str, Any]]:
    volume = kpis["volume"]
    ranked = sorted(((count, name) for name, count in kpis["volume_by_category"].items() if name != "none"), key=lambda pair: (-pair[0], pair[1]))
    return [{"category": name, "count": count, "share": count / volume} for count, name in ranked[:TOP_CATEGORIES]]
