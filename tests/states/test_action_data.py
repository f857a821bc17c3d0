"""Data an action or a report takes: refusals name the field, the case stays as it was, cleaned
values are what is kept, and text in any language comes back unchanged."""

import copy

import pytest

from states import InvalidData
from states.opening import Report, open_case
from tests.states._support import VALID_DATA, machine_in, opened
from tests.support import AGENT, NOW, SUPERVISOR

DUE = "2030-01-01T09:00:00Z"
ITEM = {"title": "t", "owner": "o", "due": DUE}
MINUTES: dict = VALID_DATA["publish_minutes"] or {}

# (kind, phase, actor, action, data, field)
BAD_ACTION_DATA = [
    ("complaint", "analyse", AGENT, "record_findings", {}, "data.findings"),
    ("complaint", "analyse", AGENT, "record_findings", None, "data.findings"),
    ("complaint", "analyse", AGENT, "record_findings", {"findings": None}, "data.findings"),
    ("complaint", "analyse", AGENT, "record_findings", {"findings": "   "}, "data.findings"),
    ("complaint", "analyse", AGENT, "record_findings", {"findings": 42}, "data.findings"),
    ("complaint", "analyse", AGENT, "record_findings", {"findings": "x" * 20_001}, "data.findings"),
    ("complaint", "analyse", AGENT, "record_findings", "the findings", "data"),
    ("complaint", "analyse", AGENT, "propose_remedy", {"remedy": "refund"}, "data.solution"),
    ("complaint", "analyse", SUPERVISOR, "dismiss", {}, "data.reason"),
    ("complaint", "remediate", AGENT, "complete_remedy", {"resolution": ["refund"]}, "data.resolution"),
    ("complaint", "follow_up", AGENT, "record_satisfaction", {}, "data.satisfied"),
    ("complaint", "follow_up", AGENT, "record_satisfaction", {"satisfied": "true"}, "data.satisfied"),
    ("complaint", "follow_up", AGENT, "record_satisfaction", {"satisfied": 1}, "data.satisfied"),
    ("complaint", "follow_up", AGENT, "record_satisfaction", {"satisfied": True, "score": 0}, "data.score"),
    ("complaint", "follow_up", AGENT, "record_satisfaction", {"satisfied": True, "score": 6}, "data.score"),
    ("complaint", "follow_up", AGENT, "record_satisfaction", {"satisfied": True, "score": 2.5}, "data.score"),
    ("complaint", "follow_up", AGENT, "record_satisfaction", {"satisfied": True, "score": "5"}, "data.score"),
    ("complaint", "follow_up", AGENT, "record_satisfaction", {"satisfied": True, "score": True}, "data.score"),
    ("complaint", "follow_up", AGENT, "record_satisfaction", {"satisfied": True, "score": float("nan")}, "data.score"),
    ("complaint", "closed", AGENT, "reopen", {}, "data.reason"),
    ("complaint", "report", SUPERVISOR, "assign", {}, "data.owner"),
    ("complaint", "report", SUPERVISOR, "set_priority", {"priority": "critical"}, "data.priority"),
    ("complaint", "report", SUPERVISOR, "escalate", {"incident_id": "i"}, "data.reason"),
    ("feedback", "report", AGENT, "classify", {}, "data.category"),
    ("feedback", "report", AGENT, "classify", {"category": "weather"}, "data.category"),
    ("feedback", "report", AGENT, "classify", {"category": "Logistics"}, "data.category"),
    ("feedback", "analyse", AGENT, "route", {"department": ""}, "data.department"),
    ("feedback", "remediate", AGENT, "record_result", {}, "data.result"),
    ("feedback", "follow_up", AGENT, "record_satisfaction", {"satisfied": "no"}, "data.satisfied"),
    ("incident", "analyse", AGENT, "record_cause", {"category": "system"}, "data.description"),
    ("incident", "analyse", AGENT, "record_cause", {"category": "training", "description": "d"}, "data.category"),
    ("incident", "analyse", AGENT, "add_action_item", {"owner": "o", "due": DUE}, "data.title"),
    ("incident", "analyse", AGENT, "add_action_item", {"title": "t", "due": DUE}, "data.owner"),
    ("incident", "analyse", AGENT, "add_action_item", {"title": "t", "owner": "o"}, "data.due"),
    ("incident", "analyse", AGENT, "add_action_item", {**ITEM, "due": "tomorrow"}, "data.due"),
    ("incident", "analyse", AGENT, "add_action_item", {**ITEM, "due": "2030-01-01T09:00:00"}, "data.due"),
    ("incident", "analyse", AGENT, "add_action_item", {**ITEM, "due": 1893488400}, "data.due"),
    ("incident", "follow_up", SUPERVISOR, "close", {"effect": "e", "lessons_learned": "l"}, "data.minutes"),
    ("incident", "follow_up", SUPERVISOR, "publish_minutes", {**MINUTES, "agenda": None}, "data.agenda"),
    ("incident", "follow_up", SUPERVISOR, "publish_minutes", {**MINUTES, "held_at": "yesterday"}, "data.held_at"),
    ("incident", "report", SUPERVISOR, "set_attendees", {}, "data.host"),
    ("incident", "report", SUPERVISOR, "set_attendees", {"participants": "ann, bo"}, "data.participants"),
    ("incident", "follow_up", SUPERVISOR, "open_improvement_plan", {"baseline": "12%"}, "data.baseline"),
    ("improvement_plan", "analyse", AGENT, "record_cause", {"category": "system", "description": "d"}, "data.category"),
    ("improvement_plan", "analyse", AGENT, "add_action_item", {**ITEM, "due": "2030-13-01T00:00:00Z"}, "data.due"),
    ("improvement_plan", "follow_up", SUPERVISOR, "record_effect", {"effective": False}, "data.after_value"),
    ("improvement_plan", "follow_up", SUPERVISOR, "record_effect", {"effective": "no", "after_value": 1}, "data.effective"),
    ("improvement_plan", "follow_up", SUPERVISOR, "record_effect", {"effective": True, "after_value": "93%"}, "data.after_value"),
    ("improvement_plan", "follow_up", SUPERVISOR, "record_effect", {"after_value": 0.9}, "data.effective"),
]


