"""Live updates (GET /events/live): what the poller costs while nothing happens, at 100k events on
SQLite and PostgreSQL; and 500 streams held by one API process: its memory, and how long one change
takes to reach them all.

The streams are plain TCP connections in this process (an HTTP/1.1 request each, the response read
raw), so the load generator stays light; a stream has the change when the change's `data` line
arrives on it. Each change is a comment posted through the API: its time runs from sending the
request, so Temporal's update and the projection are in it, then at most one poll interval.
"""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlsplit

import httpx
from sqlalchemy import insert
from sqlalchemy.engine import make_url

from bench.postgres import fresh_database
from bench.stack import TOKENS, Stack, rss_mb
from bench.stats import percentiles
from service.live import LiveFeed
from service.read_model import ReadModel, create_engine
from service.tables import events

STREAMS = 500
ROUNDS = 10
IDLE_EVENTS = 100_000
IDLE_POLLS = 200
SEED_BATCH = 5_000
RSS_LIMIT_MB = 200
REACH_ALL_LIMIT_S = 2.0


async def idle_poll_cost(url: str, events_count: int = IDLE_EVENTS, polls: int = IDLE_POLLS) -> dict:
    """One listener, no new events: the time of a poll round at the head of `events_count` events,
    and what two rounds a second (the poll interval) cost."""
    model = ReadModel(create_engine(url))
    try:
        await model.upgrade()
        start = datetime.now(UTC) - timedelta(days=365)
        async with model.engine.begin() as connection:
            for first in range(0, events_count, SEED_BATCH):
                rows = [_event(n, start + timedelta(minutes=5 * n)) for n in range(first, min(first + SEED_BATCH, events_count))]
                await connection.execute(insert(events), rows)
        feed = LiveFeed(model)
        opening = await feed.open()
        await feed.poll()  # connection and statement caches warm
        timings, cpu = [], time.process_time()
        for _ in range(polls):
            began = time.perf_counter()
            await feed.poll()
            timings.append(time.perf_counter() - began)
        cpu_ms = 1000 * (time.process_time() - cpu) / polls
        feed.leave(opening.subscription)
        mean_ms = 1000 * sum(timings) / len(timings)
        return {
            "events": events_count,
            "polls": polls,
            **percentiles(timings),
            "mean_ms": round(mean_ms, 3),
            "this_process_cpu_ms_per_poll": round(cpu_ms, 3),
            # Two rounds a second: the wall time a process spends polling per second while anyone listens.
            "ms_per_second": round(mean_ms * 2, 2),
        }
    finally:
        await model.close()


def _event(n: int, at: datetime) -> dict:
    return {"case_id": f"bench-live-{n // 10:07d}", "seq": n % 10 + 1, "action": "comment", "from_state": "analyse",
            "to_state": "analyse", "actor_name": "agent1", "actor_role": "agent", "at": at, "data": {}}  # fmt: skip


class Streams:
    """Raw SSE connections to one API; each notes when it has seen the awaited marker."""

    def __init__(self, host: str, port: int):
        self.host, self.port = host, port
        self.tasks: list[asyncio.Task] = []
        self.marker = b""
        self.seen: dict[int, float] = {}
        self.all_seen = asyncio.Event()
        self.count = 0

    async def open(self, count: int) -> None:
        opened = [asyncio.get_running_loop().create_future() for _ in range(count)]
        self.count = count
        self.tasks = [asyncio.create_task(self._read(index, future)) for index, future in enumerate(opened)]
        await asyncio.wait_for(asyncio.gather(*opened), 120)

    async def _read(self, index: int, opened: asyncio.Future) -> None:
        reader, writer = await asyncio.open_connection(self.host, self.port)
        request = (f"GET /events/live HTTP/1.1\r\nHost: {self.host}:{self.port}\r\nAccept: text/event-stream\r\n"
                   f"Authorization: Bearer {TOKENS['auditor']}\r\n\r\n")  # fmt: skip
        writer.write(request.encode())
        head = await reader.readuntil(b"\r\n\r\n")
        if not head.startswith(b"HTTP/1.1 200"):
            opened.set_exception(RuntimeError(head.decode(errors="replace")))
            return
        opened.set_result(None)
        tail = b""
        try:
            while chunk := await reader.read(65536):
                tail = tail[-512:] + chunk
                if self.marker and index not in self.seen and self.marker in tail:
                    self.seen[index] = time.perf_counter()
                    if len(self.seen) == self.count:
                        self.all_seen.set()
        finally:
            writer.close()

    def expect(self, marker: bytes) -> None:
        self.marker, self.seen = marker, {}
        self.all_seen.clear()

    async def close(self) -> None:
        for task in self.tasks:
            task.cancel()
        await asyncio.gather(*self.tasks, return_exceptions=True)


