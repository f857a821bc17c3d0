"""axe-core finds nothing serious or critical on the console's main pages, on a laptop and a phone, in both languages."""

from __future__ import annotations

import pytest
from playwright.async_api import Page, ViewportSize, expect

from states.vocabulary import Kind, Role
from tests.console.accessibility import serious_violations
from tests.console.browsing import DESKTOP, PHONE, SIGN_IN_PATH
from tests.console.conftest import NEWCOMER_PASSWORD, AddPerson, Console, OpenContext, SignedIn

# The labels a test clicks, as each language shows them (glossary.md).
LABELS = {"zh-CN": {"comment": "备注", "submit": "提交"}, "en": {"comment": "Comment", "submit": "Submit"}}


async def assert_accessible(page: Page, what: str) -> None:
    assert [str(violation) for violation in await serious_violations(page)] == [], what


@pytest.mark.parametrize(("viewport", "language"), [(DESKTOP, "zh-CN"), (PHONE, "zh-CN"), (DESKTOP, "en")], ids=["desktop", "phone", "english"])
async def test_main_pages_have_no_serious_violation(
    console: Console, contexts: OpenContext, signed_in: SignedIn, newcomer: AddPerson, viewport: ViewportSize, language: str
):
    case = await console.api.open(
        Kind.COMPLAINT, title="快递延误 <b>五天</b>", description="客户说包裹停在转运中心。", customer={"id": "C-100238", "name": "王丽", "vip": True}
    )
    await console.api.act(case["id"], "acknowledge", note="已致电客户致歉。")

    stranger = await (await contexts(viewport, language)).new_page()
    await stranger.goto(SIGN_IN_PATH)
    await assert_accessible(stranger, "the sign-in page")

    supervisor = await signed_in(await newcomer(Role.SUPERVISOR, language), viewport, language, NEWCOMER_PASSWORD)
    await supervisor.goto("/ui/cases")
    await expect(supervisor.locator(f'a[href="/ui/cases/{case["id"]}"]').first).to_be_visible()
    await assert_accessible(supervisor, "the queue of all cases")

    await supervisor.goto(f"/ui/cases/{case['id']}")
    await supervisor.get_by_role("button", name=LABELS[language]["comment"], exact=True).click()
    await expect(supervisor.get_by_role("button", name=LABELS[language]["submit"])).to_be_visible()
    await assert_accessible(supervisor, "a case page with an action's form open")

    await supervisor.goto(f"/ui/cases/new?kind={Kind.INCIDENT}")
    await expect(supervisor.get_by_role("button", name=LABELS[language]["submit"])).to_be_visible()
    await assert_accessible(supervisor, "the report form of an emergency meeting")
