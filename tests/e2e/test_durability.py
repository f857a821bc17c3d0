"""Nothing is lost when the worker is killed or the embedded Temporal server restarts on its data."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
from contextlib import asynccontextmanager
from pathlib import Path

import pytest

from service.temporal import EmbeddedTemporal
from tests.conftest import Api, free_port, serving, settings_for
from tests.support import COMPLAINT_WALK, eventually, phases

CASEWORK = Path(sys.executable).parent / "casework"


class Stack:
    """An embedded Temporal server, `casework worker` processes and the API, on one data folder."""

    def __init__(self, folder: Path):
        self.folder = folder
        self.temporal = EmbeddedTemporal(folder / "temporal", free_port(), free_port())
        self.database_url = f"sqlite+aiosqlite:///{folder / 'casework.db'}"
        self.worker: subprocess.Popen | None = None

    @property
    def env(self) -> dict[str, str]:
        return {
            **os.environ,
            "CASEWORK_TEMPORAL_ADDRESS": self.temporal.address,
            "CASEWORK_DATABASE_URL": self.database_url,
            "CASEWORK_TASK_QUEUE": "durability",
        }

    def upgrade_read_model(self) -> None:
        subprocess.run([str(CASEWORK), "db", "upgrade"], env=self.env, check=True, capture_output=True, timeout=60)

    def start_worker(self) -> None:
        log = open(self.folder / "worker.log", "ab")
        self.worker = subprocess.Popen([str(CASEWORK), "worker"], env=self.env, stdout=log, stderr=subprocess.STDOUT)

    def kill_worker(self) -> None:
        assert self.worker is not None, "the worker was never started"
        self.worker.send_signal(signal.SIGKILL)
        self.worker.wait()

    def stop_worker(self) -> None:
        assert self.worker is not None, "the worker was never started"
        self.worker.terminate()
        assert self.worker.wait(timeout=30) == 0

    @asynccontextmanager
    async def api(self, sla_policy: dict | None = None):
        settings = settings_for(self.temporal.address, self.database_url, task_queue="durability", sla_policy=sla_policy)
        async with serving(settings) as client:
            yield Api(client)


@pytest.fixture
async def stack(tmp_path):
    stack = Stack(tmp_path)
    await stack.temporal.start()
    stack.upgrade_read_model()
    stack.start_worker()
    yield stack
    if stack.worker and stack.worker.poll() is None:
        stack.worker.kill()
    stack.temporal.stop()


async def assert_complete_history(api: Api, case_id: str) -> None:
    history = await api.history(case_id)
    assert [event["seq"] for event in history] == list(range(1, len(COMPLAINT_WALK) + 2))
    assert [event["action"] for event in history] == ["report"] + [step.action for step in COMPLAINT_WALK]
    assert [event["to_state"] for event in history][1:] == phases(COMPLAINT_WALK)
    case = await api.get(case_id)
    assert (case["state"], case["version"]) == ("closed", len(COMPLAINT_WALK) + 1)


async def test_a_case_survives_the_worker_being_killed_mid_case(stack):
    async with stack.api() as api:
        case = await api.open()
        await api.take(case["id"], COMPLAINT_WALK[:4])
        stack.kill_worker()
        # Sent while no worker runs: Temporal holds it until one is back.
        pending = asyncio.create_task(api.take(case["id"], COMPLAINT_WALK[4:5]))
        await asyncio.sleep(1)
        assert not pending.done()
        stack.start_worker()
        assert (await pending)["version"] == 6
        await api.take(case["id"], COMPLAINT_WALK[5:])
        await assert_complete_history(api, case["id"])


async def test_a_case_survives_restarting_the_embedded_temporal_server_on_the_same_data(stack):
    async with stack.api() as api:
        case = await api.open()
        await api.take(case["id"], COMPLAINT_WALK[:6])
    stack.stop_worker()
    stack.temporal.stop()

    await stack.temporal.start()
    stack.start_worker()
    async with stack.api() as api:
        assert (await api.get(case["id"]))["version"] == 7
        await api.take(case["id"], COMPLAINT_WALK[6:])
        await assert_complete_history(api, case["id"])


async def test_a_breach_fires_exactly_once_when_the_worker_is_down_across_the_deadline(stack):
    policy = {"warn_at": 0.5, "targets": {"complaint": {"normal": {"first_response": 3}}}}
    async with stack.api(policy) as api:
        case = await api.open()
        stack.kill_worker()
        await asyncio.sleep(4)  # warning and deadline pass while no worker runs
        stack.start_worker()
        await api.history_with(case["id"], "sla_breached", timeout=30)
        await asyncio.sleep(1)
        history = await api.history(case["id"])
        assert [event["action"] for event in history] == ["report", "sla_breached"]
        assert history[1]["data"]["deadline"] == case["sla"]["first_response"]["deadline"]


async def test_a_worker_serves_its_own_and_the_temporal_sdks_metrics(stack, tmp_path):
    import httpx

    from tests.conftest import free_port

    ports = free_port(), free_port()
    env = {**stack.env, "CASEWORK_METRICS_PORT": str(ports[0]), "CASEWORK_SDK_METRICS_PORT": str(ports[1]), "CASEWORK_LOG_FORMAT": "json"}
    with open(tmp_path / "metrics-worker.log", "wb") as log:
        worker = subprocess.Popen([str(CASEWORK), "worker"], env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        async with stack.api() as api:
            case = await api.open()
            await api.act(case["id"], "acknowledge")
        async with httpx.AsyncClient() as client:

            async def scraped(port: int) -> str | None:
                try:
                    return (await client.get(f"http://127.0.0.1:{port}/metrics")).text
                except httpx.TransportError:
                    return None

            own = await eventually(lambda: scraped(ports[0]), what="worker metrics")
            sdk = await eventually(lambda: scraped(ports[1]), what="SDK metrics")
        assert "casework_read_model_write_seconds_bucket" in own
        assert "temporal_" in sdk
        # The metrics are served before the worker is done starting; it is stopped once it polls, as one would be.
        log_text = lambda: (tmp_path / "metrics-worker.log").read_text()  # noqa: E731
        await eventually(lambda: "worker polling task queue" in log_text(), what="the worker polling")
    finally:
        worker.terminate()
        assert worker.wait(timeout=30) == 0
    lines = [line for line in (tmp_path / "metrics-worker.log").read_text().splitlines() if line.startswith("{")]
    assert lines and all(json.loads(line)["level"] for line in lines)
