"""The request rate limit's counts, kept close: each API replica counts a key's requests itself and
adds them to the shared store a slice at a time, not one store write per request (on SQLite every
such write also queues behind the projections' writes: it was a fifth of the API's CPU per request
and most of a transition's p99, docs/benchmarks.md). Near the limit every request goes to the store,
so the limit holds across replicas to within a slice per replica: 1 % of the limit, at most 20."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from service.shared_store import Count, SharedStore

WINDOW_SECONDS = 60.0
MAX_SLICE = 20
# Past this many keys, those whose window has passed are forgotten.
KEYS_KEPT = 10_000


@dataclass
class _Tally:
    shared: int  # the store's count when this replica last added to it
    pending: int  # requests counted here since, not yet in the store
    resets_at: float  # when the store's count starts again


class RateCounter:
    def __init__(self, store: SharedStore, per_minute: int, clock: Callable[[], float] = time.time):
        self._store = store
        self._limit = per_minute
        self._slice = max(1, min(per_minute // 100, MAX_SLICE))
        self._clock = clock
        self._tallies: dict[str, _Tally] = {}

    async def hit(self, key: str) -> Count:
        """Count one request of `key` in the current minute; the count includes it."""
        now = self._clock()
        tally = self._tallies.get(key)
        if tally is None or now >= tally.resets_at:
            amount = 1  # a new window: its first request goes to the store, to learn the count
        else:
            tally.pending += 1
            counted = tally.shared + tally.pending
            # Once the store's count is past the limit it stays there until its window ends: refusing
            # needs no more writes.
            over = tally.shared > self._limit
            if over or (tally.pending < self._slice and counted + self._slice <= self._limit):
                return Count(counted, tally.resets_at - now)
            amount, tally.pending = tally.pending, 0
        stored = await self._store.hit(key, WINDOW_SECONDS, amount)
        self._learn(key, stored, now)
        return stored

    def _learn(self, key: str, stored: Count, now: float) -> None:
        """Take the store's count in; in a window under way, requests counted here while it was asked stay pending."""
        resets_at = now + stored.resets_in
        tally = self._tallies.get(key)
        if tally is None or now >= tally.resets_at:
            if len(self._tallies) >= KEYS_KEPT:
                self._tallies = {name: kept for name, kept in self._tallies.items() if now < kept.resets_at}
            self._tallies[key] = _Tally(stored.count, 0, resets_at)
        else:
            # Answers of concurrent requests may come back in any order: the highest count is the latest.
            tally.shared = max(tally.shared, stored.count)
