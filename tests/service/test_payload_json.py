"""Casework's JSON payloads are the SDK default's, byte for byte and object for object, on the cases of
every kind walked to the end (service/payload_json.py), and refuse what the default refuses."""

from __future__ import annotations

import pytest
from temporalio.converter import DataConverter

from service.payload_json import PayloadConverter
from states.case import Authority, CaseState, copy_case
from states.opening import Report
from tests.states._support import NOW, PATHS, machine_in
from workflows.inputs import ActInput, ProjectInput, ReportInput

DEFAULT = DataConverter.default.payload_converter
OURS = PayloadConverter()


def walked(kind: str) -> list[object]:
    """What a case of `kind` passes through payloads as it is walked to the end of its path."""
    machine = machine_in(kind, "report")
    values: list[object] = [ReportInput(Report(kind, title="一个案件", data={"order_ref": "JD-1"}), PATHS[kind][0].actor, request_id="r")]
    for step in PATHS[kind]:
        authority = Authority(step.actor.name, ("华东组",), (), True)
        values.append(ActInput(step.action, step.actor, "备注", step.data, 3, "request", {"after": 0.5}, authority))
        event = machine.take(step.action, step.actor, step.data, "备注", NOW)
        values.append(ProjectInput(copy_case(machine.case), event, retry_refused=True, fence="0001"))
        values.append(copy_case(machine.case))
    return values


@pytest.mark.parametrize("kind", sorted(PATHS))
def test_every_payload_of_a_walked_case_is_the_same_bytes_and_reads_back_the_same(kind):
    values = walked(kind)
    ours, default = OURS.to_payloads(values), DEFAULT.to_payloads(values)
    assert [payload.data for payload in ours] == [payload.data for payload in default]
    hints = [type(value) for value in values]
    read = OURS.from_payloads(ours, hints)
    assert read == DEFAULT.from_payloads(default, hints) == values
    assert [type(value) for value in read] == hints


def test_a_field_of_the_wrong_kind_is_refused_as_the_default_refuses_it():
    payload = OURS.to_payloads([{"id": 7, "kind": "complaint"}])
    with pytest.raises(TypeError) as ours:
        OURS.from_payloads(payload, [CaseState])
    with pytest.raises(TypeError) as default:
        DEFAULT.from_payloads(payload, [CaseState])
    assert str(ours.value) == str(default.value) == f"Failed converting field id on dataclass {CaseState}"
