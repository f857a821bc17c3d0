"""VIP escalation by policy (v7) keeps the old rule for histories recorded before it: a VIP customer's
breach escalated whatever the policy said, and such a history must replay on today's code."""

import asyncio
import uuid

from temporalio.client import WorkflowHistory
from temporalio.worker import Replayer

from service.cases import Cases, WorkflowConfig
from states.opening import Report
from tests.conftest import worker_on
from tests.support import AGENT, eventually
from workflows.case_workflow import VIP_BY_POLICY_PATCH, CaseWorkflow

# A department that escalates only urgent cases: its policy does not list `vip`.
POLICY = {"warn_at": 0.5, "auto_escalate": ["urgent"], "targets": {"complaint": {"high": {"first_response": 1}}}}


async def breach_a_vip_case(temporal_env, read_model, task_queue: str) -> tuple[str, list[str]]:
    """A normal-priority VIP complaint (its clocks run as high's) until its first-response breach is recorded."""
    async with worker_on(temporal_env.client, read_model, task_queue):
        cases = Cases(temporal_env.client, read_model, WorkflowConfig(task_queue, 3600, 500, POLICY, 0.001))
        report = Report("complaint", "贵宾投诉", "d", customer={"id": "c", "vip": True})
        case = await cases.open(report, AGENT, None, uuid.uuid4().hex)
        await eventually(lambda: _has(read_model, case.id, "sla_breached"), what="the breach")
        # Past the breach: its escalation (the old rule) has been recorded by now, or there is none (the policy's).
        await asyncio.sleep(1.5)
        return case.id, [event["action"] for event in await read_model.history(case.id)]


def markers(history) -> str:
    """The recorded markers (patches among them), as text."""
    return "".join(str(event.marker_recorded_event_attributes) for event in history.events if event.HasField("marker_recorded_event_attributes"))


async def _has(read_model, case_id: str, action: str) -> bool | None:
    return any(event["action"] == action for event in await read_model.history(case_id)) or None


async def test_a_vip_escalation_recorded_under_the_old_rule_replays(temporal_env, read_model, stack_settings, monkeypatch):
    # The code before v7, run as it was: VIPs escalated on a breach whatever the policy said, no marker
    # (nor v9's, which stands for every patch before it).
    with monkeypatch.context() as patch:
        patch.setattr(CaseWorkflow, "_vip_by_policy", lambda self, case: False)
        patch.setattr(CaseWorkflow, "_v9", lambda self: False)
        patch.setattr("service.cases.CASE_CODE_VERSION", 0)
        case_id, actions = await breach_a_vip_case(temporal_env, read_model, f"{stack_settings.task_queue}-old-vip")
    assert "escalate" in actions, actions
    history = await temporal_env.client.get_workflow_handle(case_id).fetch_history()
    assert VIP_BY_POLICY_PATCH not in markers(history)

    replayed = await Replayer(workflows=[CaseWorkflow]).replay_workflow(
        WorkflowHistory.from_json(case_id, history.to_json()), raise_on_replay_failure=False
    )
    assert replayed.replay_failure is None, replayed.replay_failure


async def test_a_vip_breach_recorded_under_the_policy_rule_does_not_escalate_and_replays(temporal_env, read_model, stack_settings):
    case_id, actions = await breach_a_vip_case(temporal_env, read_model, f"{stack_settings.task_queue}-new-vip")
    assert "sla_breached" in actions and "escalate" not in actions, actions
    history = await temporal_env.client.get_workflow_handle(case_id).fetch_history()
    assert "core_patch" not in markers(history)  # since v10 the run's input says the code it began on, no marker
    replayed = await Replayer(workflows=[CaseWorkflow]).replay_workflow(
        WorkflowHistory.from_json(case_id, history.to_json()), raise_on_replay_failure=False
    )
    assert replayed.replay_failure is None, replayed.replay_failure
