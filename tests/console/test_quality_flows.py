"""Quality checks (质检) in Chromium, by their Chinese labels: a reviewer scores a sampled case from
质检队列 beside its history, the agent reads the score in 我的质检 and appeals (申诉), a supervisor decides."""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta
from pathlib import Path

from playwright.async_api import expect

from states.case import format_time
from states.vocabulary import Role
from tests.conftest import auth
from tests.console.browsing import DESKTOP, PHONE
from tests.console.conftest import NEWCOMER_PASSWORD, AddPerson, Console, SignedIn

SCREENSHOTS = Path(os.environ.get("CASEWORK_SCREENSHOTS", "/tmp/casework-screenshots"))


TITLE = "质检样本：退款延误"


async def reopened_and_closed(console: Console) -> str:
    """A complaint of ann's, closed, reopened and closed again: a check the sample must take."""
    api = console.api
    case = await api.open(title=TITLE)
    await api.act(case["id"], "acknowledge")
    await api.act(case["id"], "assign", role="supervisor", data={"owner": "ann"})
    steps = [("start_analysis", None), ("propose_remedy", {"solution": "退款"}), ("complete_remedy", {"resolution": "已退款"})]
    for action, data in steps:
        await api.act(case["id"], action, data=data)
    await api.act(case["id"], "record_satisfaction", data={"satisfied": True, "score": 5})
    await api.act(case["id"], "reopen", data={"reason": "客户再次来电"})
    for action, data in steps[1:]:
        await api.act(case["id"], action, data=data)
    await api.act(case["id"], "record_satisfaction", data={"satisfied": True, "score": 4})
    return case["id"]


async def test_a_reviewer_scores_the_agent_appeals_and_the_supervisor_decides(console: Console, signed_in: SignedIn, newcomer: AddPerson):
    reviewer = await newcomer(Role.QUALITY)
    start = datetime.now(UTC) - timedelta(seconds=1)
    case_id = await reopened_and_closed(console)
    period = {"from": format_time(start), "to": format_time(datetime.now(UTC) + timedelta(seconds=1))}
    made = await console.api.client.post("/quality/samples", json=period, headers=auth("supervisor"))
    assert made.status_code == 201, made.text
    assert [check["reviewer"] for check in made.json()["items"] if check["case_id"] == case_id] == [reviewer]

    quinn = await signed_in(reviewer, password=NEWCOMER_PASSWORD)
    await quinn.get_by_role("link", name="质检队列").click()
    await quinn.get_by_role("row").filter(has=quinn.locator(f'a[href*="{case_id}"]')).get_by_role("link", name=TITLE).click()
    await expect(quinn.get_by_role("heading", name="处理记录")).to_be_visible()
    await expect(quinn.locator("table.deductions")).to_contain_text("自动扣分")
    await expect(quinn.locator("table.deductions")).to_contain_text("重新打开")

    communication = quinn.get_by_role("group", name="沟通能力")
    await communication.get_by_label("得分").fill("20")
    await quinn.get_by_role("button", name="提交评分").click()
    await expect(communication.get_by_text("扣分须写明原因。")).to_be_visible()  # beside the field, input kept
    await expect(communication.get_by_label("得分")).to_have_value("20")
    await communication.get_by_label("扣分原因").fill("多次打断客户")
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    await quinn.set_viewport_size(DESKTOP)
    await quinn.screenshot(path=str(SCREENSHOTS / "quality-scoring.png"), full_page=True)
    await quinn.get_by_role("button", name="提交评分").click()
    await expect(quinn.locator(".badges")).to_contain_text("已评分")
    await expect(quinn.locator("#check-total")).to_have_text("94")  # 100 − 5 (communication) − 1 (a reopen)

    ann = await signed_in("ann")
    await ann.get_by_role("link", name="我的质检").click()
    row = ann.get_by_role("row").filter(has=ann.locator(f'a[href*="{case_id}"]'))
    await expect(row).to_contain_text("94")
    await row.get_by_role("link", name=TITLE).click()
    await ann.get_by_label("申诉理由").fill("客户要求中途确认订单号")
    await ann.get_by_role("button", name="提交申诉").click()
    await expect(ann.locator(".badges")).to_contain_text("申诉中")
    await expect(ann.get_by_role("button", name="提交申诉")).to_have_count(0)  # once

    sam = await signed_in("sam")
    await sam.goto(ann.url)
    await sam.get_by_label("改分").check()
    await sam.get_by_role("group", name="沟通能力").get_by_label("得分").fill("25")
    await sam.get_by_label("评语").fill("申诉成立")
    await sam.get_by_role("button", name="提交裁决").click()
    await expect(sam.locator(".badges")).to_contain_text("已裁决")
    await expect(sam.locator("#check-total")).to_have_text("99")
    await ann.reload()
    await expect(ann.locator("#check-total")).to_have_text("99")
    await ann.set_viewport_size(PHONE)
    await ann.screenshot(path=str(SCREENSHOTS / "quality-check-phone.png"), full_page=True)

    await quinn.reload()
    await quinn.get_by_role("button", name="English", exact=True).click()  # remembered for this reviewer alone
    await expect(quinn.locator("#check-total")).to_have_text("99")
    await expect(quinn.locator(".badges")).to_contain_text("Decided")
    await quinn.screenshot(path=str(SCREENSHOTS / "quality-check-en.png"), full_page=True)
