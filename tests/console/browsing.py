"""Driving the console in Debian's Chromium as its users do: by the labels they see.

Shared by the browser tests' fixtures (conftest.py) and `make screenshots` (screenshots.py).
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
from playwright.async_api import Browser, BrowserContext, Page, Playwright, ViewportSize, expect

from service.directory import DEMO_PEOPLE

# Debian's build, which .ci/run installs; `playwright install` would download one, and cannot here.
CHROMIUM = Path("/usr/bin/chromium")
LANGUAGE = "zh-CN"
TIME_ZONE = "Asia/Shanghai"
DESKTOP: ViewportSize = {"width": 1440, "height": 900}
PHONE: ViewportSize = {"width": 360, "height": 740}
# The demo users' public passwords, by name (ann: agent, sam: supervisor, ada: auditor).
PASSWORDS = {name: password for name, _, _, password in DEMO_PEOPLE}
SIGN_IN_PATH = "/ui/login"
# The sign-in form's labels (name, password, button) in the language the browser asks for.
SIGN_IN_LABELS = {"zh-CN": ("用户名", "密码", "登录"), "en": ("Name", "Password", "Sign in")}
# The language switch's words (中文 / English).
LANGUAGE_NAMES = {"zh-CN": "中文", "en": "English"}

# Pages answer within a few seconds even while the 2-core machine runs other suites; Playwright's own
# default (5 s) is tuned for a quiet laptop.
expect.set_options(timeout=15_000)


def chromium_or_skip() -> Path:
    """The browser to drive; without it the browser tests skip, except in CI, where they fail."""
    if CHROMIUM.exists():
        return CHROMIUM
    reason = f"no Chromium at {CHROMIUM} (apt-get install -y chromium fonts-wqy-zenhei)"
    if os.environ.get("CI"):
        raise AssertionError(f"CI needs the browser tests: {reason}; .ci/run installs it")
    pytest.skip(reason)


async def launch(playwright: Playwright) -> Browser:
    return await playwright.chromium.launch(executable_path=str(chromium_or_skip()))


async def new_context(browser: Browser, base_url: str, viewport: ViewportSize = DESKTOP, language: str = LANGUAGE) -> BrowserContext:
    """A fresh browser profile (no cookies: nobody signed in), as a person in the department opens it."""
    return await browser.new_context(base_url=base_url, viewport=viewport, locale=language, timezone_id=TIME_ZONE)


async def submit_sign_in(page: Page, name: str, password: str, language: str = LANGUAGE) -> None:
    """Fills and sends the sign-in form in `language` (switching the page to it first, as a person
    would; the console then remembers it for them), whatever comes of it."""
    name_label, password_label, button = SIGN_IN_LABELS[language]
    await page.goto(SIGN_IN_PATH)
    if await page.locator("html").get_attribute("lang") != language:
        await page.get_by_role("link", name=LANGUAGE_NAMES[language], exact=True).click()
        await expect(page.locator("html")).to_have_attribute("lang", language)
    await page.get_by_label(name_label).fill(name)
    await page.get_by_label(password_label).fill(password)
    await page.get_by_role("button", name=button).click()


async def sign_in(page: Page, name: str, password: str | None = None, language: str = LANGUAGE) -> None:
    """Signs in (with the demo password unless another is given) and waits to be let in."""
    await submit_sign_in(page, name, PASSWORDS[name] if password is None else password, language)
    await expect(page).not_to_have_url(re.compile(re.escape(SIGN_IN_PATH)))


async def on_phone(page: Page) -> None:
    await page.set_viewport_size(PHONE)


async def on_desktop(page: Page) -> None:
    await page.set_viewport_size(DESKTOP)


async def scrolls_sideways(page: Page) -> bool:
    """Whether the page is wider than the window (on a phone nothing may need sideways scrolling)."""
    return await page.evaluate("() => document.documentElement.scrollWidth > window.innerWidth")
