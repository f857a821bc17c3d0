"""A closed-loop load runner and the figures it yields: throughput and latency percentiles."""

from __future__ import annotations

import asyncio
import contextvars
import statistics
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

# Called (as a task) when a closed loop's measured window opens: lets a profiler see only that.
on_measuring: contextvars.ContextVar[Callable[[], Awaitable[None]] | None] = contextvars.ContextVar("on_measuring", default=None)

# One worker's next operation: an awaitable that raises on failure.
Operation = Callable[[int], Awaitable[None]]


@dataclass
class Run:
    concurrency: int
    seconds: float = 0.0
    latencies: list[float] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    def figures(self) -> dict:
        done = len(self.latencies)
        figures: dict[str, object] = {"concurrency": self.concurrency, "ops": done, "seconds": round(self.seconds, 2),
                                      "per_second": round(done / self.seconds, 1) if self.seconds else 0.0,
                                      "errors": len(self.errors), **percentiles(self.latencies)}  # fmt: skip
        if self.errors:
            figures["first_error"] = self.errors[0][:300]
        return figures


def percentiles(values: list[float]) -> dict[str, float | None]:
    """p50/p95/p99 in milliseconds (inclusive quantiles; None with fewer than two samples)."""
    if len(values) < 2:
        return {"p50_ms": None, "p95_ms": None, "p99_ms": None}
    cuts = statistics.quantiles(values, n=100, method="inclusive")
    return {"p50_ms": round(cuts[49] * 1000, 2), "p95_ms": round(cuts[94] * 1000, 2), "p99_ms": round(cuts[98] * 1000, 2)}


async def closed_loop(concurrency: int, seconds: float, operation: Operation, warmup: float = 0.0) -> Run:
    """`concurrency` workers, each calling `operation(worker)` back to back, measured for `seconds`.

    The measured window opens once every worker has finished its first operation and at least
    `warmup` seconds have passed (so slow first calls and the ramp-up are not counted), and closes
    `seconds` later. Operations that end inside the window count; the rest are awaited, not counted.
    """
    run = Run(concurrency)
    loop = asyncio.get_running_loop()
    start = loop.time()
    window: list[float] = []  # [opens, closes], once known
    finished: list[tuple[float, float]] = []  # (when it ended, how long it took)
    failed: list[tuple[float, str]] = []
    first_done = 0
    everyone_started = asyncio.Event()
    hook = on_measuring.get()

    def open_window() -> None:
        opens = max(loop.time(), start + warmup)
        window.extend([opens, opens + seconds])
        if hook is not None:
            loop.call_at(opens, lambda: asyncio.ensure_future(hook()))

    async def worker(index: int) -> None:
        nonlocal first_done
        counted_first = False
        while not window or loop.time() < window[1]:
            began = time.perf_counter()
            try:
                await operation(index)
                finished.append((loop.time(), time.perf_counter() - began))
            except Exception as error:  # counted and reported, never hidden
                failed.append((loop.time(), f"{type(error).__name__}: {error}"))
                await asyncio.sleep(0.05)
            if not counted_first:
                counted_first = True
                first_done += 1
                if first_done == concurrency:
                    everyone_started.set()

    async def opener() -> None:
        try:
            await asyncio.wait_for(everyone_started.wait(), timeout=warmup + 60)
        except TimeoutError:
            pass
        open_window()

    await asyncio.gather(opener(), *(worker(index) for index in range(concurrency)))
    opens, closes = window
    run.latencies = [took for ended, took in finished if opens <= ended <= closes]
    run.errors = [error for ended, error in failed if opens <= ended <= closes]
    run.seconds = closes - opens
    return run
