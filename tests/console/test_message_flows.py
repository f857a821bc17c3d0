"""Messages in Chromium: the bell and the inbox (站内信), one's own notification settings, and the
delivery log for those who oversee."""

from __future__ import annotations

import re

from playwright.async_api import expect

from states.vocabulary import Kind, Role
from tests.conftest import auth
from tests.console.conftest import NEWCOMER_PASSWORD, AddPerson, Console, SignedIn
from tests.support import eventually


async def test_an_agent_finds_an_assignment_in_the_inbox_marks_it_read_and_turns_assignments_off(console: Console, signed_in: SignedIn):
    case = await console.api.open(Kind.COMPLAINT, title="铃铛测试")
    await console.api.act(case["id"], "assign", role="supervisor", data={"owner": "ann"})
    ann = await signed_in("ann")
    bell = ann.locator("#bell")
    await expect(bell).to_contain_text(re.compile(r"消息 \d+"), timeout=20_000)
    await bell.click()
    await expect(ann.get_by_role("heading", level=1)).to_have_text("消息")
    message = ann.get_by_role("listitem").filter(has_text="【分配给我】铃铛测试")
    await expect(message).to_be_visible()
    await expect(message).not_to_contain_text("/ui/cases/")  # a short body: the link once, as the button
    await message.get_by_role("button", name="标为已读").click()
    await expect(message.get_by_role("button", name="标为已读")).to_have_count(0)

    await message.get_by_role("button", name="查看案件").click()
    await expect(ann.get_by_role("heading", level=1)).to_have_text("铃铛测试")

    await ann.goto(f"{console.url}/ui/inbox")
    await ann.get_by_role("link", name="通知设置").click()
    await expect(ann.get_by_role("heading", level=1)).to_have_text("通知设置")
    assigned = ann.get_by_role("checkbox", name="分配给我")
    await expect(assigned).to_be_checked()
    await assigned.uncheck()
    await ann.get_by_role("button", name="提交").click()
    await expect(ann.get_by_role("status")).to_have_text("已保存。")
    await expect(ann.get_by_role("checkbox", name="分配给我")).not_to_be_checked()
    await expect(ann.get_by_role("checkbox", name="已超时", exact=True)).to_be_checked()
    # Only what can reach an agent, each explained; her addresses shown, not editable.
    await expect(ann.get_by_role("checkbox", name="上报紧急情况")).to_have_count(0)
    await expect(ann.get_by_text("有案件分派给您时")).to_be_visible()
    await expect(ann.get_by_role("heading", name="我的联系方式")).to_be_visible()
    await expect(ann.get_by_text("请联系客服经理")).to_be_visible()


async def test_opening_a_message_marks_it_read(console: Console, signed_in: SignedIn, newcomer: AddPerson):
    agent = await newcomer(Role.AGENT)  # ann turned assignments off above
    case = await console.api.open(Kind.COMPLAINT, title="打开即已读")
    await console.api.act(case["id"], "assign", role="supervisor", data={"owner": agent})
    ann = await signed_in(agent, password=NEWCOMER_PASSWORD)
    await expect(ann.locator("#bell")).to_contain_text(re.compile(r"消息 \d+"), timeout=20_000)
    await ann.goto(f"{console.url}/ui/inbox")
    message = ann.get_by_role("listitem").filter(has_text="【分配给我】打开即已读")
    await expect(message.get_by_role("button", name="标为已读")).to_have_count(1)
    await message.get_by_role("button", name="查看案件").click()
    await expect(ann.get_by_role("heading", level=1)).to_have_text("打开即已读")
    await ann.goto(f"{console.url}/ui/inbox")
    await expect(ann.get_by_role("listitem").filter(has_text="【分配给我】打开即已读").get_by_role("button", name="标为已读")).to_have_count(0)


async def test_an_auditor_reads_the_delivery_log(console: Console, signed_in: SignedIn, newcomer: AddPerson):
    agent = await newcomer(Role.AGENT)  # not sam, who assigns (nobody is told of their own action), nor ann, who turned assignments off
    case = await console.api.open(Kind.COMPLAINT, title="发送记录测试")
    await console.api.act(case["id"], "assign", role="supervisor", data={"owner": agent})

    async def logged():
        response = await console.api.client.get("/notifications", params={"case_id": case["id"]}, headers=auth("auditor"))
        return response.json()["items"]

    await eventually(logged, 20, "the inbox delivery in the log")
    ada = await signed_in("ada")
    await ada.get_by_role("navigation", name="案件队列").get_by_role("link", name="发送记录").click()
    await expect(ada.get_by_role("heading", level=1)).to_have_text("发送记录")
    await expect(ada.get_by_role("row").filter(has_text=agent).first).to_contain_text("已送达", timeout=20_000)


async def test_the_delivery_log_filters_by_case_and_pages_to_older_attempts(console: Console, signed_in: SignedIn, monkeypatch):
    first = await console.api.open(Kind.COMPLAINT, title="发送记录筛选一")
    second = await console.api.open(Kind.COMPLAINT, title="发送记录筛选二")
    for case in (first, second):
        await console.api.act(case["id"], "assign", role="supervisor", data={"owner": "ann"})

    async def logged(case_id: str):
        response = await console.api.client.get("/notifications", params={"case_id": case_id}, headers=auth("auditor"))
        return response.json()["items"]

    for case in (first, second):

        async def delivered(case_id: str = case["id"]) -> list:
            return await logged(case_id)

        await eventually(delivered, 20, "the inbox delivery in the log")
    ada = await signed_in("ada")
    await ada.goto(f"{console.url}/ui/notifications")
    await ada.get_by_label("案件编号").fill(first["id"])
    await ada.locator("#main").get_by_role("button", name="搜索").click()
    links = ada.get_by_role("row").get_by_role("link")
    await expect(links.first).to_be_visible()
    hrefs = {await link.get_attribute("href") for link in await links.all()}
    assert hrefs == {f"/ui/cases/{first['id']}"}
    await expect(ada.get_by_role("row").filter(has_text="ann").first).to_contain_text("站内信")

    monkeypatch.setattr("api.console.message_pages.PAGE_SIZE", 1)  # the app runs in this process
    await ada.goto(f"{console.url}/ui/notifications")
    await expect(ada.get_by_role("row")).to_have_count(2)  # the header and one attempt
    await ada.get_by_role("link", name="更早的记录").click()
    assert "before=" in ada.url
    await expect(ada.get_by_role("row")).to_have_count(2)
