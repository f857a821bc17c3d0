"""Live updates between two people signed in at once: a change one makes shows on the other's page
within seconds, without a reload (server-sent events from the read model)."""

from __future__ import annotations

from playwright.async_api import expect

from tests.console.conftest import Console, SignedIn

# Generous for a loaded 2-core machine; the bench measures how fast it really is.
WITHIN = 15_000


async def test_a_change_by_one_person_shows_on_anothers_case_page_and_list(console: Console, signed_in: SignedIn):
    case = await console.api.open(title="两人同时查看")
    sam = await signed_in("sam")
    await sam.goto(f"/ui/cases/{case['id']}")
    await expect(sam.get_by_role("heading", name="两人同时查看")).to_be_visible()
    ann = await signed_in("ann")
    await ann.goto(f"/ui/cases/{case['id']}")
    await ann.get_by_role("button", name="开始分析").click()
    await ann.get_by_label("备注").fill("安在分析中")
    await ann.get_by_role("button", name="提交").click()
    await expect(ann.locator("#timeline")).to_contain_text("安在分析中")

    await expect(sam.locator("#timeline")).to_contain_text("安在分析中", timeout=WITHIN)
    await expect(sam.locator("#case-head")).to_contain_text("分析")
    # The buttons follow the new phase too: 开始分析 is gone for sam without a reload.
    await expect(sam.get_by_role("button", name="开始分析")).to_have_count(0)

    await sam.goto("/ui/cases")
    await expect(sam.get_by_role("heading", name="全部案件")).to_be_visible()
    await console.api.open(title="刚刚登记的新投诉")
    await expect(sam.locator("#case-list")).to_contain_text("刚刚登记的新投诉", timeout=WITHIN)


async def test_an_open_form_survives_a_live_update_and_is_told_it_is_stale(console: Console, signed_in: SignedIn):
    case = await console.api.open(title="表单打开时被他人修改")
    ann = await signed_in("ann")
    await ann.goto(f"/ui/cases/{case['id']}")
    await ann.get_by_role("button", name="备注").first.click()
    await ann.get_by_label("备注").fill("我正在写的备注")
    await console.api.act(case["id"], "start_analysis", role="supervisor")
    await expect(ann.locator("#case-head")).to_contain_text("分析", timeout=WITHIN)
    await expect(ann.get_by_label("备注")).to_have_value("我正在写的备注")  # the live update left the form alone
    await ann.get_by_role("button", name="提交").click()
    await expect(ann.get_by_role("alert")).to_contain_text("已被他人更新")
    await expect(ann.get_by_label("备注")).to_have_value("我正在写的备注")
