"""Getting around the console in Chromium: the language switch, the keyboard shortcuts, a phone's screen."""

from __future__ import annotations

import re

from playwright.async_api import expect

from states.vocabulary import Kind, Role
from tests.console.acting import A_CASE_PAGE
from tests.console.browsing import PHONE, scrolls_sideways
from tests.console.conftest import NEWCOMER_PASSWORD, AddPerson, Console, SignedIn


async def test_the_language_switch_in_the_header_changes_every_label_and_back(signed_in: SignedIn, newcomer: AddPerson):
    person = await signed_in(await newcomer(Role.AGENT), password=NEWCOMER_PASSWORD)
    queues = person.get_by_role("navigation", name=re.compile("案件队列|Queues"))
    await expect(queues.get_by_role("link", name=re.compile("^我的案件"))).to_be_visible()

    await person.get_by_role("banner").get_by_role("button", name="English").click()
    await expect(person.locator("html")).to_have_attribute("lang", "en")
    await expect(queues.get_by_role("link", name=re.compile("^My cases"))).to_be_visible()
    await expect(queues.get_by_role("link", name=re.compile("^All cases"))).to_be_visible()
    # Nothing half-translated: every word but the department's own names (its teams and sites, data in any language).
    words = await person.get_by_role("main").evaluate(
        "main => { const copy = main.cloneNode(true);"
        ' copy.querySelectorAll(\'select[name=team] option[value]:not([value=""]), select[name=site] option[value]:not([value=""])\')'
        ".forEach(option => option.remove()); return copy.innerText; }"
    )
    assert "My cases" in words and not re.search("[\u4e00-\u9fff]", words), words

    await person.get_by_role("banner").get_by_role("button", name="中文").click()
    await expect(person.locator("html")).to_have_attribute("lang", "zh-CN")
    await expect(queues.get_by_role("link", name=re.compile("^我的案件"))).to_be_visible()
    await expect(queues.get_by_role("link", name=re.compile("^全部案件"))).to_be_visible()


async def test_the_keyboard_finds_searches_moves_through_and_opens_cases(console: Console, signed_in: SignedIn):
    for number in range(3):
        await console.api.open(Kind.COMPLAINT, title=f"键盘 {number}")
    sam = await signed_in("sam")
    await sam.get_by_role("navigation", name="案件队列").get_by_role("link", name="全部案件").click()
    rows = sam.locator("[data-list] [data-row]")
    await expect(rows.nth(2)).to_be_visible()

    await sam.keyboard.press("/")
    await expect(sam.get_by_role("search").get_by_role("searchbox")).to_be_focused()
    await sam.keyboard.press("Escape")
    await expect(sam.get_by_role("search").get_by_role("searchbox")).not_to_be_focused()

    await sam.keyboard.press("?")
    shortcuts = sam.get_by_role("dialog", name="键盘快捷键")
    await expect(shortcuts).to_be_visible()
    await sam.keyboard.press("Escape")
    await expect(shortcuts).to_be_hidden()

    for key in ("j", "j", "k"):
        await sam.keyboard.press(key)
    await expect(rows.first).to_have_attribute("aria-selected", "true")
    await expect(rows.nth(1)).to_have_attribute("aria-selected", "false")
    chosen = await rows.first.get_by_role("link").first.get_attribute("href")
    await sam.keyboard.press("Enter")
    await expect(sam).to_have_url(re.compile(re.escape(f"{chosen}") + "$"))
    await expect(sam.get_by_role("heading", name="处理记录")).to_be_visible()


async def test_on_a_phone_the_queue_is_cards_and_nothing_scrolls_sideways(console: Console, signed_in: SignedIn):
    unbroken = "SO-" + "7" * 120  # one long word, as order numbers and ids are
    case = await console.api.open(
        Kind.COMPLAINT, title="手机上看的案件" * 8, customer={"id": "C-" + "9" * 80, "name": "王丽"}, data={"order_ref": unbroken}
    )
    await console.api.act(case["id"], "comment", note=unbroken)
    ann = await signed_in("ann", viewport=PHONE)

    await ann.goto("/ui/cases")
    first = ann.locator("[data-list] [data-row]").first
    await expect(first).to_be_visible()
    await expect(ann.get_by_role("columnheader", name="类型")).to_be_hidden()  # no table head: each case is a card
    await expect(first).to_have_css("display", "block")
    assert not await scrolls_sideways(ann), "the queue"

    await ann.goto(f"/ui/cases/{case['id']}")
    await expect(ann).to_have_url(A_CASE_PAGE)
    await expect(ann.get_by_role("heading", name="处理记录")).to_be_visible()
    assert not await scrolls_sideways(ann), "a case page"
