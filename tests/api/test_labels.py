"""Labels in Chinese and English for every term, and a machine-readable code on every refusal."""

import pytest

from api.labels import LANGUAGES, has_label, negotiate
from service.kpis import KPI_NAMES
from states.machine import SPECS
from states.notification_rules import Audience
from states.vocabulary import (
    HEAD_OFFICE,
    SYSTEM,
    AssignmentMethod,
    ChannelType,
    DeliveryStatus,
    Kind,
    MeetingType,
    MessageKind,
    Phase,
    Priority,
    RefusalCode,
    Relation,
    Role,
    SystemAction,
)
from tests.conftest import auth

OPENING_FIELDS = ("title", "description", "priority", "customer", "channel")


def every_term() -> list[tuple[str, str]]:
    terms: list[tuple[str, str]] = [("kind", kind) for kind in Kind] + [("phase", phase) for phase in Phase]
    terms += [("role", role) for role in (*Role, SYSTEM)] + [("priority", priority) for priority in Priority]
    terms += [("relation", relation) for relation in Relation] + [("system_action", action) for action in SystemAction]
    terms += [("assignment_method", method) for method in AssignmentMethod] + [("site", HEAD_OFFICE)]
    terms += [("message_kind", kind) for kind in MessageKind] + [("channel_type", channel) for channel in ChannelType]
    terms += [("delivery_status", status) for status in DeliveryStatus] + [("meeting_type", meeting) for meeting in MeetingType]
    terms += [("audience", audience) for audience in Audience]
    terms += [("refusal", code) for code in RefusalCode] + [("kpi", name) for name in KPI_NAMES]
    terms += [("action", action.name) for spec in SPECS.values() for action in spec.actions]
    fields = [field.name for spec in SPECS.values() for action in spec.actions for field in action.fields]
    fields += [field.name for spec in SPECS.values() for field in spec.report_fields]
    terms += [("field", name) for name in dict.fromkeys([*fields, *OPENING_FIELDS])]
    return list(dict.fromkeys(terms))


@pytest.mark.parametrize("language", list(LANGUAGES))
def test_every_term_has_a_label_in_each_language(language):
    missing = [term for term in every_term() if not has_label(language, *term)]
    assert missing == []


def test_a_term_the_catalog_lacks_is_caught():
    assert not has_label("en", "kind", "ticket") and not has_label("zh-CN", "action", "teleport")


@pytest.mark.parametrize(
    ("accept_language", "lang", "language"),
    [
        (None, None, "zh-CN"),
        ("en-US,en;q=0.9", None, "en"),
        ("fr, en;q=0.5", None, "en"),
        ("fr", None, "zh-CN"),
        ("zh-CN", "en", "en"),
        ("en", "xx", "zh-CN"),
        ("en;q=0.2, zh;q=0.8", None, "zh-CN"),
    ],
)
def test_the_language_is_lang_then_accept_language_then_chinese(accept_language, lang, language):
    assert negotiate(accept_language, lang) == language


async def test_a_machine_in_chinese_shows_the_glossary_terms(http):
    response = await http.get("/machines/complaint", headers={**auth("agent"), "Accept-Language": "zh-CN"})
    machine = response.json()
    assert response.headers["content-language"] == "zh-CN"
    assert machine["label"] == "投诉"
    assert machine["labels"]["phases"]["report"] == "登记"
    assert {action["name"]: action["label"] for action in machine["actions"]}["acknowledge"] == "受理"
    assert "投诉" in response.text and "登记" in response.text and "受理" in response.text
    dismiss = next(action for action in machine["actions"] if action["name"] == "dismiss")
    assert dismiss["label"] == "驳回" and dismiss["fields"] == [{"name": "reason", "type": "string", "required": True, "label": "原因"}]


async def test_a_machine_in_english_and_lang_overrides_the_header(http):
    english = (await http.get("/machines/incident", headers={**auth("agent"), "Accept-Language": "en"})).json()
    assert english["label"] == "Emergency meeting" and english["labels"]["roles"]["supervisor"] == "Supervisor"
    overridden = (await http.get("/machines?lang=en", headers={**auth("agent"), "Accept-Language": "zh-CN"})).json()
    assert [machine["label"] for machine in overridden["items"]] == ["Complaint", "Feedback", "Emergency meeting", "Improvement plan", "Meeting"]
    unlabelled = (await http.get("/machines/feedback", headers={**auth("agent"), "Accept-Language": "de"})).json()
    assert unlabelled["label"] == "反馈"


async def test_each_refusal_carries_its_code(api, http):
    case = await api.open()
    assert (await api.act(case["id"], "complete_remedy", status=409, data={"resolution": "r"}))["code"] == "not_allowed_in_phase"
    assert (await api.act(case["id"], "teleport", status=422))["code"] == "unknown_action"
    assert (await api.act(case["id"], "assign", status=403, data={"owner": "o"}))["code"] == "forbidden_role"
    await api.act(case["id"], "acknowledge", expected_version=1)
    assert (await api.act(case["id"], "start_analysis", expected_version=1, status=409))["code"] == "stale_version"
    assert (await api.act(case["id"], "start_analysis", status=200))["state"] == "analyse"
    assert (await api.act(case["id"], "propose_remedy", status=422, data={}))["code"] == "missing_field"
    assert (await api.act(case["id"], "propose_remedy", status=422, data={"solution": 3}))["code"] == "wrong_type"
    incident = await api.open("incident", role="supervisor")
    await api.act(incident["id"], "start_analysis", role="supervisor")
    assert (await api.act(incident["id"], "plan_measures", role="supervisor", status=409))["code"] == "guard_failed"
    missing = await http.get("/cases/nope", headers=auth("agent"))
    assert missing.status_code == 404 and missing.json()["code"] == "unknown_case"
    unauthenticated = await http.get("/cases")
    assert unauthenticated.status_code == 401 and unauthenticated.json()["code"] == "unauthenticated"
    malformed = await http.post("/cases", json={"kind": "complaint"}, headers=auth("agent"))
    assert malformed.status_code == 422 and malformed.json()["code"] == "missing_field"
    unstorable = await http.post("/cases", json={"kind": "complaint", "title": "a\u0000b"}, headers=auth("agent"))
    assert unstorable.status_code == 422 and unstorable.json()["code"] == "invalid_text"
