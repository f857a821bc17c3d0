"""Casework's JSON payloads are the SDK default's, byte for byte and object for object, on the cases of
every kind walked to the end (service/payload_json.py), and refuse what the default refuses."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import pytest
from temporalio.api.common.v1 import Payload
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


@dataclass
class Shapes:
    """Every shape of field the readers decide once per type, and one they leave to the SDK."""

    text: str
    flag: bool = False
    count: int = 0
    share: float = 0.0
    maybe: str | None = None
    maybe_number: int | None = None
    names: list[str] = field(default_factory=list)
    rows: list[dict[str, Any]] = field(default_factory=list)
    by_role: dict[str, list[str]] = field(default_factory=dict)
    anything: dict[str, Any] = field(default_factory=dict)
    inner: Authority | None = None
    pair: tuple[int, str] | None = None  # not one of the shapes: read by the SDK's value_to_type


GOOD = {"text": "文本", "flag": True, "count": 3, "share": 0.5, "maybe": "有", "maybe_number": 4, "names": ["a", "b"],
        "rows": [{"id": "1", "n": 2}], "by_role": {"agent": ["x"]}, "anything": {"a": [1, {"b": None}]},
        "inner": {"name": "王芳", "teams": ["华东组"], "leads": [], "ownership": False}, "pair": [1, "一"]}  # fmt: skip
ODD = [
    {"count": 2.0}, {"count": True}, {"share": 1}, {"maybe": None}, {"maybe_number": None}, {"names": "ab"}, {"inner": None},
    {"text": 7}, {"flag": 1}, {"count": "3"}, {"share": None}, {"maybe": 5}, {"maybe_number": "4"}, {"names": ["a", 2]}, {"names": 5},
    {"rows": [["x"]]}, {"by_role": {"agent": "x"}}, {"by_role": ["agent"]}, {"anything": [1]}, {"inner": {"name": 1}}, {"inner": 3},
    {"pair": [1, 2]},
]  # fmt: skip


@pytest.mark.parametrize("change", [{}, *ODD], ids=lambda change: json.dumps(change, ensure_ascii=False))
def test_each_shape_reads_as_the_default_reads_it_or_is_refused_as_the_default_refuses_it(change):
    payload = Payload(metadata={"encoding": b"json/plain"}, data=json.dumps({**GOOD, **change}).encode())
    try:
        expected: object = DEFAULT.from_payloads([payload], [Shapes])[0]
    except TypeError as refused:
        with pytest.raises(TypeError) as ours:
            OURS.from_payloads([payload], [Shapes])
        assert str(ours.value) == str(refused)
        return
    read = OURS.from_payloads([payload], [Shapes])[0]
    assert read == expected
    assert [type(getattr(read, name)) for name in vars(read)] == [type(getattr(expected, name)) for name in vars(expected)]
