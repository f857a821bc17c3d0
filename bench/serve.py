"""The `casework serve` topology under load: one command, its embedded Temporal, on this machine.

Two `casework serve` run side by side, each in a data folder of its own: the default (the API and the
worker in child processes of their own) and `--one-process` (both in serve's own process), with the
floor worker on each one's Temporal. Each phase runs on one, then the other, so that the machine's
noise hits both alike; the ratios compare Casework with the floor on the same Temporal.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

from bench.floor import Floor
from bench.http_load import CaseworkLoad
from bench.stack import FLOOR_QUEUE, ROOT, TASK_QUEUE, USERS, free_port, rss_mb
from service.settings import TemporalConnection
from service.temporal import connect

VARIANTS = {"processes": [], "one_process": ["--one-process"]}
PHASES = ("floor_update_with_start", "create", "floor_update", "transition")


class ServeStack:
    """`casework serve` in a temporary data folder on free loopback ports, and the floor worker on its Temporal."""

    def __init__(self, name: str, arguments: list[str], keep: bool):
        self.name = name
        self.arguments = arguments
        self.keep = keep
        self.dir = Path(tempfile.mkdtemp(prefix=f"casework-bench-serve-{name}-"))
        self.http_port, self.temporal_port = free_port(), free_port()
        self.processes: dict[str, subprocess.Popen] = {}

    @property
    def temporal_address(self) -> str:
        return f"127.0.0.1:{self.temporal_port}"

    def _spawn(self, name: str, args: list[str], env: dict[str, str]) -> subprocess.Popen:
        with open(self.dir / f"{name}.log", "ab") as log:
            process = subprocess.Popen([sys.executable, *args], env=env, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        self.processes[name] = process
        return process

    def _log(self, name: str) -> str:
        path = self.dir / f"{name}.log"
        return path.read_text(errors="replace") if path.exists() else ""

    async def _until_logged(self, name: str, line: str, seconds: float = 180) -> None:
        for _ in range(int(seconds * 10)):
            if line in self._log(name):
                return
            if self.processes[name].poll() is not None:
                raise RuntimeError(f"{name} exited with {self.processes[name].returncode}:\n{self._log(name)[-3000:]}")
            await asyncio.sleep(0.1)
        raise RuntimeError(f"{name} never logged {line!r}:\n{self._log(name)[-3000:]}")

    async def start(self) -> tuple[CaseworkLoad, Floor]:
        env = {key: value for key, value in os.environ.items() if not key.startswith("CASEWORK_")}
        env.update(
            CASEWORK_DATA_DIR=str(self.dir / "data"),
            CASEWORK_HTTP_PORT=str(self.http_port),
            CASEWORK_TEMPORAL_PORT=str(self.temporal_port),
            CASEWORK_TEMPORAL_UI_PORT=str(free_port()),
            CASEWORK_USERS=USERS,
            CASEWORK_TASK_QUEUE=TASK_QUEUE,
            CASEWORK_RATE_LIMIT_PER_MINUTE="1000000000",  # the bench measures the API, not its rate limit
            PYTHONPATH=str(ROOT),
        )
        self._spawn("serve", ["-m", "service.cli", "serve", *self.arguments], env)
        await self._until_logged("serve", "Press Ctrl+C to stop.")
        self._spawn("floor", ["-m", "bench.floor", self.temporal_address, FLOOR_QUEUE], env)
        await self._until_logged("floor", "floor worker ready")
        load = CaseworkLoad(f"http://127.0.0.1:{self.http_port}")
        await load.creations(2, 1, 0)  # first-call costs out of the way
        return load, Floor(await connect(TemporalConnection(self.temporal_address, "default")), FLOOR_QUEUE)

    def pids(self) -> dict[str, int]:
        """serve, its children by role (temporal; worker and api unless in one process), the floor worker, this process."""
        serve = self.processes["serve"].pid
        pids = {"serve": serve, "floor": self.processes["floor"].pid, "bench": os.getpid()}
        for child in Path(f"/proc/{serve}/task/{serve}/children").read_text().split():
            args = Path(f"/proc/{child}/cmdline").read_bytes().decode().split("\0")
            pids["temporal" if args[0].endswith("/temporal") else args[3]] = int(child)
        return pids

    def stop(self) -> None:
        for name in ("floor", "serve"):
            process = self.processes.get(name)
            if process is not None and process.poll() is None:
                process.send_signal(signal.SIGTERM)
                try:
                    process.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait()
        if not self.keep:
            shutil.rmtree(self.dir, ignore_errors=True)


Timed = Callable[..., Awaitable[dict]]  # bench.__main__.timed_phase


async def measure(concurrency: int, seconds: float, warmup: float, timed: Timed, progress: Callable[[str], None], keep: bool) -> dict:
    """Each phase at `concurrency` on both topologies; their figures (CPU per operation by process) and ratios."""
    stacks = {name: ServeStack(name, arguments, keep) for name, arguments in VARIANTS.items()}
    clients: dict[str, tuple[CaseworkLoad, Floor]] = {}
    figures: dict[str, dict] = {name: {} for name in stacks}
    try:
        for name, stack in stacks.items():
            progress(f"serve: starting `casework serve {' '.join(stack.arguments)}` in {stack.dir}")
            began = time.perf_counter()
            clients[name] = await stack.start()
            figures[name]["seconds_to_start"] = round(time.perf_counter() - began, 1)
        for phase in PHASES:
            for name, stack in stacks.items():
                progress(f"serve: {phase} at concurrency {concurrency}, {name}")
                load, floor = clients[name]
                run = {"floor_update_with_start": floor.update_with_start, "create": load.creations,
                       "floor_update": floor.updates, "transition": load.transitions}[phase]  # fmt: skip
                figures[name][phase] = await timed(stack, run(concurrency, seconds, warmup))
        for name, stack in stacks.items():  # after the load: what the topology costs in memory
            figures[name]["rss_mb"] = {role: rss_mb(pid) for role, pid in stack.pids().items() if role not in ("floor", "bench")}
    finally:
        for load, _ in clients.values():
            await load.close()
        for stack in stacks.values():
            stack.stop()
    return {"concurrency": concurrency, **{name: {**by_phase, "ratios": ratios(by_phase)} for name, by_phase in figures.items()}}


def ratios(by_phase: dict) -> dict:
    def rate(phase: str, figure: str = "per_second") -> float | None:
        return by_phase.get(phase, {}).get(figure)

    def ratio(numerator: float | None, denominator: float | None) -> float | None:
        return round(numerator / denominator, 3) if numerator and denominator else None

    return {
        "transition_vs_floor_update": ratio(rate("transition"), rate("floor_update")),
        "transition_p99_vs_floor_update_p99": ratio(rate("transition", "p99_ms"), rate("floor_update", "p99_ms")),
        "create_vs_floor_update_with_start": ratio(rate("create"), rate("floor_update_with_start")),
    }
