"""The console in a real browser: one Casework app served over TCP with its own worker and read model
(the demo users in its directory), one Chromium for the session, a fresh browser context per user."""

from __future__ import annotations

import dataclasses
import secrets
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass

import pytest
from playwright.async_api import Browser, BrowserContext, Page, ViewportSize, async_playwright

from service.directory import Directory
from service.read_model import ReadModel, create_engine
from states.vocabulary import Role
from tests.conftest import Api, serving, worker_on
from tests.console.browsing import DESKTOP, LANGUAGE, launch, new_context, sign_in


@dataclass(frozen=True)
class Console:
    url: str
    api: Api  # the JSON API of the same app, with the test tokens of tests/conftest.py: to set the scene quickly
    read_model: ReadModel
    task_queue: str = "casework-tests"  # its worker's: for tests that start workflows of their own on it


@pytest.fixture(scope="session")
async def browser() -> AsyncIterator[Browser]:
    async with async_playwright() as playwright:
        browser = await launch(playwright)
        yield browser
        await browser.close()


@pytest.fixture(scope="session")
async def console(temporal_env, stack_settings, tmp_path_factory) -> AsyncIterator[Console]:
    """The app on its own read model and task queue, so lists and counts hold only this suite's cases."""
    database = tmp_path_factory.mktemp("console") / "casework.db"
    settings = dataclasses.replace(stack_settings, database_url=f"sqlite+aiosqlite:///{database}", task_queue=f"console-{time.monotonic_ns()}")
    read_model = ReadModel(create_engine(settings.read_model_url))
    await read_model.upgrade()
    await Directory(read_model).add_demo_users()
    try:
        async with worker_on(temporal_env.client, read_model, settings.task_queue), serving(settings) as client:
            yield Console(str(client.base_url).rstrip("/"), Api(client), read_model, settings.task_queue)
    finally:
        await read_model.close()


@pytest.fixture(scope="session")
def console_url(console: Console) -> str:
    return console.url


# `browser` comes first in the fixtures below, so a machine without Chromium skips before the app starts.

OpenContext = Callable[..., Awaitable[BrowserContext]]


@pytest.fixture
async def contexts(browser: Browser, console_url: str) -> AsyncIterator[OpenContext]:
    """Opens fresh browser contexts (one per person) on the console; all are closed after the test."""
    opened: list[BrowserContext] = []

    async def open_context(viewport: ViewportSize = DESKTOP, language: str = LANGUAGE) -> BrowserContext:
        context = await new_context(browser, console_url, viewport, language)
        opened.append(context)
        return context

    yield open_context
    for context in opened:
        await context.close()


@pytest.fixture
async def page(contexts: OpenContext) -> Page:
    """A page in a fresh context: nobody signed in."""
    return await (await contexts()).new_page()


SignedIn = Callable[..., Awaitable[Page]]


@pytest.fixture
def signed_in(contexts: OpenContext) -> SignedIn:
    """`await signed_in("sam")`: a page of a new context in which that demo user has signed in.
    Call it once per user for people working side by side."""

    async def as_user(name: str, viewport: ViewportSize = DESKTOP, language: str = LANGUAGE, password: str | None = None) -> Page:
        page = await (await contexts(viewport, language)).new_page()
        await sign_in(page, name, password, language)
        return page

    return as_user


NEWCOMER_PASSWORD = "newcomer-password"
AddPerson = Callable[..., Awaitable[str]]


@pytest.fixture
def newcomer(console: Console) -> AddPerson:
    """`await newcomer(Role.SUPERVISOR, language="en")`: adds a person of that role, who has chosen that
    language, to the directory and returns their name; they sign in with NEWCOMER_PASSWORD. For tests
    that change a person (their language, their password) without touching the demo users others share."""

    async def add(role: Role, language: str = LANGUAGE) -> str:
        name = f"{role}-{secrets.token_hex(4)}"
        await Directory(console.read_model).add(name, role, NEWCOMER_PASSWORD, language=language)
        return name

    return add
