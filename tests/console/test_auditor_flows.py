"""An auditor in Chromium: reads everything, finds nothing to change, verifies a case's history and
opens its raw Temporal history."""

from __future__ import annotations

import re

from playwright.async_api import expect

from states.vocabulary import Kind
from tests.console.conftest import Console, SignedIn


async def test_an_auditor_verifies_a_case_and_reads_its_raw_history_but_can_change_nothing(console: Console, signed_in: SignedIn):
    case = await console.api.open(Kind.COMPLAINT, title="审计抽查")
    await console.api.act(case["id"], "acknowledge", note="已致电客户。")
    ada = await signed_in("ada")
    navigation = ada.get_by_role("navigation", name="案件队列")
    await expect(navigation.get_by_role("link", name="全部案件")).to_be_visible()
    await expect(navigation.get_by_role("link", name="新建")).to_have_count(0)

    await navigation.get_by_role("link", name="全部案件").click()
    await ada.get_by_role("link", name="审计抽查").first.click()
    await expect(ada.get_by_role("heading", level=1)).to_have_text("审计抽查")
    await expect(ada.get_by_role("heading", name="处理记录")).to_be_visible()
    steps = ada.get_by_role("region", name="可执行操作")
    # An agent sees 开始分析 and 备注 here; an auditor only the reading tools.
    await expect(steps.get_by_role("button")).to_have_text(["校验"])

    await steps.get_by_role("button", name="校验").click()
    await expect(steps.get_by_role("status")).to_have_text(re.compile(r"^✓ 通过 · 共校验 \d+ 条记录$"))

    await steps.get_by_role("link", name="Temporal 原始记录").click()
    await expect(ada.get_by_role("heading", level=1)).to_have_text("Temporal 原始记录")
    raw = ada.get_by_role("main").locator("pre")
    await expect(raw).to_contain_text("EVENT_TYPE_WORKFLOW_EXECUTION_STARTED")
    await expect(raw).to_contain_text("已致电客户。")
    await ada.get_by_role("link", name=case["id"]).click()
    await expect(ada.get_by_role("heading", level=1)).to_have_text("审计抽查")
