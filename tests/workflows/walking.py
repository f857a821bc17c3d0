"""Drive a case through its kind's walk with the service layer (no HTTP), for workflow-level tests."""

from __future__ import annotations

import uuid

from temporalio.client import Client

from service.cases import Cases, WorkflowConfig
from service.read_model import ReadModel
from states.opening import Report
from tests.support import OPENERS, WALKS, phases
from workflows.activities import Router
from workflows.inputs import ActInput


async def walk_case(client: Client, read_model: ReadModel, policy: WorkflowConfig, kind: str, router: Router | None = None) -> str:
    """Open a case of `kind` (routed by the service with `router`) and take every step of its walk; return the case id."""
    cases = Cases(client, read_model, policy, router=router)
    case = await cases.open(Report(kind=kind, title=f"一个{kind}", description="描述"), OPENERS[kind], None, uuid.uuid4().hex)
    for step, expected in zip(WALKS[kind], phases(WALKS[kind])):
        case = await cases.act(case.id, ActInput(step.action, step.actor, "备注", step.data, request_id=uuid.uuid4().hex))
        assert case.state == expected, (kind, step.action, case.state)
    return case.id
