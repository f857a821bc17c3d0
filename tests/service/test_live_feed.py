"""The live feed on the read model, SQLite and PostgreSQL: every committed event reaches the
subscriptions once, in commit order, whatever its time and however late its transaction commits."""

from __future__ import annotations

import asyncio
from datetime import datetime

import pytest
from sqlalchemy import event, insert

from service.cases import Unavailable
from service.live import Change, LiveFeed, Subscription
from service.read_model import ReadModel
from service.tables import events
from tests.support import eventually, moment


def _row(case_id: str, seq: int, at: datetime) -> dict:
    return {"case_id": case_id, "seq": seq, "action": "comment", "from_state": "report", "to_state": "report",
            "actor_name": "ann", "actor_role": "agent", "at": at, "data": {}}  # fmt: skip


async def _add(read_model: ReadModel, *rows: dict) -> None:
    async with read_model.engine.begin() as connection:
        for row in rows:
            await connection.execute(insert(events).values(row))


async def _received(subscription: Subscription, wait: float = 0) -> list[tuple[str, int]]:
    batch = await subscription.next(wait)
    assert batch is not None, "the subscription was closed"
    return _keys(batch)


def _keys(changes: list[Change]) -> list[tuple[str, int]]:
    return [(change.case_id, change.seq) for change in changes]


async def _polled(feed: LiveFeed, subscription: Subscription, count: int) -> list[tuple[str, int]]:
    """Poll until `count` changes reached the subscription. On PostgreSQL any transaction still
    running on the server (another test's, say) holds back what committed after it began."""
    received: list[tuple[str, int]] = []

    async def enough() -> bool:
        await feed.poll()
        received.extend(await _received(subscription))
        return len(received) >= count

    await eventually(enough, 15, f"{count} changes")
    return received


async def test_an_event_committed_later_with_an_earlier_time_is_delivered(read_model):
    feed = LiveFeed(read_model)
    subscription = (await feed.open()).subscription
    await _add(read_model, _row("a", 1, moment(60)))
    assert await _polled(feed, subscription, 1) == [("a", 1)]
    await _add(read_model, _row("b", 1, moment(0)))  # a minute older than the one delivered
    assert await _polled(feed, subscription, 1) == [("b", 1)]


async def test_resuming_replays_after_the_cursor_in_commit_order(read_model):
    feed = LiveFeed(read_model)
    first = (await feed.open()).subscription
    await _add(read_model, _row("b", 1, moment(60)), _row("c", 1, moment(0)))
    await _add(read_model, _row("d", 1, moment(30)))
    assert await _polled(feed, first, 3) == [("b", 1), ("c", 1), ("d", 1)]
    opening = await feed.open(last_event_id=str(await _cursor_of(feed, "b")))
    assert (opening.reset, _keys(opening.replay)) == (False, [("c", 1), ("d", 1)])


async def _cursor_of(feed: LiveFeed, case_id: str):
    """A change's cursor, as a client that received it holds it."""
    opening = await feed.open(last_event_id="0-0")
    feed.leave(opening.subscription)
    return next(change.cursor for change in opening.replay if change.case_id == case_id)


@pytest.mark.postgres
async def test_on_postgresql_an_event_numbered_first_but_committed_last_is_not_skipped(read_model):
    if read_model.engine.dialect.name != "postgresql":
        pytest.skip("SQLite commits one writer at a time: numbers and commits come in the same order")
    feed = LiveFeed(read_model)
    subscription = (await feed.open()).subscription
    async with read_model.engine.connect() as slow:
        transaction = await slow.begin()
        await slow.execute(insert(events).values(_row("slow", 1, moment(0))))  # takes the lower position
        await _add(read_model, _row("fast", 1, moment(1)))  # takes the next, and commits first
        await feed.poll()  # without the check on running transactions, "fast" went out here and "slow" was skipped
        received = await _received(subscription)
        await transaction.commit()
    assert received + await _polled(feed, subscription, 2 - len(received)) == [("slow", 1), ("fast", 1)]


async def test_a_stream_too_far_behind_is_dropped_and_the_others_go_on(read_model):
    feed = LiveFeed(read_model, queue_bound=2)
    slow, keeping_up = (await feed.open()).subscription, (await feed.open()).subscription
    await _add(read_model, _row("a", 1, moment(0)), _row("a", 2, moment(1)))
    assert await _polled(feed, keeping_up, 2) == [("a", 1), ("a", 2)]
    await _add(read_model, _row("a", 3, moment(2)))
    assert await _polled(feed, keeping_up, 1) == [("a", 3)]
    assert await slow.next(0) is None


async def test_nobody_listening_means_no_queries(read_model):
    queries: list[str] = []
    event.listen(read_model.engine.sync_engine, "before_cursor_execute", lambda *args: queries.append(args[2]))
    feed = LiveFeed(read_model, poll_seconds=0.01)
    feed.start()
    try:
        await asyncio.sleep(0.3)
        assert queries == []
        subscription = (await feed.open()).subscription
        await _add(read_model, _row("a", 1, moment(0)))
        assert await eventually(lambda: _received(subscription, 0.1)) == [("a", 1)]
        feed.leave(subscription)
        await asyncio.sleep(0.3)  # the round under way when it left may still finish
        asked = len(queries)
        await asyncio.sleep(0.3)
        assert len(queries) == asked
    finally:
        await feed.close()


async def test_a_full_server_refuses_a_new_stream(read_model):
    feed = LiveFeed(read_model, max_streams=1)
    subscription = (await feed.open()).subscription
    with pytest.raises(Unavailable, match="maximum of 1 live streams"):
        await feed.open()
    feed.leave(subscription)
    await feed.open()


async def test_stopping_ends_every_stream_and_refuses_new_ones(read_model):
    feed = LiveFeed(read_model)
    subscription = (await feed.open()).subscription
    waiting = asyncio.create_task(subscription.next(60))
    await asyncio.sleep(0)
    feed.stop_streams()
    assert await waiting is None
    with pytest.raises(Unavailable, match="stopping"):
        await feed.open()


async def test_a_failing_read_keeps_the_streams_and_is_tried_again(read_model, monkeypatch, caplog):
    feed = LiveFeed(read_model, poll_seconds=0.01)
    subscription = (await feed.open()).subscription
    read_after, failures = feed._read_after, [OSError("read model unreachable")] * 3

    async def flaky(*arguments):
        if failures:
            raise failures.pop()
        return await read_after(*arguments)

    monkeypatch.setattr(feed, "_read_after", flaky)
    await _add(read_model, _row("a", 1, moment(0)))
    feed.start()
    try:
        assert await eventually(lambda: _received(subscription, 0.1)) == [("a", 1)]
    finally:
        await feed.close()
    assert failures == []
    assert [record.getMessage() for record in caplog.records if "live updates" in record.getMessage()] == [
        "live updates: reading the read model failed (OSError); retrying"
    ]
