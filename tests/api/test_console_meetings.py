"""The meetings' console pages over HTTP (the browser flows are tests/console/test_meeting_flows.py):
the coming meetings with their hosts, a scheduled meeting's agenda, and the minutes form, each field labelled."""

from __future__ import annotations

import html
import re
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from service.cases import Cases, WorkflowConfig
from service.meetings import Meetings
from service.reviews import Reviews
from states.meeting_plan import parse_meeting_plan

SHANGHAI = "Asia/Shanghai"


async def test_the_meetings_page_lists_the_coming_meetings_and_the_rotation(browser):
    sam = browser()
    await sam.sign_in("sam")
    page = await sam.get("/ui/meetings")
    assert page.status_code == 200, page.text[:500]
    text = html.unescape(page.text)
    assert "即将召开的例会" in text and "周例会" in text and "月例会" in text and "主持轮值" in text
    assert 'id="rotation-order"' in text and "<li>Sam (sam)</li>" in text  # by display name
    assert "style=" not in text.split("<body", 1)[1]
    monthly = next(row for row in text.split('id="upcoming-meetings"', 1)[1].split("</table>", 1)[0].split("<tr")[1:] if "月例会" in row)
    assert ">—</td>" not in monthly.split("月例会", 1)[1].split("</td>", 2)[1] + "</td>"  # a manager, or 未设置客服经理
    assert 'id="rotation-summary"' in text and ("按配置的顺序" in text or "按用户名轮流" in text) and "下次主持：" in text
    # The next host is one of the rotation (other tests add supervisors to the shared directory).
    listed = re.findall(r"<li>([^<]+)</li>", text.split('id="rotation-order"', 1)[1].split("</ol>", 1)[0])
    next_host = re.search(r"下次主持：([^<，。]+)", text)
    assert next_host is not None and next_host[1].strip() in listed, listed


async def test_a_scheduled_meetings_page_shows_its_agenda_and_the_recorder_publishes_the_minutes(
    browser, api, temporal_env, read_model, stack_settings
):
    plan = parse_meeting_plan({"weekly": {"weekday": "thu", "time": "10:00", "place": "5楼会议室"}}, SHANGHAI)
    cases = Cases(temporal_env.client, read_model, WorkflowConfig(stack_settings.task_queue, reopen_window_seconds=3600, events_per_run=500))
    meetings = Meetings(cases, read_model, Reviews(read_model, ZoneInfo(SHANGHAI)), plan, ahead=1)
    await meetings.make_upcoming(datetime(2029, 3, 5, tzinfo=UTC).isoformat())
    case_id = "meeting-weekly-2029-03-08"

    sam = browser()
    await sam.sign_in("sam")
    page = html.unescape((await sam.get(f"/ui/cases/{case_id}")).text)
    assert 'id="meeting-agenda"' in page and "未结紧急会议" in page and "5楼会议室" in page and "周例会" in page
    assert 'id="meeting-type">周例会<' in page  # the meeting type's label in the reader's language, by the title

    # Among agents only the host or the recorder holds it: a supervisor names ann the recorder.
    await api.act(case_id, "set_attendees", role="supervisor", data={"recorder": "ann"})
    await api.act(case_id, "record_attendance", data={"attended": ["ann", "sam"]})
    await api.act(case_id, "assign_tasks")
    ann = browser()
    await ann.sign_in("ann")
    form = html.unescape((await ann.get(f"/ui/cases/{case_id}/act/publish_minutes")).text)
    for label in ("会议时间", "会议地点", "参会人员", "主持人", "议程", "讨论内容", "决议", "待办"):
        assert f">{label}" in form, label
    fields = {
        "held_at": "2029-03-08T10:00",
        "place": "5楼会议室",
        "participants": "ann\nsam",
        "host": "sam",
        "agenda": "本周数据",
        "discussion": "午间响应慢",
        "decisions": "午间加一名客服",
        "tasks": "调整排班",
    }
    hidden = await ann.form(f"/ui/cases/{case_id}/act/publish_minutes")
    answer = await ann.post(f"/ui/cases/{case_id}/act/publish_minutes", {**hidden, **fields})
    assert answer.status_code == 303, answer.text[:800]
    case = await api.get(case_id)
    assert case["state"] == "follow_up" and case["data"]["minutes"]["held_at"] == "2029-03-08T02:00:00.000000Z"
    assert case["sla"]["minutes"]["state"] == "met"


