"""The regular meetings (例会) in Chromium: a supervisor sees the coming meetings with their hosts and
a scheduled meeting's agenda; the recorder publishes the minutes from the meeting's page."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from playwright.async_api import expect

from service.cases import Cases, WorkflowConfig
from service.meetings import Meetings
from service.reviews import Reviews
from states.meeting_plan import parse_meeting_plan
from states.vocabulary import Role
from tests.console.acting import phase_of, take
from tests.console.conftest import Console, SignedIn

SHANGHAI = "Asia/Shanghai"


def meetings_of(console: Console, temporal_env) -> Meetings:
    plan = parse_meeting_plan({"weekly": {"weekday": "wed", "time": "10:00", "place": "5楼会议室"}}, SHANGHAI)
    cases = Cases(temporal_env.client, console.read_model, WorkflowConfig(console.task_queue, reopen_window_seconds=3600, events_per_run=500))
    return Meetings(cases, console.read_model, Reviews(console.read_model, ZoneInfo(SHANGHAI)), plan, ahead=1)


async def test_a_supervisor_sees_the_coming_meetings_and_a_scheduled_ones_agenda(console: Console, signed_in: SignedIn, temporal_env):
    sam = await signed_in("sam")
    await sam.get_by_role("navigation", name="案件队列").get_by_role("link", name="例会", exact=True).click()
    await expect(sam.get_by_role("heading", name="即将召开的例会")).to_be_visible()
    upcoming = sam.locator("#upcoming-meetings")
    await expect(upcoming.get_by_role("row").filter(has_text="月例会")).to_be_visible()
    # Earlier tests may have added supervisors: whoever's turn it is hosts the next weekly meeting.
    rotation = await sam.locator("#rotation-order").get_by_role("listitem").all_inner_texts()
    assert "Sam (sam)" in rotation
    next_host = (await upcoming.get_by_role("row").filter(has_text="周例会").first.get_by_role("cell").nth(2).inner_text()).strip()
    assert next_host in rotation
    await expect(sam.locator("#rotation-summary")).to_contain_text(f"下次主持：{next_host}。")

    # Wednesday 2028-03-01 10:00 in Shanghai: made ahead on Monday, with the last week's review.
    await meetings_of(console, temporal_env).make_upcoming(datetime(2028, 2, 28, tzinfo=UTC).isoformat())
    await sam.goto("/ui/cases/meeting-weekly-2028-03-01")
    agenda = sam.locator("#meeting-agenda")
    await expect(agenda.get_by_role("heading", name="议程")).to_be_visible()
    await expect(agenda).to_contain_text("未结紧急会议")
    await expect(sam.locator("#case-view")).to_contain_text("5楼会议室")


async def test_the_recorder_publishes_the_minutes_from_the_console(console: Console, signed_in: SignedIn):
    meeting = await console.api.open(
        "meeting",
        role=Role.SUPERVISOR,
        title="周例会 2028-03-08",
        data={"meeting_type": "weekly", "scheduled_at": "2028-03-08T02:00:00Z", "host": "sam", "recorder": "ann", "participants": ["ann", "sam"]},
    )
    await console.api.act(meeting["id"], "record_attendance", role=Role.AGENT, data={"attended": ["ann", "sam"]})
    await console.api.act(meeting["id"], "assign_tasks", role=Role.AGENT)

    ann = await signed_in("ann")
    await ann.goto(f"/ui/cases/{meeting['id']}")
    await take(
        ann,
        "发布会议纪要",
        {
            "会议时间": "2028-03-08T10:00",
            "会议地点": "5楼会议室",
            "参会人员": "ann\nsam",
            "议程": "本周数据",
            "讨论内容": "午间响应慢",
            "决议": "午间加一名客服",
            "待办": "调整排班",
        },
        {"主持人": "Sam (sam)"},
    )
    await expect(phase_of(ann)).to_have_text("跟进")
    case = await console.api.get(meeting["id"])
    minutes = case["data"]["minutes"]
    assert minutes["decisions"] == "午间加一名客服" and minutes["participants"] == ["ann", "sam"]
    assert minutes["held_at"] == "2028-03-08T02:00:00.000000Z"  # the wall time typed, in the department's zone
    assert case["sla"]["minutes"]["state"] == "met"


async def test_ad_hoc_and_closed_meetings_are_listed_newest_first_with_their_hosts_by_name(console: Console, signed_in: SignedIn):
    older = await console.api.open(
        "meeting",
        role=Role.SUPERVISOR,
        title="临时例会 午间排班",
        data={"scheduled_at": "2031-03-01T02:00:00Z", "host": "sam", "participants": ["ann", "sam"]},
    )
    newer = await console.api.open(
        "meeting",
        role=Role.SUPERVISOR,
        title="周例会 2031-03-08",
        data={"meeting_type": "weekly", "scheduled_at": "2031-03-08T02:00:00Z", "host": "sam"},
    )
    sam = await signed_in("sam")
    await sam.goto("/ui/meetings")
    held = sam.locator("#meetings-held")
    rows = held.get_by_role("row").filter(has_text="2031-03")
    await expect(rows.first).to_contain_text("周例会 2031-03-08")  # newest meeting first
    await expect(rows.first).to_contain_text("2031-03-08 10:00")  # in Asia/Shanghai
    ad_hoc = held.get_by_role("row").filter(has_text="临时例会 午间排班")
    await expect(ad_hoc).to_contain_text("Sam (sam)")  # by display name, as the rest of the console
    await expect(sam.locator("#rotation-summary")).to_contain_text("按用户名轮流主持")
    await ad_hoc.get_by_role("link", name="临时例会 午间排班").click()
    await sam.wait_for_url(f"**/ui/cases/{older['id']}")
    assert newer["id"] != older["id"]


async def test_the_minutes_form_starts_from_the_meetings_plan(console: Console, signed_in: SignedIn):
    planned = {"meeting_type": "weekly", "scheduled_at": "2031-04-09T02:00:00Z", "place": "5楼会议室", "host": "sam", "recorder": "ann"}
    meeting = await console.api.open(
        "meeting", role=Role.SUPERVISOR, title="周例会 2031-04-09", data={**planned, "participants": ["ann", "sam"], "agenda": "本周数据"}
    )
    await console.api.act(meeting["id"], "record_attendance", role=Role.AGENT, data={"attended": ["ann", "sam"]})
    await console.api.act(meeting["id"], "assign_tasks", role=Role.AGENT)
    ann = await signed_in("ann")
    await ann.goto(f"/ui/cases/{meeting['id']}/act/publish_minutes")
    await expect(ann.get_by_label("会议时间")).to_have_value("2031-04-09T10:00")  # the department's wall time
    await expect(ann.get_by_label("会议地点")).to_have_value("5楼会议室")
    await expect(ann.get_by_label("参会人员")).to_have_value("ann\nsam")
    await expect(ann.get_by_label("主持人")).to_have_value("sam")
    await expect(ann.get_by_label("议程")).to_have_value("本周数据")


async def test_a_refused_form_swapped_in_breaks_no_content_security_policy(console: Console, signed_in: SignedIn):
    meeting = await console.api.open("meeting", role=Role.SUPERVISOR, title="周例会 2031-05-07", data={"host": "sam"})
    sam = await signed_in("sam")
    errors: list[str] = []
    sam.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    await sam.goto(f"/ui/cases/{meeting['id']}")
    await sam.get_by_role("button", name="记录出勤", exact=True).click()
    form = sam.locator("#act-record_attendance")
    # A style the page's own script set (allowed through the CSSOM), as browsers and scripts do: htmx's
    # settle would copy it as an inline `style` attribute onto the swapped-in field, which the CSP refuses.
    await form.locator("textarea").first.evaluate("element => { element.style.outlineColor = 'red' }")
    await form.get_by_role("button", name="提交").click()  # no one attended given: refused (422), swapped in
    await expect(form.locator(".field-error").first).to_be_visible()
    await sam.wait_for_timeout(500)  # htmx settles after the swap
    assert not [text for text in errors if "Content Security Policy" in text or "style-src" in text], errors
    assert await form.locator("[style]").count() == 0
