"""An agent's day in Chromium: reporting a complaint and walking it to 已结案, a refused form, a stale
form, and a hostile title shown as text. Everything by the labels on the page."""

from __future__ import annotations

import re

from playwright.async_api import Dialog, Page, expect

from states.vocabulary import Kind
from tests.console.acting import SUBMIT, action_form, open_form, phase_of, report, take
from tests.console.conftest import Console, SignedIn

A_TIME = re.compile(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}")


async def report_complaint(page: Page, title: str, texts: dict[str, str] | None = None, choices: dict[str, str] | None = None) -> str:
    return await report(page, "投诉", {"标题": title, "描述": "客户说包裹未送达", **(texts or {})}, choices)


async def test_an_agent_walks_a_complaint_to_closed_through_an_unsatisfied_customer(console: Console, signed_in: SignedIn):
    ann = await signed_in("ann")
    case_id = await report_complaint(ann, "快递丢件", {"客户姓名": "李四", "订单号": "SO-7788"}, {"优先级": "高"})
    await expect(phase_of(ann)).to_have_text("登记")
    facts = ann.locator("section.facts")
    await expect(facts).to_contain_text("李四")
    await expect(facts).to_contain_text("SO-7788")

    steps: list[tuple[str, dict[str, str], dict[str, str], str]] = [
        ("受理", {}, {}, "登记"),
        ("开始分析", {}, {}, "分析"),
        ("记录调查结果", {"调查结果": "承运商遗失"}, {}, "分析"),
        ("提出解决方案", {"解决方案": "补发并赔偿运费"}, {}, "处理"),
        ("完成处理", {"处理结果": "已补发"}, {}, "跟进"),
        ("回访", {"备注": "补发太慢"}, {"是否满意": "否"}, "处理"),
        ("完成处理", {"处理结果": "加急补发已签收"}, {}, "跟进"),
        ("回访", {}, {"是否满意": "是"}, "已结案"),
    ]
    for action, texts, choices, phase in steps:
        await take(ann, action, texts, choices)
        await expect(phase_of(ann)).to_have_text(phase)

    await expect(ann.get_by_role("heading", name="处理记录")).to_be_visible()
    entries = ann.locator("#timeline > li")
    await expect(entries).to_have_count(len(steps) + 1)  # the report, then one entry per step
    for entry in await entries.all():
        await expect(entry).to_contain_text("ann · 客服专员")
        await expect(entry.locator("time")).to_have_text(A_TIME)
    newest, oldest = entries.first, entries.last
    await expect(newest).to_contain_text("回访")
    await expect(newest).to_contain_text("跟进 → 已结案")
    await expect(oldest).to_contain_text("登记")
    unsatisfied = entries.filter(has_text="补发太慢")
    await expect(unsatisfied).to_contain_text("跟进 → 处理")

    case = await console.api.get(case_id)
    assert case["state"] == "closed" and case["priority"] == "high" and case["customer"]["name"] == "李四"


async def test_a_refused_form_says_why_beside_the_field_and_keeps_what_was_typed(console: Console, signed_in: SignedIn):
    case = await console.api.open(Kind.COMPLAINT, title="缺少字段")
    await console.api.act(case["id"], "start_analysis")
    ann = await signed_in("ann")
    await ann.goto(f"/ui/cases/{case['id']}")

    form = await open_form(ann, "提出解决方案")
    await form.get_by_label("备注").fill("先记下的备注")
    await form.get_by_role("button", name=SUBMIT).click()

    solution = action_form(ann).get_by_label("解决方案")
    await expect(solution).to_have_attribute("aria-invalid", "true")
    await expect(solution).to_have_accessible_description("缺少必填项")
    await expect(action_form(ann).get_by_label("备注")).to_have_value("先记下的备注")
    await expect(phase_of(ann)).to_have_text("分析")
    assert (await console.api.get(case["id"]))["state"] == "analyse"


async def test_a_stale_form_says_the_case_moved_on_and_keeps_what_was_typed(console: Console, signed_in: SignedIn):
    case = await console.api.open(Kind.COMPLAINT, title="过期表单")
    ann = await signed_in("ann")
    await ann.goto(f"/ui/cases/{case['id']}")
    form = await open_form(ann, "备注")
    await form.get_by_label("备注").fill("我的备注")

    await console.api.act(case["id"], "start_analysis")  # someone else moves the case meanwhile
    await form.get_by_role("button", name=SUBMIT).click()

    refusal = action_form(ann).get_by_role("alert")
    await expect(refusal).to_contain_text("已被他人更新")
    await expect(refusal).to_contain_text("「分析」")
    await expect(action_form(ann).get_by_label("备注")).to_have_value("我的备注")
    assert [event["action"] for event in await console.api.history(case["id"])] == ["report", "start_analysis"]

    await refusal.get_by_role("link", name="查看最新状态").click()
    await expect(phase_of(ann)).to_have_text("分析")


async def test_a_hostile_title_is_shown_as_text_and_nothing_runs(signed_in: SignedIn):
    ann = await signed_in("ann")
    dialogs: list[str] = []

    async def record(dialog: Dialog) -> None:
        dialogs.append(dialog.message)
        await dialog.dismiss()

    ann.on("dialog", record)
    title = "<img src=x onerror=alert(1)>"
    await report_complaint(ann, title, {"订单号": "<script>alert(2)</script>"})
    await expect(ann.locator("section.facts")).to_contain_text("<script>alert(2)</script>")
    await expect(ann.locator("main img")).to_have_count(0)

    await ann.get_by_role("navigation", name="案件队列").get_by_role("link", name="全部案件").click()
    await expect(ann.get_by_role("link", name=title, exact=True).first).to_be_visible()
    await expect(ann.locator("main img")).to_have_count(0)
    assert dialogs == []
