"""Recorded histories must replay on today's workflow code: a changed command sequence without
`workflow.patched` breaks cases that are already running in production."""

from pathlib import Path

import pytest
from temporalio.client import WorkflowHistory
from temporalio.worker import Replayer, UnsandboxedWorkflowRunner

from service.payload_codec import PayloadKey, data_converter
from workflows.case_workflow import CaseWorkflow

HISTORIES = sorted((Path(__file__).parent / "histories").glob("*.json"))


def test_there_are_recorded_histories_of_every_kind():
    names = {path.stem.split("-", 1)[1] for path in HISTORIES}
    assert names >= {"complaint", "feedback", "incident", "improvement_plan"}


@pytest.mark.parametrize("path", HISTORIES, ids=[path.stem for path in HISTORIES])
async def test_recorded_history_replays_without_nondeterminism(path):
    history = WorkflowHistory.from_json(path.stem, path.read_text())
    result = await Replayer(workflows=[CaseWorkflow]).replay_workflow(history, raise_on_replay_failure=False)
    assert result.replay_failure is None, result.replay_failure


@pytest.mark.parametrize("path", HISTORIES, ids=[path.stem for path in HISTORIES])
async def test_recorded_history_replays_unsandboxed_as_production_runs_it(path):
    history = WorkflowHistory.from_json(path.stem, path.read_text())
    replayer = Replayer(workflows=[CaseWorkflow], workflow_runner=UnsandboxedWorkflowRunner())
    result = await replayer.replay_workflow(history, raise_on_replay_failure=False)
    assert result.replay_failure is None, result.replay_failure


@pytest.mark.parametrize("path", HISTORIES, ids=[path.stem for path in HISTORIES])
async def test_recorded_plaintext_history_replays_once_payload_keys_are_set(path):
    # Histories written before CASEWORK_PAYLOAD_KEYS stay readable: unencrypted payloads pass through the codec.
    # (An encrypted history replays in tests/api/test_payload_encryption.py.)
    history = WorkflowHistory.from_json(path.stem, path.read_text())
    converter = data_converter((PayloadKey("k1", bytes(32)),))
    result = await Replayer(workflows=[CaseWorkflow], data_converter=converter).replay_workflow(history, raise_on_replay_failure=False)
    assert result.replay_failure is None, result.replay_failure
