"""The read model: a projection of every case and event, for lists, filters and reports.

The workflows are the source of truth; this is rebuilt from them and written only by the
projection (a local activity inside the workflow task that took the event), idempotently and fenced:
each write carries its workflow task's fence (workflows/activities.py `projection_fence`), which grows
across task retries and later tasks. A task can write and then fail; its retry may take another event
with the same seq, or none. So an event row is replaced by a write of the same seq with a higher or
equal fence; the case row by a higher fence, or by the same fence and a newer version; a lower fence
never wins; and events beyond the case row's version with a lower fence than its own are removed.
Unfenced writes (histories from before "project-locally", rows from before migration 0013) rank lowest
and keep the old rule: events insert-or-ignore, the case row replaced only by a newer version.
"""

from __future__ import annotations

import asyncio
import base64
import json
import logging
import ssl
from collections.abc import Callable, Sequence
from dataclasses import dataclass, fields
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import ColumnElement, Connection, Engine, Select, bindparam, delete, event, func, make_url, or_, select, text, tuple_
from sqlalchemy import create_engine as create_sync_engine
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine

from service.kpi_rollups import ADD_FIGURES, KpiRollups, add_figures_sql
from service.observability import READ_MODEL_WRITE, SLA_BREACHES
from service.projection_failures import ProjectionAlarm, refused_for_good
from service.search import matches, search_body, search_text
from service.settings import Settings
from service.tables import action_items, case_search, cases, deliveries, events, links, projection_refusals, teams
from states import service_times
from states.case import CaseState, Event, as_utc, format_time, parse_time
from states.clocks import earliest_deadline, is_breached
from states.vocabulary import CUSTOMER_KINDS, Phase, SystemAction
from workflows.activities import AHEAD_WAIT_SECONDS, RowRefused, StoreBusy

T = TypeVar("T")

log = logging.getLogger("casework.projection")


@dataclass(frozen=True)
class CaseFilter:
    kind: str | None = None
    state: str | None = None
    priority: str | None = None
    owner: str | None = None
    customer_id: str | None = None
    linked_to: str | None = None
    created_after: datetime | None = None
    created_before: datetime | None = None
    breached: bool | None = None
    sla_due_before: datetime | None = None
    # Only cases not yet closed (an owner's own queue).
    open: bool | None = None
    q: str | None = None  # free text, found as a substring (service/search.py)
    unassigned: bool | None = None  # True: no owner; False: an owner
    team: str | None = None
    site: str | None = None  # cases of the teams at this site
    # Only what this person may see when agents see their teams' cases alone: (name, their teams).
    seen_by: tuple[str, tuple[str, ...]] | None = None


@dataclass(frozen=True)
class EventFilter:
    since: datetime | None = None
    until: datetime | None = None
    kind: str | None = None
    actor: str | None = None


@dataclass(frozen=True)
class Page:
    items: list[dict[str, Any]]
    next_cursor: str | None


class BadCursor(ValueError):
    pass


def engine_for(settings: Settings) -> AsyncEngine:
    """The read model's engine for the API, a worker or the command line: the one place TLS is added."""
    return create_engine(settings.read_model_url, tls_ca=settings.database_tls_ca)


def create_engine(url: str, sqlite_synchronous: str = "NORMAL", tls_ca: Path | None = None) -> AsyncEngine:
    """On SQLite, WAL with synchronous=NORMAL: a power cut can roll back the last commits, which
    `casework serve` puts back from Temporal on its next start (service/recovery.py); the bench
    compares FULL (docs/benchmarks.md)."""
    if url.startswith("sqlite"):
        engine = create_async_engine(url, connect_args={"timeout": 30})
        event.listen(engine.sync_engine, "connect", _sqlite_pragmas(sqlite_synchronous))
        # For the one-hop engine (ReadModel._plain).
        engine.sync_engine.update_execution_options(casework_sqlite_synchronous=sqlite_synchronous)
        return engine
    url, connect_args = postgres_tls(url, tls_ca)
    return create_async_engine(url, pool_size=10, max_overflow=20, pool_pre_ping=True, connect_args=connect_args)


def _sqlite_pragmas(synchronous: str):
    def pragmas(connection, _record) -> None:
        cursor = connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA synchronous={synchronous}")
        cursor.close()
        connection.create_function(ADD_FIGURES, 2, add_figures_sql, deterministic=True)

    return pragmas


