"""A supervisor's day in Chromium: an emergency meeting with its action items, an improvement plan that
measures itself, bulk assign and bulk escalate with a result per case, and the wallboard."""

from __future__ import annotations

import re
from collections import Counter

from playwright.async_api import Page, expect

from states.vocabulary import Kind, Role
from tests.console.acting import phase_of, report, take
from tests.console.conftest import Console, SignedIn


async def test_an_emergency_meeting_adds_an_action_item_and_completes_it(console: Console, signed_in: SignedIn):
    sam = await signed_in("sam")
    case_id = await report(
        sam, "紧急会议", {"标题": "支付系统宕机", "描述": "全国用户无法付款", "主持人": "sam", "参会人员": "sam\nann"}, {"优先级": "紧急"}
    )
    await take(sam, "开始分析")
    await take(sam, "记录原因", {"描述": "数据库连接池耗尽"}, {"分类": "系统故障"})
    await take(sam, "添加待办", {"标题": "扩容连接池", "截止时间": "2030-01-01T09:00"}, {"负责人": "Ann (ann)"})

    item = sam.get_by_role("row").filter(has_text="扩容连接池")
    await expect(item).to_contain_text("ann")
    await expect(item).to_contain_text("2030-01-01 09:00")  # the wall time typed, in the department's zone
    await expect(item).to_contain_text("进行中")

    await take(sam, "完成待办", {"完成情况": "已扩容"}, {"待办编号": "扩容连接池 · ann"})
    await expect(item).to_contain_text("已完成")
    await expect(phase_of(sam)).to_have_text("分析")
    case = await console.api.get(case_id)
    assert case["data"]["participants"] == ["sam", "ann"]
    assert [(each["title"], each["done"], each["due"][:16]) for each in case["action_items"]] == [("扩容连接池", True, "2030-01-01T01:00")]


async def test_an_overdue_action_item_and_the_systems_own_entries_are_shown(console: Console, signed_in: SignedIn):
    meeting = await console.api.open(Kind.INCIDENT, role=Role.SUPERVISOR, title="过期待办的会议")
    await console.api.act(meeting["id"], "start_analysis", role=Role.SUPERVISOR)
    late = {"title": "补写报告", "owner": "ann", "due": "2020-01-01T09:00:00+08:00"}
    await console.api.act(meeting["id"], "add_action_item", role=Role.SUPERVISOR, data=late)
    await console.api.history_with(meeting["id"], "action_item_overdue")  # the workflow marks it by itself

    sam = await signed_in("sam")
    await sam.goto(f"/ui/cases/{meeting['id']}")
    await expect(sam.get_by_role("row").filter(has_text="补写报告")).to_contain_text("已逾期")
    marked = sam.locator("#timeline > li").filter(has_text="待办已超时")
    await expect(marked).to_contain_text("系统")


async def test_an_improvement_plan_is_evaluated_and_its_effect_recorded(console: Console, signed_in: SignedIn):
    sam = await signed_in("sam")
    case_id = await report(sam, "改进计划", {"标题": "降低重开率", "描述": "重开太多", "问题": "重开率高", "指标": "reopen_rate"})
    await take(sam, "开始分析")
    await take(sam, "记录原因", {"描述": "新人培训不足"}, {"分类": "培训"})
    await take(sam, "制定措施")
    await expect(phase_of(sam)).to_have_text("处理")

    since = await console.api.open(Kind.COMPLAINT, title="措施后的投诉")  # a case after the measures, for the plan to measure
    await console.api.act(since["id"], "start_analysis")
    await console.api.act(since["id"], "dismiss", role=Role.SUPERVISOR, data={"reason": "已解决"})

    await take(sam, "评估效果")
    await expect(phase_of(sam)).to_have_text("跟进")
    measured = (await console.api.get(case_id))["data"]["measured_after_value"]
    assert measured is not None
    await expect(sam.locator("section.facts")).to_contain_text("实测效果值")

    await take(sam, "记录成效", choices={"是否有效": "是"})
    await expect(phase_of(sam)).to_have_text("已结案")
    effect = next(event for event in await console.api.history(case_id) if event["action"] == "record_effect")
    assert effect["data"]["after_value"] == measured


async def pick_in_queue(page: Page, titles: list[str]) -> None:
    """On 全部案件, ticks the box of each case by its title."""
    await page.get_by_role("navigation", name="案件队列").get_by_role("link", name="全部案件").click()
    for title in titles:
        await page.get_by_role("checkbox", name=f"选择「{title}」").check()


