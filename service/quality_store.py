"""Quality checks (质检) in the read model: each check's row and its events, written by the check's
workflow (service/tables.py quality_checks, quality_check_events), and the closed cases a sample
is drawn from."""

from __future__ import annotations

from collections import Counter
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import and_, select

from service.read_model import ReadModel
from service.tables import cases, events, quality_check_events, quality_checks
from states.case import as_utc, format_time, parse_time
from states.quality import Check, CheckEvent, check_from_snapshot
from states.sampling import RANDOM, ClosedCase
from states.vocabulary import CUSTOMER_KINDS, Phase, SystemAction

# The customer's verdict (states/common.py): "not satisfied" sends the case back to remediate.
VERDICT = "record_satisfaction"
REOPEN = "reopen"  # states/common.py's action


@dataclass(frozen=True)
class CheckFilter:
    agent: str | None = None
    reviewer: str | None = None
    status: str | None = None
    closed_from: datetime | None = None  # the case closed at or after
    closed_to: datetime | None = None  # the case closed before
    limit: int = 500


class QualityStore:
    def __init__(self, read_model: ReadModel):
        self._read_model = read_model
        self._engine = read_model.engine
        insert = read_model.insert
        self._add_event = insert(quality_check_events).on_conflict_do_nothing()
        upsert = insert(quality_checks)
        self._put_check = upsert.on_conflict_do_update(
            index_elements=[quality_checks.c.id],
            set_={column.name: upsert.excluded[column.name] for column in quality_checks.columns if column.name != "id"},
            where=quality_checks.c.version < upsert.excluded.version,
        )

    async def project_check(self, check: Check, event: CheckEvent) -> None:
        """Idempotent: the event once by (check, seq), the row only when its version is newer."""
        async with self._engine.begin() as connection:
            await connection.execute(self._add_event, _event_row(event))
            await connection.execute(self._put_check, _check_row(check))

    async def get(self, check_id: str) -> dict[str, Any] | None:
        async with self._engine.connect() as connection:
            row = (await connection.execute(select(quality_checks.c.snapshot).where(quality_checks.c.id == check_id))).first()
        return None if row is None else dict(row.snapshot)

    async def exists(self, check_id: str) -> bool:
        return await self.get(check_id) is not None

    async def find(self, where: CheckFilter) -> list[dict[str, Any]]:
        c = quality_checks.c
        conditions = []
        if where.agent:
            conditions.append(c.agent_name == where.agent)
        if where.reviewer:
            conditions.append(c.reviewer == where.reviewer)
        if where.status:
            conditions.append(c.status == where.status)
        if where.closed_from:
            conditions.append(c.case_closed_at >= where.closed_from)
        if where.closed_to:
            conditions.append(c.case_closed_at < where.closed_to)
        query = select(c.snapshot).where(and_(True, *conditions)).order_by(c.case_closed_at.desc(), c.id).limit(where.limit)
        async with self._engine.connect() as connection:
            return [dict(row.snapshot) for row in await connection.execute(query)]

    async def case_titles(self, case_ids: list[str]) -> dict[str, str]:
        async with self._engine.connect() as connection:
            rows = await connection.execute(select(cases.c.id, cases.c.snapshot).where(cases.c.id.in_(case_ids)))
            return {row.id: row.snapshot.get("title") or row.id for row in rows}

    async def history(self, check_id: str) -> list[dict[str, Any]]:
        e = quality_check_events.c
        async with self._engine.connect() as connection:
            rows = await connection.execute(select(quality_check_events).where(e.check_id == check_id).order_by(e.seq))
            return [_event_from_row(row) for row in rows]

    async def closed_cases(self, start: datetime, end: datetime) -> tuple[list[ClosedCase], dict[str, tuple[int, int]]]:
        """The customers' cases closed in [start, end) with an owner, and each one's (breaches, reopens).

        A case checked at an earlier closing counts only what happened since that closing: its
        breaches, reopens and verdicts were that check's. Dissatisfied: the customer said they were
        not satisfied at some verdict (which sent the case back to remediate), or at its last."""
        start, end = as_utc(start), as_utc(end)  # SQLite compares stored UTC times as text
        c, e, q = cases.c, events.c, quality_checks.c
        closed_in_period = (c.state == Phase.CLOSED, c.closed_at >= start, c.closed_at < end)
        query = select(c.id, c.owner, c.closed_at, c.reopen_count, c.ever_breached, c.satisfied).where(
            *closed_in_period, c.owner.is_not(None), c.kind.in_([str(kind) for kind in CUSTOMER_KINDS])
        )
        in_period = e.case_id.in_(select(c.id).where(*closed_in_period))
        telling = select(e.case_id, e.action, e.to_state, e.at).where(e.action.in_([SystemAction.SLA_BREACHED, VERDICT, REOPEN]), in_period)
        checked = select(q.case_id, q.case_closed_at).where(q.case_id.in_(select(c.id).where(*closed_in_period)))
        async with self._engine.connect() as connection:
            rows = (await connection.execute(query)).all()
            found = (await connection.execute(telling)).all()
            earlier = (await connection.execute(checked)).all()
        closed_at = {row.id: as_utc(row.closed_at) for row in rows}
        since: dict[str, datetime] = {}
        for case_id, checked_closing in earlier:
            checked_closing = as_utc(checked_closing)
            if case_id in closed_at and checked_closing < closed_at[case_id]:
                since[case_id] = max(since.get(case_id, checked_closing), checked_closing)
        breaches: Counter[str] = Counter()
        reopens: Counter[str] = Counter()
        unsatisfied: set[str] = set()
        for case_id, action, to_state, at in found:
            if case_id in since and as_utc(at) <= since[case_id]:
                continue
            if action == SystemAction.SLA_BREACHED:
                breaches[case_id] += 1
            elif action == REOPEN:
                reopens[case_id] += 1
            elif to_state == Phase.REMEDIATE:
                unsatisfied.add(case_id)
        counts, closed = {}, []
        for row in rows:
            first_check = row.id not in since
            # Before any check the case row's own record counts too (a projection may hold no events for it).
            reopened = max(int(row.reopen_count or 0), reopens[row.id]) if first_check else reopens[row.id]
            breached = breaches[row.id] > 0 or (first_check and bool(row.ever_breached))
            counts[row.id] = (breaches[row.id], reopened)
            dissatisfied = row.id in unsatisfied or (row.satisfied is False and first_check)
            closed.append(
                ClosedCase(row.id, row.owner, format_time(closed_at[row.id]), reopened=bool(reopened), breached=breached, dissatisfied=dissatisfied)
            )
        return closed, counts

    async def checked_in(self, start: datetime, end: datetime) -> tuple[set[str], Counter[str]]:
        """The checks of cases closed in [start, end): their ids, and each agent's random ones."""
        q = quality_checks.c
        query = select(q.id, q.agent_name, q.snapshot).where(q.case_closed_at >= as_utc(start), q.case_closed_at < as_utc(end))
        async with self._engine.connect() as connection:
            rows = (await connection.execute(query)).all()
        drawn = Counter(row.agent_name for row in rows if check_from_snapshot(dict(row.snapshot)).sampled_because == [RANDOM])
        return {row.id for row in rows}, drawn