def _sqlite_plain(engine: AsyncEngine, busy_seconds: float = 30) -> Engine | None:
    """On SQLite, a plain (synchronous) engine on the same file for the projection and the reads of
    every request (`ReadModel.read`): each runs whole in one worker thread, one hop, where aiosqlite
    hops to its thread per statement, per fetch and for the rollback that returns the connection.
    `busy_seconds`: how long a statement waits for another connection's write."""
    if engine.dialect.name != "sqlite" or engine.url.database in (None, "", ":memory:"):
        return None
    synchronous = engine.sync_engine.get_execution_options().get("casework_sqlite_synchronous", "NORMAL")
    connect_args = {"timeout": busy_seconds, "check_same_thread": False}
    writer = create_sync_engine(engine.url.set(drivername="sqlite+pysqlite"), connect_args=connect_args)
    event.listen(writer, "connect", _sqlite_pragmas(synchronous))
    return writer


def postgres_tls(url: str, tls_ca: Path | None = None) -> tuple[str, dict[str, Any]]:
    """asyncpg takes `ssl=<mode>`, not libpq's `sslmode=`: accept both in the URL. With a CA file,
    the server's certificate is verified against it (and its name too, unless the mode is verify-ca)."""
    parsed = make_url(url)
    query = dict(parsed.query)
    asyncpg_mode, libpq_mode = query.pop("ssl", None), query.pop("sslmode", None)
    mode = asyncpg_mode or libpq_mode
    if tls_ca is None:
        if mode is not None:
            query["ssl"] = mode
        return parsed.set(query=query).render_as_string(hide_password=False), {}
    context = ssl.create_default_context(cafile=str(tls_ca))
    context.check_hostname = mode != "verify-ca"
    return parsed.set(query=query).render_as_string(hide_password=False), {"ssl": context}


