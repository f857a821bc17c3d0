"""The embedded stack for a run: Temporal dev server, Casework worker and API, the floor worker.

Everything lives in a temporary data folder and on free loopback ports; each Python side runs in a
process of its own, as in production (docs/deploy.md), so the worker's memory is its own.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import socket
import subprocess
import sys
import tempfile
from pathlib import Path

import httpx

from service.read_model import ReadModel, create_engine
from service.settings import Settings
from service.temporal import DURABLE_SYNCHRONOUS, EmbeddedTemporal

ROOT = Path(__file__).resolve().parent.parent
TOKENS = {"agent": "bench-agent-token-0123456789", "supervisor": "bench-supervisor-token-0123456789", "auditor": "bench-auditor-token-0123456789"}
USERS = ",".join(f"{role}1:{role}:{token}" for role, token in TOKENS.items())
TASK_QUEUE = "casework-bench"
FLOOR_QUEUE = "bench-floor"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def rss_mb(pid: int) -> float:
    """Resident memory of a process now, in MiB (Linux /proc)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return round(int(line.split()[1]) / 1024, 1)
    raise RuntimeError(f"no VmRSS for process {pid}")


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class Stack:
    def __init__(self, keep: bool = False, synchronous: str = DURABLE_SYNCHRONOUS):
        """`synchronous`: the Temporal store's SQLite setting; the shipped one unless comparing."""
        self.dir = Path(tempfile.mkdtemp(prefix=f"casework-bench-{synchronous}-"))
        self.keep = keep
        self.temporal = EmbeddedTemporal(self.dir / "temporal", free_port(), free_port(), synchronous=synchronous)
        self.processes: dict[str, subprocess.Popen] = {}

    async def start_temporal(self):
        return await self.temporal.start()

    def env(self, database_url: str, http_port: int | None = None) -> dict[str, str]:
        env = {key: value for key, value in os.environ.items() if not key.startswith("CASEWORK_")}
        env.update(
            CASEWORK_DATA_DIR=str(self.dir / "data"),
            CASEWORK_TEMPORAL_ADDRESS=self.temporal.address,
            CASEWORK_DATABASE_URL=database_url,
            CASEWORK_USERS=USERS,
            CASEWORK_TASK_QUEUE=TASK_QUEUE,
            CASEWORK_RATE_LIMIT_PER_MINUTE="1000000000",  # the bench measures the API, not its rate limit
            PYTHONPATH=str(ROOT),
        )
        if http_port is not None:
            env["CASEWORK_HTTP_PORT"] = str(http_port)
        return env

    def spawn(self, name: str, args: list[str], env: dict[str, str]) -> subprocess.Popen:
        log = open(self.dir / f"{name}.log", "ab")
        process = subprocess.Popen([sys.executable, *args], env=env, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        log.close()
        self.processes[name] = process
        return process

    def log_tail(self, name: str, lines: int = 30) -> str:
        path = self.dir / f"{name}.log"
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:]) if path.exists() else ""

    async def upgrade(self, database_url: str) -> None:
        model = ReadModel(create_engine(database_url))
        try:
            await model.upgrade(Settings.timezone)  # the zone the processes run in (no CASEWORK_TIMEZONE)
        finally:
            await model.close()

    async def start_casework(self, database_url: str, name: str = "api", with_worker: bool = True) -> str:
        """A worker (unless told not to) and an API on the read model at `database_url`; the API's base URL."""
        await self.upgrade(database_url)
        port = free_port()
        if with_worker:
            self.spawn("worker", ["-m", "service.cli", "worker"], self.env(database_url))
        self.spawn(name, ["-m", "service.cli", "api"], self.env(database_url, port))
        base = f"http://127.0.0.1:{port}"
        await self.wait_healthy(base, name)
        return base

    async def wait_healthy(self, base: str, name: str, seconds: float = 60) -> None:
        async with httpx.AsyncClient() as client:
            for _ in range(int(seconds * 10)):
                for process_name, process in self.processes.items():
                    if process.poll() is not None:
                        raise RuntimeError(f"{process_name} exited with {process.returncode}:\n{self.log_tail(process_name)}")
                try:
                    if (await client.get(f"{base}/health")).status_code == 200:
                        return
                except httpx.TransportError:
                    pass
                await asyncio.sleep(0.1)
        raise RuntimeError(f"{name} at {base} never became healthy:\n{self.log_tail(name)}")

    async def start_floor_worker(self) -> None:
        process = self.spawn("floor", ["-m", "bench.floor", self.temporal.address, FLOOR_QUEUE], self.env("sqlite://"))
        log = self.dir / "floor.log"
        for _ in range(600):
            if process.poll() is not None:
                raise RuntimeError(f"the floor worker exited:\n{self.log_tail('floor')}")
            if log.exists() and "floor worker ready" in log.read_text(errors="replace"):
                return
            await asyncio.sleep(0.1)
        raise RuntimeError(f"the floor worker never became ready:\n{self.log_tail('floor')}")

    def pids(self) -> dict[str, int]:
        """Every process of the run by role, this one (the load generator) included."""
        temporal_pid = self.temporal.pid
        if temporal_pid is None:
            raise RuntimeError("the Temporal server is not running")
        pids = {"temporal": temporal_pid, "bench": os.getpid()}
        pids.update({name: process.pid for name, process in self.processes.items() if process.poll() is None})
        return pids

    def stop_process(self, name: str) -> None:
        process = self.processes.pop(name, None)
        if process is None or process.poll() is not None:
            return
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()

    def stop(self) -> None:
        for name in list(self.processes):
            self.stop_process(name)
        self.temporal.stop()
        if not self.keep:
            shutil.rmtree(self.dir, ignore_errors=True)
