"""Emergency meetings in Chromium: an agent raises one, a supervisor sets the people of a meeting
opened by escalation, and the recorder publishes the minutes, each part in its own labelled field."""

from __future__ import annotations

from playwright.async_api import expect

from states.vocabulary import Kind, Role
from tests.conftest import auth
from tests.console.acting import phase_of, report, take
from tests.console.conftest import Console, SignedIn
from tests.support import DUE, eventually


async def test_an_agent_raises_an_emergency_meeting(console: Console, signed_in: SignedIn):
    ann = await signed_in("ann")
    case_id = await report(ann, "紧急会议", {"标题": "华东仓配送全部停摆", "描述": "上海仓系统宕机"}, {"优先级": "紧急"})
    await expect(phase_of(ann)).to_have_text("登记")
    case = await console.api.get(case_id)
    assert (case["kind"], case["created_by"], case["state"]) == ("incident", "ann", "report")


async def test_a_supervisor_sets_the_people_and_the_recorder_publishes_the_minutes(console: Console, signed_in: SignedIn):
    complaint = await console.api.open(Kind.COMPLAINT, title="大量订单未发货")
    escalated = await console.api.act(complaint["id"], "escalate", role=Role.SUPERVISOR, data={"reason": "整个华东区受影响"})
    incident_id = next(link["case_id"] for link in escalated["links"] if link["relation"] == "escalated_to")

    async def opened():
        response = await console.api.client.get(f"/cases/{incident_id}", headers=auth("auditor"))
        return response.status_code == 200

    await eventually(opened, what="the incident")

    sam = await signed_in("sam")
    await sam.goto(f"/ui/cases/{incident_id}")
    await take(sam, "设置参会人员", {"参会人员": "sam\nann"}, {"主持人": "Sam (sam)", "记录员": "Ann (ann)"})
    case = await console.api.get(incident_id)
    assert (case["data"]["host"], case["data"]["recorder"], case["data"]["participants"]) == ("sam", "ann", ["sam", "ann"])

    for action, data in (
        ("start_analysis", None),
        ("record_cause", {"category": "system", "description": "仓储系统宕机"}),
        ("add_action_item", {"title": "恢复仓储系统", "owner": "ann", "due": DUE}),
        ("plan_measures", None),
        ("complete_action_item", {"item_id": "item-1", "outcome": "已恢复"}),
        ("measures_done", None),
    ):
        await console.api.act(incident_id, action, role=Role.SUPERVISOR, data=data)

    ann = await signed_in("ann")
    await ann.goto(f"/ui/cases/{incident_id}")
    await expect(phase_of(ann)).to_have_text("跟进")
    # ann records this meeting but does not host it: the host's own action is not offered to her.
    await expect(ann.get_by_role("button", name="设置参会人员", exact=True)).to_have_count(0)
    minutes = {
        "会议时间": "2026-11-23T10:00",
        "会议地点": "上海总部三楼会议室",
        "参会人员": "sam\nann",
        "议程": "仓储系统宕机的影响与恢复",
        "讨论内容": "宕机原因、受影响订单",
        "决议": "增加备用仓储系统",
        "待办": "ann：恢复仓储系统",
    }
    await take(ann, "发布会议纪要", minutes, {"主持人": "Sam (sam)"})
    case = await console.api.get(incident_id)
    assert case["data"]["minutes"]["decisions"] == "增加备用仓储系统" and case["data"]["minutes"]["place"] == "上海总部三楼会议室"
    assert case["data"]["minutes_published_at"]
    # 会议纪要: a section of its own, the parts of §4(2) in order, not mixed into 案件信息.
    section = ann.locator("#case-minutes")
    await expect(section.get_by_role("heading", name="会议纪要")).to_be_visible()
    await expect(section.locator("dt")).to_have_text(["会议时间", "会议地点", "参会人员", "主持人", "议程", "讨论内容", "决议", "待办"])
    await expect(ann.locator("#case-facts > dl")).not_to_contain_text("增加备用仓储系统")
    await sam.reload()
    await take(sam, "结束会议", {"成效": "已恢复", "经验教训": "需要备用系统"})
    await expect(phase_of(sam)).to_have_text("已结案")


async def test_the_new_meeting_forms_ask_for_no_customer(console: Console, signed_in: SignedIn):
    sam = await signed_in("sam")
    for kind in (Kind.INCIDENT, Kind.MEETING):
        await sam.goto(f"/ui/cases/new?kind={kind}")
        await expect(sam.get_by_label("标题")).to_be_visible()
        await expect(sam.get_by_label("客户姓名")).to_have_count(0)
        await expect(sam.get_by_label("重要客户")).to_have_count(0)
    await sam.goto(f"/ui/cases/new?kind={Kind.COMPLAINT}")
    await expect(sam.get_by_label("客户姓名")).to_be_visible()