class ReadModel:
    def __init__(self, engine: AsyncEngine, alarm: ProjectionAlarm | None = None):
        self.engine = engine
        # Where a row refused for good is reported; /health reads it.
        self.alarm = alarm or ProjectionAlarm()
        dialect = engine.dialect.name
        self.insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
        # Built once and run with each row as parameters: building them per write cost more than the write.
        self._put_event = _event_upsert(self.insert)
        self._put_case = _case_upsert(self.insert)
        self._put_search = _search_upsert(self.insert)
        self._kpi_rollups = KpiRollups(dialect)
        self._plain = _sqlite_plain(engine)
        # An update validator's writes (project_ahead): they wait for a locked file no longer than the validator waits.
        self._plain_ahead = _sqlite_plain(engine, AHEAD_WAIT_SECONDS)

    async def upgrade(self, zone: str | None = None) -> None:
        """Bring the schema to this version's (Alembic migrations in service/migrations); `zone`: the
        department's, where the KPI roll-ups' days begin (None: as they are)."""
        from service import schema

        await schema.upgrade(self.engine, zone)

    async def require_current_schema(self) -> None:
        from service import schema

        await schema.require_current(self.engine)

    async def ping(self) -> None:
        async with self.engine.connect() as connection:
            await connection.execute(text("SELECT 1"))

    async def close(self) -> None:
        for plain in (self._plain, self._plain_ahead):
            if plain is not None:
                plain.dispose()
        await self.engine.dispose()

    async def project(self, case: CaseState, event: Event, fence: str | None = None) -> None:
        await self._project_counted(case, [event], fence)

    async def _project_counted(self, case: CaseState, events: Sequence[Event], fence: str | None) -> None:
        try:
            with READ_MODEL_WRITE.time():
                await self._project(case, events, fence)
        except Exception as error:
            if not refused_for_good(error):
                raise  # transient: the activity retries it
            reason = self.alarm.raise_for(case.id, events[0].seq, case.kind, error)
            await self._remember_refusal(case.id, events[0].seq, reason)
            raise RowRefused(reason) from error
        for taken in events:
            _count_breach(case, taken)

    def project_ahead(self, case: CaseState, events: Sequence[Event], fence: str, loop: asyncio.AbstractEventLoop) -> None:
        """`project` of one change's events from a thread other than `loop`'s (an update's validator,
        workflows/write_ahead.py), done within AHEAD_WAIT_SECONDS or not at all: RowRefused as `project`
        raises it, StoreBusy for anything that may pass. On SQLite it writes in the calling thread: no hop."""
        first = events[0]
        if self._plain_ahead is None:
            future = asyncio.run_coroutine_threadsafe(self._project_counted(case, events, fence), loop)
            try:
                future.result(timeout=AHEAD_WAIT_SECONDS)
            except RowRefused:
                raise
            except Exception as error:
                future.cancel()
                raise self._busy(case, first, error) from error
            return
        try:
            with READ_MODEL_WRITE.time(), self._plain_ahead.begin() as connection:
                self._write(connection, case, events, fence)
        except Exception as error:
            if not refused_for_good(error):
                raise self._busy(case, first, error) from error
            reason = self.alarm.raise_for(case.id, first.seq, case.kind, error)
            asyncio.run_coroutine_threadsafe(self._remember_refusal(case.id, first.seq, reason), loop)
            raise RowRefused(reason) from error
        for taken in events:
            _count_breach(case, taken)

    def _busy(self, case: CaseState, event: Event, error: BaseException) -> StoreBusy:
        log.warning("the read model did not take event %s of case %s in time: %r", event.seq, case.id, error)
        return StoreBusy(type(error).__name__)

    async def _remember_refusal(self, case_id: str, seq: int, reason: str) -> None:
        """For /health in the API's process, which may not be this one (`casework serve`)."""
        try:
            async with self.engine.begin() as connection:
                row = {"case_id": case_id, "seq": seq, "reason": reason, "at": datetime.now(UTC)}
                await connection.execute(self.insert(projection_refusals).on_conflict_do_nothing(), row)
        except Exception:  # the alarm's log line and metric stand; the refusal itself is what the caller reports
            log.exception("could not record the refusal of event %s of case %s in the read model", seq, case_id)

    async def refusal_status(self) -> str | None:
        """The alarm's status ("degraded: ..." or None), with the refusals a worker in another process recorded."""
        now = datetime.now(UTC)
        since = now - timedelta(seconds=self.alarm.window_seconds)
        async with self.engine.connect() as connection:
            recorded = await connection.execute(
                select(projection_refusals).where(projection_refusals.c.at >= since).order_by(projection_refusals.c.at)
            )
            for row in recorded:
                self.alarm.record(row.case_id, row.seq, row.reason, age_seconds=(now - as_utc(row.at)).total_seconds())
        return self.alarm.status()

    async def read(self, query: Callable[[Connection], T]) -> T:
        """`query`'s reading in one hop on SQLite (see _sqlite_plain: the actor's teams, read on every
        transition this way, cost a quarter of the API's CPU per transition through aiosqlite)."""
        if self._plain is not None:
            return await asyncio.to_thread(self._read_in_thread, query)
        async with self.engine.connect() as connection:
            return await connection.run_sync(query)

    def _read_in_thread(self, query: Callable[[Connection], T]) -> T:
        assert self._plain is not None
        with self._plain.connect() as connection:
            return query(connection)

    async def _project(self, case: CaseState, events: Sequence[Event], fence: str | None) -> None:
        if self._plain is not None:
            await asyncio.to_thread(self._write_in_thread, case, events, fence)
            return
        async with self.engine.begin() as connection:
            await connection.run_sync(self._write, case, events, fence)

    def _write_in_thread(self, case: CaseState, events: Sequence[Event], fence: str | None) -> None:
        assert self._plain is not None
        with self._plain.begin() as connection:
            self._write(connection, case, events, fence)

    def _write(self, connection: Connection, case: CaseState, events: Sequence[Event], fence: str | None) -> None:
        """The projection's one transaction: the events, the case row after them and what hangs on it,
        then the fence's removals."""
        connection.execute(self._put_event, [{**_event_row(event), "fence": fence} for event in events])
        row = {**_case_row(case), "fence": fence}
        if connection.execute(self._put_case, row).rowcount:
            connection.execute(self._put_search, {"case_id": case.id, "body": search_body(row["snapshot"])})
            _replace_children(connection, case)
            self._kpi_rollups.apply(connection, row)
        if fence is not None:
            connection.execute(DROP_PHANTOMS, {"case_id": case.id})

    async def stored_version(self, case_id: str) -> int | None:
        async with self.engine.connect() as connection:
            return (await connection.execute(select(cases.c.version).where(cases.c.id == case_id))).scalar()

    async def lacks_kpi_facts(self, case_id: str) -> bool:
        query = select(cases.c.id).where(cases.c.id == case_id, cases.c.reopen_count.is_(None) | cases.c.responses.is_(None))
        async with self.engine.connect() as connection:
            return (await connection.execute(query)).first() is not None

    async def get_case(self, case_id: str) -> dict[str, Any] | None:
        async with self.engine.connect() as connection:
            snapshot = (await connection.execute(select(cases.c.snapshot).where(cases.c.id == case_id))).scalar()
        return snapshot

    async def list_cases(self, where: CaseFilter, limit: int, cursor: str | None = None, sort: str = "created") -> Page:
        """Newest first; or, with sort="sla_due", the cases with a running deadline, nearest first."""
        by_due = sort == "sla_due"
        order_column = cases.c.sla_due if by_due else cases.c.created_at
        async with self.engine.connect() as connection:
            query = select(cases.c.snapshot, order_column.label("position"), cases.c.id).where(*await _conditions(connection, where, paging=True))
            rows = (await connection.execute(_page_query(query, order_column, by_due, cursor).limit(limit + 1))).all()
        next_cursor = _encode_cursor(rows[limit - 1].position, rows[limit - 1].id) if len(rows) > limit else None
        return Page([row.snapshot for row in rows[:limit]], next_cursor)

    async def count_cases(self, where: CaseFilter) -> int:
        """How many cases pass the filter."""
        async with self.engine.connect() as connection:
            query = select(func.count()).select_from(cases).where(*await _conditions(connection, where, paging=False))
            return (await connection.execute(query)).scalar_one()

    async def count_by(self, where: CaseFilter, group_by: str) -> dict[str | None, int]:
        """How many cases pass the filter, by the value of one column (`kind`, `state`, `priority`, `owner`)."""
        column = cases.c[group_by]
        async with self.engine.connect() as connection:
            query = select(column, func.count()).where(*await _conditions(connection, where, paging=False)).group_by(column)
            return {key: count for key, count in (await connection.execute(query)).all()}

    async def events_after(self, where: EventFilter, cursor: str | None, limit: int) -> list[dict[str, Any]]:
        """Events in (at, case_id, seq) order after `cursor`, each with its case's kind and its own cursor."""
        query = select(events, cases.c.kind).join(cases, cases.c.id == events.c.case_id)
        if where.since is not None:
            query = query.where(events.c.at >= where.since)
        if where.until is not None:
            query = query.where(events.c.at < where.until)
        if where.kind is not None:
            query = query.where(cases.c.kind == where.kind)
        if where.actor is not None:
            query = query.where(events.c.actor_name == where.actor)
        if cursor:
            at, case_id, seq = _decode_cursor(cursor, 3)
            query = query.where(tuple_(events.c.at, events.c.case_id, events.c.seq) > tuple_(at, case_id, int(seq)))
        query = query.order_by(events.c.at, events.c.case_id, events.c.seq).limit(limit)
        async with self.engine.connect() as connection:
            rows = (await connection.execute(query)).mappings().all()
        return [{**_event_from_row(row), "kind": row["kind"], "cursor": _encode_cursor(row["at"], row["case_id"], row["seq"])} for row in rows]

    async def record_delivery(self, case_id: str, seq: int, attempt: int, outcome: str, status_code: int | None, error: str | None) -> None:
        row = {
            "case_id": case_id,
            "seq": seq,
            "attempt": attempt,
            "at": datetime.now(UTC),
            "outcome": outcome,
            "status_code": status_code,
            "error": error,
        }
        async with self.engine.begin() as connection:
            await connection.execute(self.insert(deliveries).values(row).on_conflict_do_nothing())

    async def deliveries(self, case_id: str) -> list[dict[str, Any]]:
        query = select(deliveries).where(deliveries.c.case_id == case_id).order_by(deliveries.c.seq, deliveries.c.attempt)
        async with self.engine.connect() as connection:
            rows = (await connection.execute(query)).mappings().all()
        return [{**row, "at": _stored_time(row["at"])} for row in rows]

    async def case_ids(self) -> list[str]:
        async with self.engine.connect() as connection:
            return list((await connection.execute(select(cases.c.id).order_by(cases.c.created_at, cases.c.id))).scalars())

    async def history(self, case_id: str) -> list[dict[str, Any]]:
        query = select(events).where(events.c.case_id == case_id).order_by(events.c.seq)
        async with self.engine.connect() as connection:
            rows = (await connection.execute(query)).mappings().all()
        return [_event_from_row(row) for row in rows]


