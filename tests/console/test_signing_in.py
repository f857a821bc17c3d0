"""Signing in and out of the console, in Chromium, by the labels on the page."""

from __future__ import annotations

import re

from playwright.async_api import Page, expect

from tests.console.browsing import SIGN_IN_PATH, sign_in, submit_sign_in
from tests.console.conftest import OpenContext

ON_SIGN_IN_PAGE = re.compile(re.escape(SIGN_IN_PATH) + r"($|\?)")


async def test_the_front_door_leads_to_sign_in_when_signed_out(page: Page):
    await page.goto("/")
    await expect(page).to_have_url(ON_SIGN_IN_PAGE)
    await expect(page.get_by_role("button", name="登录")).to_be_visible()


async def test_a_wrong_password_and_an_unknown_name_get_the_same_single_message(page: Page):
    await submit_sign_in(page, "ann", "not-anns-password")
    await expect(page).to_have_url(ON_SIGN_IN_PAGE)
    message = page.get_by_role("alert")
    await expect(message).to_have_count(1)
    wrong_password = (await message.inner_text()).strip()
    assert wrong_password, "the refusal says something"

    await submit_sign_in(page, "nobody-of-that-name", "not-anns-password")
    await expect(page).to_have_url(ON_SIGN_IN_PAGE)
    await expect(message).to_have_count(1)
    await expect(message).to_have_text(wrong_password)

    await page.goto("/")
    await expect(page).to_have_url(ON_SIGN_IN_PAGE)


async def test_the_right_password_lands_on_my_cases(page: Page):
    await sign_in(page, "ann")
    await expect(page.get_by_role("heading", name="我的案件")).to_be_visible()

    await page.goto("/")
    await expect(page.get_by_role("heading", name="我的案件")).to_be_visible()


async def test_signing_out_ends_the_session_for_good(contexts: OpenContext):
    context = await contexts()
    page = await context.new_page()
    await sign_in(page, "sam")
    session = await context.cookies()

    await page.get_by_role("button", name="退出").or_(page.get_by_role("link", name="退出")).click()
    await expect(page).to_have_url(ON_SIGN_IN_PAGE)
    await page.goto("/")
    await expect(page).to_have_url(ON_SIGN_IN_PAGE)

    # The cookie a copy of the browser kept from before is worth nothing now: the server ended the session.
    replay = await contexts()
    await replay.add_cookies(session)  # type: ignore[arg-type]
    replayed = await replay.new_page()
    await replayed.goto("/")
    await expect(replayed).to_have_url(ON_SIGN_IN_PAGE)
