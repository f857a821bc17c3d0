"""Record the Temporal histories that the replay test replays: run after a deliberate change of the
workflow's command sequence (behind `workflow.patched`), keep the old files, add the new ones.

    .venv/bin/python -m tests.workflows.record_histories
"""

from __future__ import annotations

import asyncio
import tempfile
from pathlib import Path

from temporalio.testing import WorkflowEnvironment

from service.cases import CasePolicy
from service.read_model import ReadModel, create_engine
from service.temporal import temporal_binary
from tests.api.walks import WALKS
from tests.workflows.walking import walk_case
from workflows.search import SEARCH_ATTRIBUTES
from workflows.notifications import Webhook
from workflows.worker import build_worker

HISTORIES = Path(__file__).parent / "histories"
TASK_QUEUE = "record-histories"


async def record(version: str) -> None:
    env = await WorkflowEnvironment.start_local(dev_server_existing_path=str(temporal_binary()), search_attributes=SEARCH_ATTRIBUTES)
    with tempfile.TemporaryDirectory() as folder:
        read_model = ReadModel(create_engine(f"sqlite+aiosqlite:///{folder}/rm.db"))
        await read_model.create_schema()
        try:
            async with build_worker(env.client, read_model, read_model, Webhook(), TASK_QUEUE):
                for kind in WALKS:
                    # A short run length, so the complaint's history includes continue-as-new.
                    policy = CasePolicy(TASK_QUEUE, reopen_window_seconds=3600, events_per_run=5 if kind == "complaint" else 500)
                    case_id = await walk_case(env.client, read_model, policy, kind)
                    first_run = env.client.get_workflow_handle(case_id, run_id=None, first_execution_run_id=None)
                    history = await first_run.fetch_history()
                    (HISTORIES / f"{version}-{kind}.json").write_text(history.to_json())
        finally:
            await read_model.close()
            await env.shutdown()


if __name__ == "__main__":
    asyncio.run(record("v1"))