async def _conditions(connection: AsyncConnection, where: CaseFilter, paging: bool) -> list[ColumnElement[bool]]:
    conditions = [
        cases.c[name] == value
        for name in ("kind", "state", "priority", "owner", "team", "customer_id")
        if (value := getattr(where, name)) is not None
    ]
    if where.linked_to is not None:
        conditions.append(cases.c.id.in_(select(links.c.case_id).where(links.c.other_case_id == where.linked_to)))
    if where.created_after is not None:
        conditions.append(cases.c.created_at >= where.created_after)
    if where.created_before is not None:
        conditions.append(cases.c.created_at < where.created_before)
    if where.breached is not None:
        conditions.append(cases.c.breached == where.breached)
    if where.sla_due_before is not None:
        conditions.append(cases.c.sla_due < where.sla_due_before)
    if where.unassigned is not None:
        conditions.append(cases.c.owner.is_(None) if where.unassigned else cases.c.owner.is_not(None))
    if where.site is not None:
        conditions.append(cases.c.team.in_(select(teams.c.name).where(teams.c.site == where.site)))
    if where.seen_by is not None:
        name, their_teams = where.seen_by
        conditions.append(or_(cases.c.owner == name, cases.c.team.in_(their_teams)))
    if where.open is not None:
        conditions.append(cases.c.state != Phase.CLOSED if where.open else cases.c.state == Phase.CLOSED)
    if (wanted := search_text(where.q)) is not None:
        conditions.append(await matches(connection, wanted, paging))
    return conditions