async def test_bulk_assign_and_bulk_escalate_give_a_result_per_case(console: Console, signed_in: SignedIn):
    to_assign = [await console.api.open(Kind.COMPLAINT, title=f"批量指派 {number}") for number in (1, 2)]
    to_escalate = [await console.api.open(Kind.COMPLAINT, title=f"同一故障 {number}") for number in (1, 2)]
    sam = await signed_in("sam")
    bulk = sam.get_by_role("form", name="批量操作")
    result = bulk.get_by_role("status")

    await pick_in_queue(sam, [case["title"] for case in to_assign])
    await bulk.get_by_label("对选中的案件").select_option(label="指派")
    await bulk.get_by_label("负责人").select_option("ann")  # the action's fields load when it is chosen
    await bulk.get_by_role("button", name="批量执行").click()
    await expect(result).to_contain_text("指派：2/2 件成功")
    for case in to_assign:
        await expect(result.get_by_role("listitem").filter(has_text=case["id"])).to_contain_text("成功")
        assert (await console.api.get(case["id"]))["owner"] == "ann"

    await pick_in_queue(sam, [case["title"] for case in to_escalate])
    await bulk.get_by_label("对选中的案件").select_option(label="升级为紧急会议")
    await bulk.get_by_label("原因").fill("同一系统故障")
    await bulk.get_by_role("button", name="批量执行").click()
    await expect(result).to_contain_text("升级为紧急会议：2/2 件成功")
    meetings = {
        link["case_id"] for case in to_escalate for link in (await console.api.get(case["id"]))["links"] if link["relation"] == "escalated_to"
    }
    assert len(meetings) == 1
    meeting = meetings.pop()
    await expect(result.get_by_role("link", name=meeting, exact=True)).to_have_count(2)  # one meeting, named beside each case

    await result.get_by_role("link", name=meeting, exact=True).first.click()
    await expect(sam.get_by_role("heading", level=1)).to_contain_text("同一故障")
    await expect(sam.locator(".page-head .pill").first).to_have_text("紧急会议")
    await expect(sam.get_by_role("heading", name="处理记录")).to_be_visible()


async def test_the_wallboard_shows_the_open_cases_by_phase_and_owner(console: Console, signed_in: SignedIn):
    mine = await console.api.open(Kind.COMPLAINT, title="大屏上的案件")
    await console.api.act(mine["id"], "assign", role=Role.SUPERVISOR, data={"owner": "ann"})
    listed = await console.api.list(limit=500)
    assert listed.get("next_cursor") is None, "the suite's cases fit in one page"
    open_cases = [case for case in listed["items"] if case["state"] != "closed"]
    sam = await signed_in("sam")
    await sam.get_by_role("link", name="监控大屏").click()
    await expect(sam.get_by_role("heading", level=1)).to_have_text("监控大屏")

    tiles = sam.get_by_role("region", name="当前概况")
    open_total = tiles.locator(".tile").filter(has_text="未结案件").locator(".tile-number")
    await expect(open_total).to_have_text(str(len(open_cases)))
    by_phase = Counter(case["state"] for case in open_cases)
    phases = sam.get_by_role("region", name="未结案件（按阶段）")
    for phase, name in (("report", "登记"), ("analyse", "分析"), ("remediate", "处理"), ("follow_up", "跟进")):
        await expect(phases.get_by_role("link").filter(has_text=name)).to_have_text(re.compile(rf"^\s*{by_phase[phase]}\s*{name}\s*$"))
    owners = sam.get_by_role("region", name="未结案件（按负责人）")
    ann = owners.get_by_role("row").filter(has=sam.get_by_role("link", name="ann", exact=True))
    await expect(ann.locator("td").last).to_have_text(str(sum(case["owner"] == "ann" for case in open_cases)))


async def test_the_kpi_page_badges_each_targeted_kpi_met_or_missed_against_its_figure(console: Console, signed_in: SignedIn):
    answered = await console.api.open(Kind.COMPLAINT, title="有目标的投诉")
    await console.api.act(answered["id"], "acknowledge")
    sam = await signed_in("sam")
    await sam.get_by_role("link", name="指标统计").click()
    tile = sam.locator('.tile[data-kpi="first_response_on_time_rate"]')
    badge = tile.locator(".badge")
    await expect(badge).to_have_attribute("title", "目标：≥ 95.0%")  # the default target
    rate = float((await tile.locator(".tile-number").inner_text()).rstrip("%")) / 100
    await expect(badge).to_have_text("达标" if rate >= 0.95 else "未达标")
    await expect(tile).to_contain_text("目标 ≥ 95.0%")
    await expect(sam.locator('.tile[data-kpi="reopen_rate"] .badge')).to_have_count(0)  # no target