async def streams_on_one_api(progress, streams: int = STREAMS, rounds: int = ROUNDS) -> dict:
    stack = Stack()
    try:
        progress(f"live: starting a stack for {streams} streams in {stack.dir}")
        await stack.start_temporal()
        (stack.dir / "data").mkdir(parents=True, exist_ok=True)
        base = await stack.start_casework(f"sqlite+aiosqlite:///{stack.dir / 'data' / 'casework.db'}")
        api_pid = stack.processes["api"].pid
        agent = {"Authorization": f"Bearer {TOKENS['agent']}"}
        async with httpx.AsyncClient(base_url=base, timeout=60) as client:
            response = await client.post("/cases", json={"kind": "complaint", "title": "实时更新", "description": "live bench"}, headers=agent)
            response.raise_for_status()
            case_id = response.json()["id"]
            await _comment(client, case_id, agent)  # every code path the rounds take, warm before the idle figure
            await asyncio.sleep(1)
            idle_rss = rss_mb(api_pid)
            address = urlsplit(base)
            held = Streams(address.hostname or "127.0.0.1", address.port or 80)
            progress(f"live: opening {streams} streams")
            began = time.perf_counter()
            await held.open(streams)
            open_seconds = time.perf_counter() - began
            await asyncio.sleep(2)
            held_rss = rss_mb(api_pid)
            reach_all, per_stream, missing = [], [], 0
            try:
                for _ in range(rounds):
                    version = (await client.get(f"/cases/{case_id}", headers=agent)).json()["version"]
                    held.expect(f'"case_id":"{case_id}","seq":{version + 1},'.encode())
                    sent = time.perf_counter()
                    await _comment(client, case_id, agent)
                    try:
                        await asyncio.wait_for(held.all_seen.wait(), 30)
                    except TimeoutError:
                        missing += streams - len(held.seen)
                    arrivals = [moment - sent for moment in held.seen.values()]
                    per_stream += arrivals
                    if len(arrivals) == streams:
                        reach_all.append(max(arrivals))
                    await asyncio.sleep(0.3)
                after_rss = rss_mb(api_pid)
            finally:
                await held.close()
        return {
            "streams": streams,
            "rounds": rounds,
            "seconds_to_open_all": round(open_seconds, 2),
            "api_rss_mb_idle": idle_rss,
            "api_rss_mb_with_streams": held_rss,
            "api_rss_mb_after_rounds": after_rss,
            "rss_growth_mb": round(max(held_rss, after_rss) - idle_rss, 1),
            "reach_all_s": _seconds(reach_all),
            "per_stream": percentiles(per_stream),
            "streams_missed": missing,
        }
    finally:
        stack.stop()


async def _comment(client: httpx.AsyncClient, case_id: str, headers: dict[str, str]) -> None:
    response = await client.post(f"/cases/{case_id}/transitions", json={"action": "comment", "note": "实时"}, headers=headers)
    response.raise_for_status()


def _seconds(values: list[float]) -> dict:
    figures = percentiles(values)
    return {"p50_s": _in_seconds(figures["p50_ms"]), "p99_s": _in_seconds(figures["p99_ms"]), "max_s": round(max(values), 3) if values else None}


def _in_seconds(milliseconds: float | None) -> float | None:
    return None if milliseconds is None else round(milliseconds / 1000, 3)


async def measure(stack_dir: Path, postgres_url: str | None, progress) -> dict:
    result: dict = {"idle_poll": {}}
    progress(f"live: idle poll cost at {IDLE_EVENTS:,} events on SQLite")
    result["idle_poll"]["sqlite"] = await idle_poll_cost(f"sqlite+aiosqlite:///{stack_dir / 'live-idle.db'}")
    if postgres_url:
        progress(f"live: idle poll cost at {IDLE_EVENTS:,} events on PostgreSQL")
        try:
            url = make_url(postgres_url)
            live_url = await fresh_database(url.set(database=f"{url.database}_live").render_as_string(hide_password=False))
            result["idle_poll"]["postgres"] = await idle_poll_cost(live_url)
        except OSError as error:  # an unreachable PostgreSQL is reported, not fatal
            result["idle_poll"]["postgres"] = {"skipped": f"{type(error).__name__}: {error}"}
    result["streams"] = await streams_on_one_api(progress)
    return result


def targets(live: dict) -> list[dict]:
    streams = live.get("streams")
    if not streams:
        return []
    return [
        {"target": f"API RSS growth with {streams['streams']} live streams < {RSS_LIMIT_MB} MB", "measured": streams["rss_growth_mb"],
         "limit": RSS_LIMIT_MB, "below": True},
        {"target": f"one change reaches all {streams['streams']} streams < {REACH_ALL_LIMIT_S:g} s (p99 of rounds)",
         "measured": streams["reach_all_s"]["p99_s"] if not streams["streams_missed"] else None, "limit": REACH_ALL_LIMIT_S, "below": True},
    ]  # fmt: skip


def lines(live: dict) -> list[str]:
    found = []
    for database, figures in live.get("idle_poll", {}).items():
        if "skipped" in figures:
            found.append(f"live poll, idle, {database}: skipped ({figures['skipped']})")
            continue
        found.append(
            f"live poll, idle, {database:<8} {figures['events']:,} events  p50 {figures['p50_ms']:.2f} ms  p99 {figures['p99_ms']:.2f} ms"
            f"  -> {figures['ms_per_second']:.2f} ms per second at 2 polls/s (this process's CPU {figures['this_process_cpu_ms_per_poll']:.2f} ms per poll)"
        )
    streams = live.get("streams")
    if streams:
        reach, each = streams["reach_all_s"], streams["per_stream"]
        found.append(
            f"live streams: {streams['streams']} held by one API, RSS {streams['api_rss_mb_idle']} -> {streams['api_rss_mb_with_streams']} MiB"
            f" (after {streams['rounds']} rounds {streams['api_rss_mb_after_rounds']}); opened in {streams['seconds_to_open_all']} s"
        )
        found.append(
            f"  one change reaches all: p50 {reach['p50_s']} s, p99 {reach['p99_s']} s, max {reach['max_s']} s;"
            f" each stream p50 {each['p50_ms']} ms, p99 {each['p99_ms']} ms; missed {streams['streams_missed']}"
        )
    return found