def _page_query(query: Select, order_column: ColumnElement, by_due: bool, cursor: str | None) -> Select:
    """The list's order, from after the cursor: by deadline, nearest first; or newest first."""
    if by_due:
        query = query.where(cases.c.sla_due.is_not(None))
    if cursor:
        position, case_id = _decode_cursor(cursor)
        after = tuple_(order_column, cases.c.id) > tuple_(position, str(case_id))
        before = tuple_(order_column, cases.c.id) < tuple_(position, str(case_id))
        query = query.where(after if by_due else before)
    if by_due:
        return query.order_by(order_column, cases.c.id)
    return query.order_by(order_column.desc(), cases.c.id.desc())


# Events a failed workflow task wrote beyond the case as a later task (or the reconciliation) left it.
DROP_PHANTOMS = delete(events).where(
    events.c.case_id == bindparam("case_id"),
    events.c.seq > select(cases.c.version).where(cases.c.id == bindparam("case_id")).scalar_subquery(),
    func.coalesce(events.c.fence, "") < select(func.coalesce(cases.c.fence, "")).where(cases.c.id == bindparam("case_id")).scalar_subquery(),
)
CLEAR_LINKS = delete(links).where(links.c.case_id == bindparam("case_id"))
CLEAR_ITEMS = delete(action_items).where(action_items.c.case_id == bindparam("case_id"))


def _event_upsert(insert):
    """Insert an event row, or replace it with a write of a higher or equal fence (never an unfenced one)."""
    upsert = insert(events)
    kept = {"case_id", "seq", "position", "committed_in"}
    return upsert.on_conflict_do_update(
        index_elements=[events.c.case_id, events.c.seq],
        set_={column.name: upsert.excluded[column.name] for column in events.columns if column.name not in kept},
        where=upsert.excluded.fence >= func.coalesce(events.c.fence, ""),
    )


def _replace_children(connection: Connection, case: CaseState) -> None:
    connection.execute(CLEAR_LINKS, {"case_id": case.id})
    connection.execute(CLEAR_ITEMS, {"case_id": case.id})
    if case.links:
        connection.execute(
            links.insert(),
            [{"case_id": case.id, "other_case_id": link["case_id"], "relation": link["relation"]} for link in case.links],
        )
    if case.action_items:
        connection.execute(action_items.insert(), [_item_row(case.id, item) for item in case.action_items])


def _case_upsert(insert):
    """Insert a case row, or update it with a higher fence, or with the same fence and a newer version."""
    upsert = insert(cases)
    stored, written = func.coalesce(cases.c.fence, ""), func.coalesce(upsert.excluded.fence, "")
    return upsert.on_conflict_do_update(
        index_elements=[cases.c.id],
        set_={column.name: upsert.excluded[column.name] for column in cases.columns if column.name != "id"},
        where=(written > stored)
        | ((written == stored) & (cases.c.version < upsert.excluded.version))
        # A row without KPI facts predates them (migrations 0002, 0007): any projection fills them in.
        | ((written >= stored) & (cases.c.reopen_count.is_(None) | cases.c.responses.is_(None))),
    )


