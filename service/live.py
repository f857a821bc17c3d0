"""Live updates: one poller per API process reads the events the projection committed since its
cursor and hands each to the streams open on this process.

Every replica polls the shared read model, so a change through any replica (or any worker) reaches
streams on all of them. The poller queries only while someone listens, every POLL_SECONDS; a
stream that falls QUEUE_BOUND changes behind is dropped (its client reconnects and resumes), so a
slow reader never holds up the poller or the other streams. What polling costs, and why it was
chosen over PostgreSQL LISTEN/NOTIFY: docs/benchmarks.md, "Live updates".

The cursor is the event's place in commit order (migration 0005), not its time: an event projected
late carries an earlier time than events already delivered, and would be missed.
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import BigInteger, ColumnElement, Select, literal_column, select, tuple_

from service.cases import Unavailable
from service.read_model import BadCursor, ReadModel
from service.tables import cases, events

log = logging.getLogger(__name__)

POLL_SECONDS = 0.5
QUEUE_BOUND = 1000  # changes waiting for one stream before it is dropped
REPLAY_LIMIT = 1000  # changes replayed after Last-Event-ID; beyond that the client starts afresh
BATCH = 500  # changes read per query; a full batch is followed by the next at once
MAX_STREAMS = 2000  # per process: beyond this a new stream is refused (503) rather than starving the rest
# On PostgreSQL only transactions older than every running one are final: a running transaction may
# still commit an event that sorts before the ones already visible.
FINISHED_TRANSACTIONS: ColumnElement[int] = literal_column("pg_snapshot_xmin(pg_current_snapshot())::text::bigint", BigInteger)


@dataclass(frozen=True, order=True)
class Cursor:
    committed_in: int
    position: int

    def __str__(self) -> str:
        return f"{self.committed_in}-{self.position}"

    @classmethod
    def parse(cls, text: str) -> Cursor:
        committed_in, separator, position = text.strip().partition("-")
        numbers = (committed_in, position)
        if not (separator and all(number.isascii() and number.isdigit() and len(number) <= 18 for number in numbers)):
            raise BadCursor("not a cursor this service handed out")
        return cls(int(committed_in), int(position))


@dataclass(frozen=True)
class Change:
    """One event as a live stream tells it: enough for a page to know what to reload."""

    cursor: Cursor
    case_id: str
    seq: int
    action: str
    kind: str | None
    state: str
    # Whose the case is now (not when the event happened): who may follow it (service/visibility.py).
    owner: str | None = field(default=None, compare=False)
    team: str | None = field(default=None, compare=False)

    def as_json(self) -> dict[str, Any]:
        return {"case_id": self.case_id, "seq": self.seq, "action": self.action, "kind": self.kind, "state": self.state}


# Whether a change to a case with this owner and team may reach the stream's reader.
Follows = Callable[[str | None, str | None], bool]


class Subscription:
    """One stream's share of the feed: the changes not yet sent, all cases or one, of the cases its
    reader may see."""

    def __init__(self, case_id: str | None, bound: int, follows: Follows | None = None):
        self.case_id = case_id
        self._follows = follows
        self._bound = bound
        self._pending: deque[Change] = deque()
        self._ready = asyncio.Event()
        self._after: Cursor | None = None
        self.closed = False

    def offer(self, change: Change) -> bool:
        """Queue a change this stream wants; False when the stream is too far behind to keep."""
        if not self.wants(change):
            return True
        if len(self._pending) >= self._bound:
            return False
        self._pending.append(change)
        self._ready.set()
        return True

    def wants(self, change: Change) -> bool:
        if self.case_id is not None and change.case_id != self.case_id:
            return False
        return self._follows is None or self._follows(change.owner, change.team)

    def skip_through(self, cursor: Cursor) -> None:
        """Changes up to `cursor` were replayed already: do not send them twice."""
        self._after = cursor

    async def next(self, wait: float) -> list[Change] | None:
        """The changes queued, after waiting up to `wait` seconds for one (an empty list: none came);
        None once the subscription is closed."""
        if not self._pending and not self.closed:
            try:
                await asyncio.wait_for(self._ready.wait(), wait)
            except TimeoutError:
                pass
        if self.closed:
            return None
        self._ready.clear()
        batch = [change for change in self._pending if self._after is None or change.cursor > self._after]
        self._pending.clear()
        if batch:
            self._after = batch[-1].cursor
        return batch

    def close(self) -> None:
        self.closed = True
        self._pending.clear()
        self._ready.set()


@dataclass(frozen=True)
class Opening:
    subscription: Subscription
    replay: list[Change]
    reset: bool  # the client's cursor is too old or unknown: it should reload rather than resume


class LiveFeed:
    def __init__(self, read_model: ReadModel, poll_seconds: float = POLL_SECONDS, queue_bound: int = QUEUE_BOUND, max_streams: int = MAX_STREAMS):
        self._engine = read_model.engine
        self._on_postgres = read_model.engine.dialect.name == "postgresql"
        self._poll_seconds = poll_seconds
        self._queue_bound = queue_bound
        self._max_streams = max_streams
        self._subscribers: set[Subscription] = set()
        self._cursor: Cursor | None = None  # None while nobody listens: a new listener starts from the newest
        self._lock = asyncio.Lock()  # a subscription joins between two polls, never during one
        self._someone_listens = asyncio.Event()
        self._poller: asyncio.Task[None] | None = None
        self._stopped = False

    def start(self) -> None:
        self._poller = asyncio.create_task(self._poll_while_listened())

    def stop_streams(self) -> None:
        """End every stream now and accept no more: the server is stopping, and a client reconnects
        to another replica. Synchronous, so a signal handler can call it on the loop."""
        self._stopped = True
        for subscription in self._subscribers:
            subscription.close()
        self._subscribers.clear()

    async def close(self) -> None:
        self.stop_streams()
        if self._poller is not None:
            self._poller.cancel()
            try:
                await self._poller
            except asyncio.CancelledError:
                pass

    def check_accepting(self) -> None:
        if self._stopped:
            raise Unavailable("the server is stopping; reconnect", retry_after=1)
        if len(self._subscribers) >= self._max_streams:
            raise Unavailable(f"this server holds its maximum of {self._max_streams} live streams; reconnect shortly", retry_after=5)

    async def open(self, case_id: str | None = None, last_event_id: str | None = None, follows: Follows | None = None) -> Opening:
        """Subscribe to the changes committed from now on; with `last_event_id` (a change's cursor),
        to those after it, replaying them first if there are at most REPLAY_LIMIT (of every case:
        the bound is on the work, whatever the filter), else (too many, or an unknown cursor) the
        Opening says reset. Changes committed while replaying reach the subscription
        too; it skips those already replayed."""
        self.check_accepting()
        subscription = Subscription(case_id, self._queue_bound, follows)
        async with self._lock:
            if self._cursor is None:
                self._cursor = await self.newest()
            self._subscribers.add(subscription)
            self._someone_listens.set()
        try:
            return await self._catch_up(subscription, last_event_id)
        except BaseException:
            self.leave(subscription)
            raise

    async def _catch_up(self, subscription: Subscription, last_event_id: str | None) -> Opening:
        """What the subscription replays first; from where it then follows."""
        try:
            after = Cursor.parse(last_event_id) if last_event_id is not None else None
        except BadCursor:
            after = None
        missed = [] if after is None else await self._read_after(after, REPLAY_LIMIT + 1)
        if after is None or len(missed) > REPLAY_LIMIT:
            # From now on: the poller may still be behind, with changes committed before this subscription.
            subscription.skip_through(await self.newest())
            return Opening(subscription, [], reset=last_event_id is not None)
        subscription.skip_through(missed[-1].cursor if missed else after)
        return Opening(subscription, [change for change in missed if subscription.wants(change)], reset=False)

    def leave(self, subscription: Subscription) -> None:
        subscription.close()
        self._subscribers.discard(subscription)

    async def _poll_while_listened(self) -> None:
        failing = False
        while True:
            await self._someone_listens.wait()
            try:
                full = await self.poll()
                failing = False
            except Exception as error:  # the read model is down: keep the streams, try again
                if not failing:
                    log.warning("live updates: reading the read model failed (%s); retrying", type(error).__name__)
                failing, full = True, False
            if not full:
                await asyncio.sleep(self._poll_seconds)

    async def poll(self) -> bool:
        """One round: read the next batch and hand it out; True if it was full (more may be waiting).
        The poller runs it every `poll_seconds` while anyone listens."""
        async with self._lock:
            if not self._subscribers:
                self._cursor = None
                self._someone_listens.clear()
                return False
            if self._cursor is None:
                self._cursor = await self.newest()
            changes = await self._read_after(self._cursor, BATCH)
            if not self._subscribers:  # the last stream left while reading (joining waits for the lock)
                return False
            for change in changes:
                for subscription in [subscription for subscription in self._subscribers if not subscription.offer(change)]:
                    log.info("live updates: dropped a stream %s changes behind", self._queue_bound)
                    self.leave(subscription)
            if changes:
                self._cursor = changes[-1].cursor
            return len(changes) == BATCH

    async def newest(self) -> Cursor:
        """The newest change committed: a page rendered now can start its stream after it (no gap)."""
        query = self._final(select(events.c.committed_in, events.c.position))
        query = query.order_by(events.c.committed_in.desc(), events.c.position.desc()).limit(1)
        async with self._engine.connect() as connection:
            row = (await connection.execute(query)).first()
        return Cursor(row.committed_in, row.position) if row else Cursor(0, 0)

    async def _read_after(self, cursor: Cursor, limit: int) -> list[Change]:
        query = select(
            events.c.committed_in,
            events.c.position,
            events.c.case_id,
            events.c.seq,
            events.c.action,
            events.c.to_state,
            cases.c.kind,
            cases.c.owner,
            cases.c.team,
        ).outerjoin(cases, cases.c.id == events.c.case_id)
        query = self._final(query).where(tuple_(events.c.committed_in, events.c.position) > tuple_(cursor.committed_in, cursor.position))
        query = query.order_by(events.c.committed_in, events.c.position).limit(limit)
        async with self._engine.connect() as connection:
            rows = (await connection.execute(query)).all()
        return [
            Change(Cursor(row.committed_in, row.position), row.case_id, row.seq, row.action, row.kind, row.to_state, row.owner, row.team)
            for row in rows
        ]

    def _final(self, query: Select) -> Select:
        return query.where(events.c.committed_in < FINISHED_TRANSACTIONS) if self._on_postgres else query
