"""考核 in Chromium: a supervisor scores an agent's monthly assessment and finalises it, by the Chinese
labels; the agent then reads their own under 我的考核, with no form left to change it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from playwright.async_api import expect

from service.assessments import Assessments
from states.assessment_periods import parse_period_key
from states.case import Actor
from states.vocabulary import Role
from tests.console.conftest import Console, SignedIn
from tests.service.kpi_cases import project_all, reported_case


async def test_a_supervisor_scores_and_finalises_an_assessment(console: Console, signed_in: SignedIn):
    november = datetime(2026, 11, 30, 15, 30, tzinfo=UTC)  # 23:30 in Beijing
    solved = reported_case(
        "ASM-1", "complaint", november, first_response=60, closed_after=3600, closed_by="record_satisfaction", satisfied=True, score=5, owner="ann"
    )
    await project_all(console.read_model, [solved, reported_case("ASM-2", "complaint", november - timedelta(days=3), late=True, owner="ann")])
    made = await Assessments(console.read_model, ZoneInfo("Asia/Shanghai")).make(parse_period_key("2026-11"), Actor("sam", Role.SUPERVISOR), ["ann"])
    identifier = made[0]["id"]

    sam = await signed_in("sam")
    await sam.get_by_role("link", name="考核", exact=True).click()
    await sam.get_by_label("考核期").fill("2026-11")
    await sam.get_by_role("button", name="查看").click()
    await sam.get_by_role("row").filter(has_text="月度考核 2026-11").get_by_role("link", name="ann").click()
    await expect(sam.get_by_role("heading", level=1)).to_contain_text("月度考核 2026-11 · Ann")
    await expect(sam.get_by_role("row").filter(has_text="响应及时率")).to_contain_text("未达标")

    scoring = sam.get_by_role("region", name="主管评分")
    await scoring.get_by_label("分数").fill("120")
    await sam.get_by_role("button", name="提交").first.click()
    await expect(sam.locator(".field-error")).to_be_visible()  # refused beside the field, what was typed kept
    await expect(scoring.get_by_label("分数")).to_have_value("120")

    await scoring.get_by_label("分数").fill("85")
    await scoring.get_by_label("评语").fill("回复要更快")
    await sam.get_by_role("button", name="提交").first.click()
    await expect(sam.locator("dl.data")).to_contain_text("回复要更快")
    document = await Assessments(console.read_model, ZoneInfo("Asia/Shanghai")).get(identifier, Actor("ada", Role.AUDITOR))
    await expect(sam.locator("[data-total]")).to_have_text(f"{document['total']:.1f}")

    await sam.get_by_role("button", name="定稿").click()  # never undone: it asks again first
    await expect(sam.get_by_role("alertdialog")).to_contain_text("不能撤回")
    await expect(sam.locator(".page-head")).not_to_contain_text("已定稿")
    await sam.get_by_role("button", name="确认定稿").click()
    await expect(sam.locator(".page-head")).to_contain_text("已定稿")
    await expect(sam.get_by_role("button", name="定稿")).to_have_count(0)
    await expect(scoring.get_by_label("分数")).to_have_count(0)
    await expect(sam.locator("section.history")).to_contain_text("定稿")

    ann = await signed_in("ann")
    await ann.get_by_role("link", name="我的考核").click()
    await ann.get_by_role("link", name="ann").first.click()
    await expect(ann.locator(".page-head")).to_contain_text("已定稿")
    await expect(ann.get_by_role("region", name="自评")).to_have_count(0)
