"""The axe check the console's pages are held to sees what it should, under a CSP as strict as the console's."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from playwright.async_api import Browser, Page, Route

from tests.console.accessibility import serious_violations

ORIGIN = "http://casework.test"
CSP = "default-src 'self'; script-src 'self'; style-src 'self'; frame-ancestors 'none'"
UNLABELLED = '<main><h1>全部案件</h1><img src="/logo.png"><form><input name="q"><button>搜索</button></form></main>'
LABELLED = '<main><h1>全部案件</h1><img src="/logo.png" alt="Casework"><form><label>搜索 <input name="q"></label><button>搜索</button></form></main>'


@pytest.fixture
async def strict_page(browser: Browser) -> AsyncIterator[Page]:
    """A page served from a stand-in origin whose answers carry the CSP; its body is set per test."""
    context = await browser.new_context()
    yield await context.new_page()
    await context.close()


async def serve(page: Page, body: str) -> None:
    html = f'<!doctype html><html lang="zh-CN"><head><meta charset="utf-8"><title>Casework</title></head><body>{body}</body></html>'

    async def answer(route: Route) -> None:
        if route.request.url.endswith(".png"):
            await route.fulfill(status=404)
        else:
            await route.fulfill(body=html, content_type="text/html; charset=utf-8", headers={"Content-Security-Policy": CSP})

    await page.route(f"{ORIGIN}/**", answer)
    await page.goto(f"{ORIGIN}/")


async def test_an_image_without_text_and_an_unlabelled_field_are_serious(strict_page: Page):
    await serve(strict_page, UNLABELLED)
    found = {violation.rule: violation for violation in await serious_violations(strict_page)}
    assert set(found) == {"image-alt", "label"}, [str(violation) for violation in found.values()]
    assert found["label"].targets == ("input",)


async def test_a_page_with_text_for_every_image_and_field_passes(strict_page: Page):
    await serve(strict_page, LABELLED)
    assert [str(violation) for violation in await serious_violations(strict_page)] == []