def _search_upsert(insert):
    """Insert a case's search row, or replace its text when that changed (rewriting the index costs)."""
    upsert = insert(case_search)
    return upsert.on_conflict_do_update(
        index_elements=[case_search.c.case_id], set_={"body": upsert.excluded.body}, where=case_search.c.body != upsert.excluded.body
    )


def _case_row(case: CaseState) -> dict[str, Any]:
    return {
        "id": case.id,
        "kind": case.kind,
        "state": case.state,
        "priority": case.priority,
        "owner": case.owner,
        "team": case.team,
        "customer_id": (case.customer or {}).get("id"),
        "created_at": parse_time(case.created_at),
        "updated_at": parse_time(case.updated_at),
        "closed_at": _time_or_none(case.closed_at),
        "version": case.version,
        "sla_due": _time_or_none(earliest_deadline(case)),
        "breached": is_breached(case),
        # Plain data already, and serialised before anything can change it: no deep copy (dataclasses.asdict) needed.
        "snapshot": {field.name: getattr(case, field.name) for field in fields(case)},
        **_kpi_facts(case),
    }


def _kpi_facts(case: CaseState) -> dict[str, Any]:
    created = parse_time(case.created_at)
    category = case.data.get("category")
    score = case.data.get("score")
    return {
        "category": category if isinstance(category, str) and case.kind in CUSTOMER_KINDS else None,
        "first_response_seconds": _seconds_since(created, case.first_response_at),
        "first_response_late": "first_response" in case.breached_targets,
        "handling_seconds": service_times.handling_seconds(case),
        "closed_by": case.closed_by,
        "reopen_count": case.reopen_count,
        "satisfied": case.data.get("satisfied") if isinstance(case.data.get("satisfied"), bool) else None,
        "score": score if isinstance(score, int) and not isinstance(score, bool) else None,
        "ever_breached": bool(case.breached_targets),
        "responses": case.responses,
        "response_seconds": case.response_seconds,
    }


def _seconds_since(start: datetime, text: str | None) -> float | None:
    return (parse_time(text) - start).total_seconds() if text else None


def _time_or_none(text: str | None) -> datetime | None:
    return parse_time(text) if text else None


def _count_breach(case: CaseState, event: Event) -> None:
    if event.action == SystemAction.SLA_BREACHED:
        SLA_BREACHES.labels(case.kind, event.data.get("target", "")).inc()
    elif event.action == SystemAction.ACTION_ITEM_OVERDUE:
        SLA_BREACHES.labels(case.kind, "action_item").inc()


def _event_row(event: Event) -> dict[str, Any]:
    return {
        "case_id": event.case_id,
        "seq": event.seq,
        "action": event.action,
        "from_state": event.from_state,
        "to_state": event.to_state,
        "actor_name": event.actor.name,
        "actor_role": event.actor.role,
        "at": parse_time(event.at),
        "note": event.note,
        "data": event.data,
        "request_id": event.request_id,
        "prev_hash": event.prev_hash,
        "hash": event.hash,
    }


def _item_row(case_id: str, item: dict[str, Any]) -> dict[str, Any]:
    return {
        "case_id": case_id,
        "item_id": item["id"],
        "title": item["title"],
        "owner": item["owner"],
        "due": parse_time(item["due"]),
        "done": item["done"],
        "outcome": item["outcome"],
    }


def _event_from_row(row) -> dict[str, Any]:
    actor = {"name": row["actor_name"]}
    if row["actor_role"]:
        actor["role"] = row["actor_role"]
    return {
        "seq": row["seq"],
        "case_id": row["case_id"],
        "action": row["action"],
        "from_state": row["from_state"],
        "to_state": row["to_state"],
        "actor": actor,
        "at": _stored_time(row["at"]),
        "note": row["note"],
        "data": row["data"],
        "request_id": row["request_id"],
        "prev_hash": row["prev_hash"],
        "hash": row["hash"],
    }


def _stored_time(moment: datetime) -> str:
    return format_time(as_utc(moment))


def _encode_cursor(moment: datetime, *keys: Any) -> str:
    """A position in a time-ordered list: the time, then the keys that break ties."""
    raw = json.dumps([_stored_time(moment), *keys]).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _decode_cursor(cursor: str, length: int = 2) -> tuple[Any, ...]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        moment, *keys = json.loads(raw)
        if len(keys) != length - 1 or not all(isinstance(key, (str, int)) for key in keys):
            raise ValueError("wrong shape")
        return (parse_time(moment), *keys)
    except (ValueError, TypeError, AttributeError, OverflowError) as error:
        raise BadCursor("cursor is not one this service handed out") from error
