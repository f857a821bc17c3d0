"""Casework over HTTP: cases opened and transitions taken by closed-loop clients, as an agent would."""

from __future__ import annotations

import asyncio
import itertools
import time
from collections.abc import Callable
from typing import Any

import aiohttp
import httpx

from bench.stack import TOKENS
from bench.stats import Run, closed_loop, percentiles

# Below uvicorn's 5 s: a connection left idle between phases is dropped here first, not reused just
# as the server closes it (a POST sent on it would fail, and is not retried).
KEEPALIVE_SECONDS = 3
AGENT = {"Authorization": f"Bearer {TOKENS['agent']}"}

# From a real-looking complaint to remediate; then the customer stays unsatisfied, so the case
# goes remediate -> follow_up -> remediate for as long as the phase lasts: every step a change of
# phase with data, an event, a projection.
TO_REMEDIATE: list[dict[str, Any]] = [
    {"action": "acknowledge", "note": "Called the customer, confirmed we are on it"},
    {"action": "start_analysis"},
    {"action": "record_findings", "data": {"findings": "Left at the wrong pick-up station"}},
    {"action": "propose_remedy", "data": {"solution": "Redeliver by courier tomorrow"}},
]
LOOP: list[dict[str, Any]] = [
    {"action": "complete_remedy", "data": {"resolution": "Redelivered"}},
    {"action": "record_satisfaction", "data": {"satisfied": False, "score": 2}, "note": "still unhappy"},
]


def complaint(number: int) -> dict:
    return {
        "kind": "complaint", "title": f"包裹三天未到 #{number}", "description": "The parcel was due on Monday.",
        "priority": ("low", "normal", "high", "urgent")[number % 4], "channel": "phone",
        "customer": {"id": f"c-{number % 5000}", "name": "王芳", "vip": number % 10 == 0},
        "data": {"order_ref": f"JD-2026-{number}", "demand": "redeliver or refund"},
    }  # fmt: skip


class CaseworkLoad:
    """The load generator's HTTP client is aiohttp, not httpx: it shares the machine's two cores with
    what it measures, and httpx costs about six times its CPU per request (0.6 against 0.09 ms,
    docs/benchmarks.md). Each request is still a real one: keep-alive HTTP/1.1, the JSON answer
    read and its status checked."""

    def __init__(self, base: str):
        self.base = base
        self._session: aiohttp.ClientSession | None = None
        self.numbers = itertools.count(1)
        self.opened = 0
        self.steps: dict[str, int] = {}  # the cases walked to remediate, and the loop's steps each has taken

    @property
    def http(self) -> aiohttp.ClientSession:
        if self._session is None:  # made on first use, inside the running event loop
            self._session = aiohttp.ClientSession(
                self.base, timeout=aiohttp.ClientTimeout(total=90), connector=aiohttp.TCPConnector(limit=200, keepalive_timeout=KEEPALIVE_SECONDS)
            )
        return self._session

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()

    async def _post(self, path: str, body: dict, expected: int, what: str) -> dict:
        async with self.http.post(path, json=body, headers=AGENT) as response:
            if response.status != expected:
                raise RuntimeError(f"{what}: {response.status} {(await response.text())[:200]}")
            return await response.json()

    async def _open(self) -> str:
        opened = await self._post("/cases", complaint(next(self.numbers)), 201, "POST /cases")
        self.opened += 1
        return opened["id"]

    async def _act(self, case_id: str, body: dict) -> None:
        await self._post(f"/cases/{case_id}/transitions", body, 200, body["action"])

    async def creations(self, concurrency: int, seconds: float, warmup: float) -> Run:
        async def open_one(_: int) -> None:
            await self._open()

        return await closed_loop(concurrency, seconds, open_one, warmup)

    async def transitions(self, concurrency: int, seconds: float, warmup: float) -> Run:
        """One case per client, as a case's changes are applied one at a time anyway; the cases of a
        lower concurrency are taken up again, so only the new clients' cases are walked to remediate."""

        async def prepare() -> None:
            case_id = await self._open()
            for body in TO_REMEDIATE:
                await self._act(case_id, body)
            self.steps[case_id] = 0

        await asyncio.gather(*(prepare() for _ in range(concurrency - len(self.steps))))
        cases = list(self.steps)[:concurrency]

        async def act(index: int) -> None:
            case_id = cases[index]
            await self._act(case_id, LOOP[self.steps[case_id] % len(LOOP)])
            self.steps[case_id] += 1

        return await closed_loop(concurrency, seconds, act, warmup)

    async def open_until(self, total: int, concurrency: int = 50) -> None:
        """Open cases until `total` have been opened by this client (for the memory figure)."""

        async def worker() -> None:
            while self.opened < total:
                await self._open()

        await asyncio.gather(*(worker() for _ in range(concurrency)))


async def measure_gets(base: str, path: str, named: dict[str, dict], rounds: int, tally: tuple[str, Callable[[Any], int]]) -> dict:
    """Each named query `rounds` times, one request at a time, interleaved, after one warm-up each;
    p50/p99 overall and per query, with `tally`'s figure of each query's last answer."""
    headers = {"Authorization": f"Bearer {TOKENS['auditor']}"}
    timings: dict[str, list[float]] = {name: [] for name in named}
    tallies: dict[str, int] = {}
    label, count = tally
    async with httpx.AsyncClient(base_url=base, timeout=60) as client:
        for query in named.values():
            (await client.get(path, params=query, headers=headers)).raise_for_status()
        for _ in range(rounds):
            for name, query in named.items():
                began = time.perf_counter()
                response = await client.get(path, params=query, headers=headers)
                timings[name].append(time.perf_counter() - began)
                if response.status_code != 200:
                    raise RuntimeError(f"GET {path} {query}: {response.status_code} {response.text[:200]}")
                tallies[name] = count(response.json())
    every = [value for values in timings.values() for value in values]
    return {
        **percentiles(every),
        "requests": len(every),
        "by_query": {name: {**percentiles(values), label: tallies[name]} for name, values in timings.items()},
    }
