"""The department in Chromium by its Chinese labels: an agent claims (认领) a case of their team's
queue (未分配); a manager sets up a team and hands over (交接) a user's cases, with a result per
case; a manager's page refuses an agent."""

from __future__ import annotations

import os
import secrets
from pathlib import Path

from playwright.async_api import Page, expect

from service.teams import Department
from states.vocabulary import AssignmentMethod, Kind, Role
from tests.console.accessibility import serious_violations
from tests.console.browsing import PHONE, scrolls_sideways
from tests.console.conftest import NEWCOMER_PASSWORD, AddPerson, Console, SignedIn

# Where the new pages' screenshots go, to be looked at (CASEWORK_SCREENSHOTS=folder); none by default.
SHOTS = os.environ.get("CASEWORK_SCREENSHOTS")


async def shot(page: Page, name: str) -> None:
    if SHOTS:
        Path(SHOTS).mkdir(parents=True, exist_ok=True)
        await page.screenshot(path=f"{SHOTS}/{name}.png", full_page=True)


def unique(prefix: str) -> str:
    return f"{prefix}{secrets.token_hex(3)}"


async def test_an_agent_claims_an_unassigned_case_of_their_teams_queue(console: Console, signed_in: SignedIn, newcomer: AddPerson):
    agent = await newcomer(Role.AGENT)
    team = unique("华东一组")
    await Department(console.read_model).add_team("test", {"name": team, "site": "总部", "assignment": AssignmentMethod.NONE, "members": [agent]})
    case = await console.api.open(Kind.COMPLAINT, title="快递三天未到，客户要求退款")
    await console.api.act(case["id"], "assign", role=Role.SUPERVISOR, data={"team": team})

    page = await signed_in(agent, password=NEWCOMER_PASSWORD)
    queues = page.get_by_role("navigation", name="案件队列")
    await queues.get_by_role("link", name=team).click()
    await expect(page.get_by_role("heading", level=1)).to_contain_text(team)
    await expect(page.get_by_role("group", name="未分配")).to_contain_text("1")
    row = page.get_by_role("row").filter(has_text="快递三天未到，客户要求退款")
    await shot(page, "team-queue")
    assert [str(violation) for violation in await serious_violations(page)] == []
    await row.get_by_role("button", name="认领").click()

    await expect(page.get_by_role("heading", level=1)).to_have_text("快递三天未到，客户要求退款")
    owner = page.locator("#case-facts").locator("xpath=.//dt[normalize-space()='负责人']/following-sibling::dd[1]")
    await expect(owner).to_have_text(agent)
    await expect(page.locator("#case-facts").locator("xpath=.//dt[normalize-space()='团队']/following-sibling::dd[1]")).to_have_text(team)
    await expect(page.locator("#timeline > li").first).to_contain_text("认领")
    assert (await console.api.get(case["id"]))["owner"] == agent

    await queues.get_by_role("link", name=team).click()
    await expect(page.get_by_role("group", name="未分配")).to_contain_text("0")
    await page.get_by_role("link", name="团队全部案件").click()
    await expect(page.get_by_label("团队", exact=True)).to_have_value(team)  # the list's team filter, from the URL
    listed = page.get_by_role("row").filter(has_text="快递三天未到，客户要求退款")
    await expect(listed.get_by_role("cell").filter(has_text=team)).to_have_count(1)
    await expect(listed).to_contain_text(agent)
    await shot(page, "queue-by-team")


async def test_a_manager_sets_up_a_team_and_hands_over_a_users_cases(console: Console, signed_in: SignedIn, newcomer: AddPerson):
    leaving, taking = await newcomer(Role.AGENT), await newcomer(Role.AGENT)
    cases = [await console.api.open(Kind.COMPLAINT, title=f"交接的投诉 {number}") for number in (1, 2, 3)]
    for case in cases:
        await console.api.act(case["id"], "assign", role=Role.SUPERVISOR, data={"owner": leaving})
    manager = await signed_in(await newcomer(Role.MANAGER), password=NEWCOMER_PASSWORD)
    setup = manager.get_by_role("navigation", name="案件队列")

    await setup.get_by_role("link", name="团队", exact=True).click()
    await manager.get_by_role("link", name="添加团队").click()
    team = unique("夜班组")
    await manager.get_by_label("团队名称").fill(team)
    await manager.get_by_label("站点").fill("成都")
    await manager.get_by_label("分配方式").select_option(label="轮流分配")
    await manager.get_by_label("成员").select_option([leaving, taking])
    await manager.get_by_label("班次").fill("everyday 17:00-01:00")
    await shot(manager, "team-form")
    await manager.get_by_role("button", name="保存").click()
    site = manager.get_by_role("region", name="站点：成都")
    await expect(site.get_by_role("row").filter(has_text=team)).to_contain_text("everyday 17:00-01:00")
    await shot(manager, "teams")

    await setup.get_by_role("link", name="用户").click()
    await manager.get_by_role("link", name=leaving).click()
    await manager.get_by_label("请假开始").fill("2030-01-01T09:00")
    await manager.get_by_label("请假结束").fill("2030-01-08T18:00")
    await manager.get_by_role("button", name="设为请假").click()
    await expect(manager.get_by_role("region", name="请假")).to_contain_text("2030-01-01 09:00 – 2030-01-08 18:00")
    await shot(manager, "user")

    await manager.get_by_role("link", name="交接此用户的案件").click()  # them, chosen
    await expect(manager.get_by_label("交出案件的用户")).to_have_value(leaving)
    await expect(manager.get_by_role("main")).to_contain_text("该用户有 3 件未结案件")
    await manager.get_by_label("交给用户").select_option(taking)
    await manager.get_by_role("button", name="交接").click()
    result = manager.get_by_role("status")
    await expect(result).to_contain_text("交接结果：3/3 件成功")
    for case in cases:
        await expect(result.get_by_role("row").filter(has_text=case["id"])).to_contain_text("成功")
        assert (await console.api.get(case["id"]))["owner"] == taking
    await shot(manager, "handover")

    await setup.get_by_role("link", name="用户").click()
    await shot(manager, "users")
    await setup.get_by_role("link", name="分派规则").click()
    await shot(manager, "routing")


async def test_a_managers_page_refuses_an_agent(signed_in: SignedIn):
    ann = await signed_in("ann")
    await expect(ann.get_by_role("navigation", name="案件队列").get_by_role("link", name="用户")).to_have_count(0)
    answer = await ann.goto("/ui/department/users")
    assert answer is not None and answer.status == 403
    await expect(ann.get_by_role("heading", level=1)).to_be_visible()
    await expect(ann.locator("form[action^='/ui/department']")).to_have_count(0)


async def test_the_department_pages_read_in_english_fit_a_phone_and_pass_axe(console: Console, signed_in: SignedIn, newcomer: AddPerson):
    manager = await signed_in(await newcomer(Role.MANAGER, language="en"), viewport=PHONE, password=NEWCOMER_PASSWORD, language="en")
    for path, heading in (
        ("/ui/department/users", "Users"),
        ("/ui/department/teams", "Teams"),
        ("/ui/department/teams/new", "Add team"),
        ("/ui/department/routing", "Routing rules"),
        ("/ui/department/handover", "Handover"),
    ):
        await manager.goto(path)
        await expect(manager.get_by_role("heading", level=1)).to_have_text(heading)
        assert not await scrolls_sideways(manager), path
        assert [str(violation) for violation in await serious_violations(manager)] == [], path
        await shot(manager, "phone-en-" + path.rsplit("/", 1)[-1])
