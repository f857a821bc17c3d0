"""Record the Temporal histories that the replay test replays: run after a deliberate change of the
workflow's command sequence (behind `workflow.patched`), keep the old files, add the new ones.

    .venv/bin/python -m tests.workflows.record_histories v2    # writes histories/v2-*.json
"""

from __future__ import annotations

import asyncio
import sys
import tempfile
import uuid
from pathlib import Path

from temporalio.testing import WorkflowEnvironment

from service.cases import Cases, WorkflowConfig
from service.read_model import ReadModel, create_engine
from service.temporal import temporal_binary
from states.opening import Report
from tests.conftest import worker_on
from tests.support import AGENT, SUPERVISOR, WALKS, FixedRouter, eventually
from tests.workflows.walking import walk_case
from workflows.inputs import ActInput
from workflows.search import SEARCH_ATTRIBUTES

HISTORIES = Path(__file__).parent / "histories"
TASK_QUEUE = "record-histories"


async def record(version: str) -> None:
    env = await WorkflowEnvironment.start_local(dev_server_existing_path=str(temporal_binary()), search_attributes=SEARCH_ATTRIBUTES)
    with tempfile.TemporaryDirectory() as folder:
        read_model = ReadModel(create_engine(f"sqlite+aiosqlite:///{folder}/rm.db"))
        await read_model.upgrade()
        try:
            async with worker_on(env.client, read_model, TASK_QUEUE):
                for kind in WALKS:
                    # A short run length, so the complaint's history includes continue-as-new.
                    policy = WorkflowConfig(TASK_QUEUE, reopen_window_seconds=3600, events_per_run=5 if kind == "complaint" else 500)
                    case_id = await walk_case(env.client, read_model, policy, kind, FixedRouter())
                    first_run = env.client.get_workflow_handle(case_id, run_id=None, first_execution_run_id=None)
                    history = await first_run.fetch_history()
                    (HISTORIES / f"{version}-{kind}.json").write_text(history.to_json())
                await record_escalation(env.client, read_model, version)
        finally:
            await read_model.close()
            await env.shutdown()


async def record_escalation(client, read_model: ReadModel, version: str) -> None:
    """A breach that escalates by itself into a new incident, whose closing notifies the complaint."""
    policy = WorkflowConfig(
        TASK_QUEUE, 3600, 500, {"warn_at": 0.5, "auto_escalate": ["urgent"], "targets": {"complaint": {"urgent": {"first_response": 1}}}}
    )
    cases = Cases(client, read_model, policy)
    complaint = await cases.open(Report("complaint", "延误", "d", "urgent"), AGENT, None, uuid.uuid4().hex)

    async def linked() -> list[str]:
        return [link["case_id"] for link in (await read_model.get_case(complaint.id) or {}).get("links", [])]

    incident_ids = await eventually(linked, what="escalation")
    await eventually(lambda: read_model.get_case(incident_ids[0]), what="incident")
    for action, data in [
        ("start_analysis", None),
        ("record_cause", {"category": "system", "description": "d"}),
        ("add_action_item", {"title": "t", "owner": "o", "due": "2030-01-01T00:00:00Z"}),
        ("plan_measures", None),
        ("complete_action_item", {"item_id": "item-1", "outcome": "done"}),
        ("measures_done", None),
        ("close", {"effect": "e", "lessons_learned": "l", "minutes": "m"}),
    ]:
        await cases.act(incident_ids[0], ActInput(action, SUPERVISOR, None, data, request_id=uuid.uuid4().hex))

    async def told() -> bool:
        return any(event["action"] == "incident_closed" for event in await read_model.history(complaint.id))

    await eventually(told, what="incident_closed")
    for name, case_id in [("escalated-complaint", complaint.id), ("escalation-incident", incident_ids[0])]:
        history = await client.get_workflow_handle(case_id).fetch_history()
        (HISTORIES / f"{version}-{name}.json").write_text(history.to_json())


if __name__ == "__main__":
    if len(sys.argv) != 2 or (HISTORIES / f"{sys.argv[1]}-complaint.json").exists():
        sys.exit("usage: python -m tests.workflows.record_histories VERSION  (a version not recorded yet, e.g. v3)")
    asyncio.run(record(sys.argv[1]))