def case_id(row):
    kind, _, _, action, data, field = row
    return f"{kind}-{action}-{field}-{str(data)[:30]}"


@pytest.mark.parametrize(("kind", "phase", "actor", "action", "data", "field"), BAD_ACTION_DATA, ids=map(case_id, BAD_ACTION_DATA))
def test_invalid_action_data_is_refused_naming_the_field_and_changes_nothing(kind, phase, actor, action, data, field):
    machine = machine_in(kind, phase)
    before = copy.deepcopy(machine.case)
    with pytest.raises(InvalidData) as refused:
        machine.take(action, actor, data, None, NOW)
    assert refused.value.field == field and refused.value.message
    assert str(refused.value).startswith(f"{field}: ")
    assert machine.case == before


# (kind, report fields, field)
BAD_REPORTS = [
    ("complaint", {"title": ""}, "title"),
    ("complaint", {"title": "   "}, "title"),
    ("complaint", {"title": None}, "title"),
    ("complaint", {"priority": "critical"}, "priority"),
    ("complaint", {"customer": {"vip": "yes"}}, "customer.vip"),
    ("complaint", {"customer": "Zhang San"}, "customer"),
    ("complaint", {"channel": 7}, "channel"),
    ("complaint", {"data": {"order_ref": 123}}, "data.order_ref"),
    ("feedback", {"data": {"occurred_at": "yesterday"}}, "data.occurred_at"),
    ("incident", {"data": {"participants": "ann, bo"}}, "data.participants"),
    ("incident", {"data": {"participants": ["ann", 7]}}, "data.participants[1]"),
    ("incident", {"data": {"occurred_at": "2026-11-22T10:00:00"}}, "data.occurred_at"),
    ("improvement_plan", {"data": {"baseline": "12%"}}, "data.baseline"),
    ("question", {}, "kind"),
]


@pytest.mark.parametrize(("kind", "fields", "field"), BAD_REPORTS)
def test_an_invalid_report_is_refused_naming_the_field(kind, fields, field):
    fields = {"title": "a case", **fields}
    with pytest.raises(InvalidData) as refused:
        open_case("case-1", Report(kind, **fields), SUPERVISOR, NOW)
    assert refused.value.field == field


