"""Working a case in the console as a person does: by the labels of its buttons and fields.

A case page's action button loads the action's form with htmx; 提交 sends it, and on success the page
reloads showing the case's next version.
"""

from __future__ import annotations

import re

from playwright.async_api import Locator, Page, expect

SUBMIT = "提交"
A_CASE_PAGE = re.compile(r"/ui/cases/([A-Za-z0-9-]+)$")
PHASE_NAMES = ("登记", "分析", "处理", "跟进", "已结案")


def version_of(page: Page) -> Locator:
    """The case's version as its page shows it (案件信息: 版本)."""
    return page.locator("xpath=//dt[normalize-space()='版本']/following-sibling::dd[1]")


def phase_of(page: Page) -> Locator:
    """The phase pill in the case page's head (the other pills are the kind and the priority)."""
    return page.locator(".page-head .pill").filter(has_text=re.compile(f"^({'|'.join(PHASE_NAMES)})$"))


def action_form(page: Page) -> Locator:
    return page.locator("#action-panel form")


async def open_form(page: Page, action: str) -> Locator:
    """Clicks the action's button and waits for its form (headed by the action's name)."""
    await page.get_by_role("button", name=action, exact=True).click()
    form = action_form(page)
    await expect(form.get_by_role("heading", name=action, exact=True)).to_be_visible()
    return form


async def fill(form: Locator, texts: dict[str, str] | None = None, choices: dict[str, str] | None = None) -> None:
    """Types into the fields labelled as in `texts` and picks, by its visible label, each choice in `choices`."""
    for name, text in (texts or {}).items():
        await form.get_by_label(name).fill(text)
    for name, choice in (choices or {}).items():
        await form.get_by_label(name).select_option(label=choice)


async def take(page: Page, action: str, texts: dict[str, str] | None = None, choices: dict[str, str] | None = None) -> None:
    """Takes an action on the open case page and waits until the page shows the case's next version."""
    before = (await version_of(page).inner_text()).strip()
    form = await open_form(page, action)
    await fill(form, texts, choices)
    await form.get_by_role("button", name=SUBMIT).click()
    await expect(version_of(page)).not_to_have_text(before)
    await expect(action_form(page)).to_have_count(0)


async def report(page: Page, kind: str, texts: dict[str, str], choices: dict[str, str] | None = None) -> str:
    """新建 → the kind → its report form → 提交; returns the id of the case page it lands on."""
    await page.get_by_role("navigation", name="案件队列").get_by_role("link", name="新建").click()
    await page.get_by_role("navigation", name="案件类型").get_by_role("link", name=kind).click()
    await expect(page.get_by_role("heading", level=1)).to_have_text(f"新建 · {kind}")
    form = page.get_by_role("main")
    await fill(form, texts, choices)
    await form.get_by_role("button", name=SUBMIT).click()
    await expect(page).to_have_url(A_CASE_PAGE)
    await expect(page.get_by_role("heading", level=1)).to_have_text(texts["标题"])
    found = A_CASE_PAGE.search(page.url)
    assert found, page.url
    return found.group(1)
