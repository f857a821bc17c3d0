"""The rate limit's counts, a slice at a time: over the database store (SQLite, PostgreSQL) and Redis,
two replicas sharing one store hold the limit to within a slice each, and write to the store far less
than once per request."""

from __future__ import annotations

import pytest

from service.rate_counter import RateCounter
from service.shared_store import Count, DatabaseStore, RedisStore
from tests.service.conftest import _postgres_model, _sqlite_model


class CountedStore:
    """The real store, with its writes counted."""

    def __init__(self, store):
        self.store = store
        self.writes = 0

    async def hit(self, key: str, window: float, amount: int = 1) -> Count:
        self.writes += 1
        return await self.store.hit(key, window, amount)


class Clock:
    def __init__(self) -> None:
        self.now = 1_000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres), "redis"])
async def store(request, tmp_path):
    models = _postgres_model() if request.param == "postgresql" else _sqlite_model(tmp_path)
    async for read_model in models:
        shared = RedisStore(request.getfixturevalue("redis_url")) if request.param == "redis" else DatabaseStore(read_model)
        yield CountedStore(shared)
        if isinstance(shared, RedisStore):
            await shared._redis.flushdb()
        await shared.close()


async def test_two_replicas_hold_the_limit_to_within_a_slice_each_and_seldom_write(store):
    limit = 1_200  # the default: a slice of 12
    replicas = [RateCounter(store, limit), RateCounter(store, limit)]
    admitted = 0
    for number in range(2 * limit):
        if (await replicas[number % 2].hit("rate:user:li")).count <= limit:
            admitted += 1
    assert limit <= admitted <= limit + 2 * 12
    assert (await store.store.peek("rate:user:li")).count > limit
    # Far from the limit a store write per slice; near it one per request; past it, none.
    assert store.writes < limit / 12 + 4 * 12


async def test_far_from_the_limit_the_count_is_exact_for_one_replica_with_a_write_per_slice(store):
    counter = RateCounter(store, 10_000)  # a slice of 20
    counts = [(await counter.hit("rate:user:wu")).count for _ in range(100)]
    assert counts == list(range(1, 101))
    assert store.writes == 1 + 99 // 20  # the window's first request, then a write every 20th
    assert (await store.store.peek("rate:user:wu")).count == 81  # the last 19 are still pending here


async def test_a_small_limit_counts_every_request_in_the_store(store):
    replicas = [RateCounter(store, 6), RateCounter(store, 6)]
    counts = [(await replicas[number % 2].hit("rate:address:10.0.0.7")).count for number in range(8)]
    assert counts == list(range(1, 9))
    assert store.writes == 8


async def test_a_new_window_starts_from_the_store(store):
    clock = Clock()
    counter = RateCounter(store, 10_000, clock)
    for _ in range(30):
        await counter.hit("rate:user:li")
    clock.now += 61
    await store.store.reset("rate:user:li")  # the store's own count ended with its window
    assert (await counter.hit("rate:user:li")).count == 1
    assert (await counter.hit("rate:user:li")).count == 2