def test_report_data_is_cleaned_and_undeclared_keys_kept():
    machine, event = open_case(
        "case-1",
        Report("incident", "outage", priority="urgent", data={"occurred_at": "2026-11-22T18:00:00+08:00", "participants": ["ann"], "ticket": "T-1"}),
        SUPERVISOR,
        NOW,
    )
    assert machine.case.data == {"occurred_at": "2026-11-22T10:00:00.000000Z", "participants": ["ann"], "ticket": "T-1"}
    assert event.data["data"] == machine.case.data and event.data["priority"] == "urgent"


def test_a_whole_number_score_is_kept_as_an_integer():
    machine = machine_in("complaint", "follow_up")
    event = machine.take("record_satisfaction", AGENT, {"satisfied": True, "score": 4.0}, None, NOW)
    assert event.data["score"] == 4 and isinstance(machine.case.data["score"], int)


@pytest.mark.parametrize(("kind", "redo", "redo_data"), [
    ("complaint", "complete_remedy", {"resolution": "refunded too"}),
    ("feedback", "record_result", {"result": "changed again"}),
])  # fmt: skip
def test_a_new_satisfaction_verdict_replaces_the_old_score(kind, redo, redo_data):
    machine = machine_in(kind, "follow_up")
    machine.take("record_satisfaction", AGENT, {"satisfied": False, "score": 2}, None, NOW)
    assert (machine.case.data["satisfied"], machine.case.data["score"]) == (False, 2)
    machine.take(redo, AGENT, redo_data, None, NOW)
    event = machine.take("record_satisfaction", AGENT, {"satisfied": True}, None, NOW)
    assert event.data == {"satisfied": True}
    assert machine.case.data["satisfied"] is True and machine.case.data["score"] is None


def test_data_is_cleaned_before_it_is_kept_and_the_caller_dict_is_not_changed():
    machine = machine_in("incident", "analyse")
    given = {"title": "t", "owner": "o", "due": "2030-01-01T09:00:00+01:00"}
    event = machine.take("add_action_item", AGENT, given, None, NOW)
    assert given == {"title": "t", "owner": "o", "due": "2030-01-01T09:00:00+01:00"}
    assert event.data["due"] == "2030-01-01T08:00:00.000000Z"


def test_chinese_text_round_trips_unchanged_through_open_case_and_take():
    title, description = "客户投诉：快递延误三天", "顾客称包裹被送到错误的站点，要求退款并道歉。"
    customer = {"id": "cust-张三", "name": "张三", "vip": True}
    machine, opening = open_case(
        "投诉-1",
        Report("complaint", title, description, customer=customer, channel="微信", data={"demand": "退款并道歉", "备注": "加急"}),
        AGENT,
        NOW,
    )
    case = machine.case
    assert (case.id, case.title, case.description, case.channel) == ("投诉-1", title, description, "微信")
    assert case.customer == customer and case.data == {"demand": "退款并道歉", "备注": "加急"}
    assert opening.data["title"] == title and opening.data["data"]["备注"] == "加急"
    machine.take("start_analysis", AGENT, None, None, NOW)
    findings = "物流系统故障导致延误；已与仓储部门核实。"
    event = machine.take("record_findings", AGENT, {"findings": findings}, "已致电顾客安抚情绪", NOW)
    assert event.data == {"findings": findings} and event.note == "已致电顾客安抚情绪"
    assert case.data["findings"] == findings


def test_chinese_participants_and_minutes_round_trip_through_an_incident():
    machine = opened("incident", data={"participants": ["张三", "李四（技术）"], "location": "北京总部"})
    assert machine.case.data["participants"] == ["张三", "李四（技术）"]
    machine.take("start_analysis", SUPERVISOR, None, None, NOW)
    event = machine.take("record_cause", AGENT, {"category": "system", "description": "订单服务超时"}, None, NOW)
    assert machine.case.data["causes"] == [{"category": "system", "description": "订单服务超时"}]
    assert event.data["description"] == "订单服务超时"
