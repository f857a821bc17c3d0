"""The supervisors' wallboard: what is open, what is about to miss its target, what already has,
and today's volume — counted by the read model in a few grouped queries, whatever the number of cases.

Due soon follows states/clocks.py `deadline_state`: a running clock whose warning time has come.
The clocks live in each case's snapshot, so the database reads them there (JSON paths, on SQLite
and PostgreSQL alike), only for open cases with a running deadline (ix_cases_sla_due).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import and_, func, literal_column, or_, select

from service.read_model import ReadModel
from service.tables import cases
from states.case import as_utc, format_time
from states.sla_policy import TARGET_NAMES
from states.vocabulary import OPEN_PHASES, DeadlineState, Phase

TOP_OWNERS = 12
NOBODY = "''"  # SQL's empty string, written out so GROUP BY repeats the same expression; no name is empty


@dataclass(frozen=True)
class OwnerCount:
    owner: str | None  # None: not assigned to anyone yet
    count: int


@dataclass(frozen=True)
class WallboardFigures:
    open_total: int
    by_phase: dict[str, int]  # every open phase, zero included
    by_owner: list[OwnerCount]  # the busiest owners first, at most TOP_OWNERS
    other_owners: int  # open cases of the owners beyond those shown
    due_soon: int  # open, not breached, a clock past its warning
    breached: int  # open and past a deadline (a clock or an action item)
    reported_today: int
    closed_today: int


class Wallboard:
    def __init__(self, read_model: ReadModel):
        self._engine = read_model.engine

    async def figures(self, now: datetime, day_start: datetime) -> WallboardFigures:
        """The figures as of `now`; "today" starts at `day_start` (midnight in the department's zone)."""
        day_start = as_utc(day_start)  # SQLite compares stored times as UTC text
        is_open = cases.c.state != Phase.CLOSED
        phases = select(cases.c.state, func.count()).where(is_open).group_by(cases.c.state)
        # A case is open exactly while it has no closed_at (states/machine.py), and ix_cases_kpis holds
        # both columns: grouping by an expression lets SQLite count from that narrow index instead of
        # walking ix_cases_owner_created to every wide row (40x slower at 100k cases).
        owner = func.coalesce(cases.c.owner, literal_column(NOBODY)).label("owner_name")
        owner_count = func.count().label("open_cases")
        owners = select(owner, owner_count).where(cases.c.closed_at.is_(None)).group_by(owner).order_by(owner_count.desc(), owner)
        pressing = select(
            func.count().filter(cases.c.breached.is_(True)),
            func.count().filter(cases.c.breached.is_(False) & _any_clock_warning(format_time(now))),
        ).where(is_open, or_(cases.c.breached.is_(True), cases.c.sla_due.is_not(None)))
        today = select(
            select(func.count()).where(cases.c.created_at >= day_start).scalar_subquery(),
            select(func.count()).where(cases.c.closed_at >= day_start).scalar_subquery(),
        )
        async with self._engine.connect() as connection:
            by_phase: dict[str, int] = {phase: 0 for phase in OPEN_PHASES}
            by_phase.update({state: count for state, count in (await connection.execute(phases)).all()})
            owner_rows = [(name or None, int(count)) for name, count in (await connection.execute(owners)).all()]
            breached, due_soon = (await connection.execute(pressing)).one()
            reported_today, closed_today = (await connection.execute(today)).one()
        assigned = [OwnerCount(name, count) for name, count in owner_rows if name is not None]
        unassigned = sum(count for name, count in owner_rows if name is None)
        shown = assigned[:TOP_OWNERS]
        if unassigned:
            shown.append(OwnerCount(None, unassigned))
        return WallboardFigures(
            open_total=sum(by_phase.values()),
            by_phase=by_phase,
            by_owner=shown,
            other_owners=sum(owner.count for owner in assigned[TOP_OWNERS:]),
            due_soon=int(due_soon or 0),
            breached=int(breached or 0),
            reported_today=int(reported_today or 0),
            closed_today=int(closed_today or 0),
        )


def _any_clock_warning(now: str):
    """Some running clock has warned, or its warning time (an RFC 3339 string that sorts as a time) has come."""
    snapshot = cases.c.snapshot
    warning = []
    for target in TARGET_NAMES:
        clock = ("clocks", target)
        warning.append(
            and_(
                snapshot[(*clock, "state")].as_string() == DeadlineState.RUNNING,
                or_(snapshot[(*clock, "warned")].as_boolean().is_(True), snapshot[(*clock, "warn_at")].as_string() <= now),
            )
        )
    return or_(*warning)
