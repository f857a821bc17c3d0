"""Drive a case through a walk with the service layer (no HTTP), for workflow-level tests."""

from __future__ import annotations

import uuid

from temporalio.client import Client

from service.cases import CasePolicy, Cases
from service.read_model import ReadModel
from states.case import Actor
from states.opening import Report
from tests.api.walks import WALKS
from workflows.inputs import ActInput

ACTORS = {"agent": Actor("ann", "agent"), "supervisor": Actor("sam", "supervisor")}


async def walk_case(client: Client, read_model: ReadModel, policy: CasePolicy, kind: str) -> str:
    """Open a case of `kind` and take every step of its walk; return the case id."""
    opener, walk, states = WALKS[kind]
    cases = Cases(client, read_model, policy)
    case = await cases.open(Report(kind=kind, title=f"一个{kind}", description="描述"), ACTORS[opener], None, uuid.uuid4().hex)
    for (role, action, data), expected in zip(walk, states):
        case = await cases.act(case.id, ActInput(action, ACTORS[role], "备注", data, request_id=uuid.uuid4().hex))
        assert case.state == expected, (kind, action, case.state)
    return case.id