async def test_the_attendance_form_offers_the_directorys_people_and_refuses_an_unknown_name(browser, api):
    meeting = await api.open("meeting", role="supervisor", title="出勤名单", data={"meeting_type": "weekly", "host": "sam"})
    sam = browser()
    await sam.sign_in("sam")
    form = html.unescape((await sam.get(f"/ui/cases/{meeting['id']}/act/record_attendance")).text)
    assert "可填写的人员" in form and "(ann)" in form
    hidden = await sam.form(f"/ui/cases/{meeting['id']}/act/record_attendance")
    answer = await sam.post(f"/ui/cases/{meeting['id']}/act/record_attendance", {**hidden, "attended": "ann\nbob-who-is-no-one"})
    assert answer.status_code == 422, answer.text[:300]
    assert (await api.get(meeting["id"]))["state"] == "report"


async def test_a_meeting_page_names_people_and_action_items_and_draws_no_arrow_when_the_phase_stays(browser, api):
    meeting = await api.open(
        "meeting",
        role="supervisor",
        title="周例会 2029-04-12",
        data={"scheduled_at": "2029-04-12T02:00:00Z", "host": "sam", "recorder": "ann", "participants": ["ann", "sam"]},
    )
    await api.act(meeting["id"], "record_attendance", data={"attended": ["ann", "sam"]})
    await api.act(meeting["id"], "add_action_item", data={"title": "调整午间排班", "owner": "ann", "due": "2029-04-19T02:00:00Z"})
    await api.act(meeting["id"], "complete_action_item", data={"item_id": "item-1", "outcome": "已调整"})
    sam = browser()
    await sam.sign_in("sam")
    page = html.unescape((await sam.get(f"/ui/cases/{meeting['id']}")).text)
    facts = page.split('id="case-facts"', 1)[1].split("</dl>", 1)[0]
    assert "Sam (sam)" in facts and "Ann (ann)" in facts  # host and participants by display name
    assert "2029-04-12 10:00" in facts  # 计划时间 in Asia/Shanghai, not raw UTC
    history = page.split('id="timeline"', 1)[1]
    assert "分析 → 分析" not in history and "登记 → 分析" in history
    assert '<dd class="prewrap">调整午间排班</dd>' in history.split("完成待办", 1)[1].split("</li>", 1)[0]  # the item's title, not item-1
    assert "2029-04-19 10:00" in history  # 截止时间 in Asia/Shanghai


async def test_an_action_opened_by_its_address_shows_the_case_page_with_the_form_open_and_htmx_gets_the_form_alone(browser, api):
    meeting = await api.open("meeting", role="supervisor", title="周例会 2029-04-19", data={"host": "sam"})
    sam = browser()
    await sam.sign_in("sam")
    path = f"/ui/cases/{meeting['id']}/act/record_attendance"
    whole = (await sam.get(path)).text
    assert whole.lstrip().lower().startswith("<!doctype html>") and 'id="case-facts"' in whole
    assert 'id="action-panel"' in whole.split('id="act-record_attendance"', 1)[0]  # the form inside the panel
    assert '<svg class="icon" aria-hidden="true"' in whole and "🔔" not in whole  # the bell: an icon beside its label
    fragment = (await sam.client.get(path, headers={"HX-Request": "true"})).text
    assert "<!doctype" not in fragment.lower() and fragment.lstrip().startswith("{#") is False and 'id="act-record_attendance"' in fragment