def _check_row(check: Check) -> dict[str, Any]:
    return {
        "id": check.id,
        "case_id": check.case_id,
        "agent_name": check.agent,
        "reviewer": check.reviewer,
        "status": check.status,
        "case_closed_at": parse_time(check.case_closed_at),
        "sampled_at": parse_time(check.sampled_at),
        "scored_at": parse_time(check.scored_at) if check.scored_at else None,
        "total": check.total,
        "version": check.version,
        "snapshot": asdict(check),
    }


def _event_row(event: CheckEvent) -> dict[str, Any]:
    return {
        "check_id": event.check_id,
        "seq": event.seq,
        "action": event.action,
        "from_status": event.from_status,
        "to_status": event.to_status,
        "actor_name": event.actor.name,
        "actor_role": event.actor.role,
        "at": parse_time(event.at),
        "note": event.note,
        "data": event.data,
        "prev_hash": event.prev_hash,
        "hash": event.hash,
    }


def _event_from_row(row) -> dict[str, Any]:
    return {
        "seq": row.seq,
        "check_id": row.check_id,
        "action": row.action,
        "from_status": row.from_status,
        "to_status": row.to_status,
        "actor": {"name": row.actor_name, "role": row.actor_role},
        "at": format_time(as_utc(row.at)),
        "note": row.note,
        "data": row.data,
        "prev_hash": row.prev_hash,
        "hash": row.hash,
    }
