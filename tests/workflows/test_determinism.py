"""The case workflows run unsandboxed; what the sandbox would refuse is refused here instead."""

import uuid
from pathlib import Path

import pytest
from temporalio.client import WorkflowFailureError
from temporalio.worker import UnsandboxedWorkflowRunner, Worker
from temporalio.workflow import NondeterminismError

from tests.workflows import nondeterministic_workflow
from tests.workflows.determinism import WORKFLOW_CODE, nondeterministic_uses
from tests.workflows.nondeterministic_workflow import NondeterministicWorkflow

BAD_WORKFLOW = Path(nondeterministic_workflow.__file__)
# Each of the bad workflow's uses, as the scan names it.
BAD_USES = {
    "clock": "datetime.datetime.now",
    "monotonic": "time.monotonic",
    "random": "random.random",
    "uuid": "uuid.uuid4",
    "file": "__builtins__.open",
}


def test_workflow_code_uses_nothing_the_sandbox_refuses():
    assert {path.parent.name for path in WORKFLOW_CODE} == {"states", "workflows"}
    assert [use for path in WORKFLOW_CODE for use in nondeterministic_uses(path)] == []


def test_the_scan_finds_each_nondeterministic_use_of_a_bad_workflow():
    found = [use.rsplit(": ", 1)[1] for use in nondeterministic_uses(BAD_WORKFLOW)]
    assert sorted(found) == sorted(BAD_USES.values())


@pytest.mark.parametrize("use", list(BAD_USES))
async def test_the_sandbox_refuses_what_the_scan_finds_and_unsandboxed_nothing_does(temporal_env, use):
    """The scan's findings are the sandbox's refusals: sandboxed, each use fails the workflow;
    unsandboxed, as the case workflows run, the same workflow completes and nobody notices."""
    client = temporal_env.client
    queue = f"nondeterministic-{uuid.uuid4()}"
    # A refusal fails the workflow, not only its task (which would be retried until the test times out).
    async with Worker(client, task_queue=queue, workflows=[NondeterministicWorkflow], workflow_failure_exception_types=[NondeterminismError]):
        with pytest.raises(WorkflowFailureError) as failed:
            await client.execute_workflow(NondeterministicWorkflow.run, use, id=f"{queue}-sandboxed", task_queue=queue)
    assert "restricted" in str(failed.value.cause).lower()
    async with Worker(client, task_queue=queue, workflows=[NondeterministicWorkflow], workflow_runner=UnsandboxedWorkflowRunner()):
        assert await client.execute_workflow(NondeterministicWorkflow.run, use, id=f"{queue}-unsandboxed", task_queue=queue)
