"""Since "project-locally" the audit reads a case's events back by replaying its history
(service/recorded.py): on histories of regular projection activities it must read what their inputs hold."""

from dataclasses import asdict
from pathlib import Path

import pytest
from temporalio.api.enums.v1 import EventType
from temporalio.client import WorkflowHistory
from temporalio.converter import DataConverter

from service.recorded import projected_events
from workflows.activities import PROJECT_ACTIVITIES
from workflows.inputs import ProjectInput

HISTORIES = sorted((Path(__file__).parents[1] / "workflows" / "histories").glob("*.json"))


def scheduled_projections(history: WorkflowHistory) -> dict[int, dict]:
    converter = DataConverter.default.payload_converter
    projected = {}
    for event in history.events:
        if event.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED:
            scheduled = event.activity_task_scheduled_event_attributes
            if scheduled.activity_type.name in PROJECT_ACTIVITIES:
                (input,) = converter.from_payloads(scheduled.input.payloads, [ProjectInput])
                projected[input.event.seq] = asdict(input.event)
    return projected


@pytest.mark.parametrize("path", HISTORIES, ids=[path.stem for path in HISTORIES])
async def test_replay_reads_back_the_events_a_history_projected(path):
    history = WorkflowHistory.from_json(path.stem, path.read_text())
    projected = await projected_events([history], DataConverter.default)
    by_activity = scheduled_projections(history)
    if by_activity:
        assert projected.events == [by_activity[seq] for seq in sorted(by_activity)]
        assert projected.fence is None
    else:  # projected locally: nothing in the history but the markers (a run continued as new starts later)
        seqs = [event["seq"] for event in projected.events]
        assert seqs and seqs == list(range(seqs[0], seqs[0] + len(seqs))) and projected.fence is not None
