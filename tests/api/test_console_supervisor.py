"""The supervisors' console pages through the real app: wallboard, KPIs, weekly and monthly reviews."""

from __future__ import annotations

import dataclasses
import re
import time
from collections import Counter
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import httpx
import pytest

from api.console.figures import Figures
from api.console.timefmt import Clock
from service.directory import Directory
from service.read_model import ReadModel, create_engine
from service.teams import Department
from tests.api.conftest import DATABASES, postgres_database
from tests.conftest import Api, auth, serving, worker_on
from tests.service.kpi_cases import project_all, reported_case

PASSWORD = "a-long-enough-password"
# A normal complaint must be answered within a second (breached at once); a low one within 100 s,
# with its warning after 1 s (due soon for the rest of the test). Nothing else has a target.
POLICY = {
    "warn_at": 0.01,
    "pause_in": [],
    "auto_escalate": [],
    "targets": {"complaint": {"normal": {"first_response": 1}, "low": {"first_response": 100}}},
}
PEOPLE = {"wanda": ("supervisor", "zh-CN"), "evan": ("supervisor", "en"), "aida": ("auditor", "zh-CN"), "agnes": ("agent", "zh-CN")}
GLOSSARY_RATES = ("响应及时率", "问题解决率", "客户满意度", "重开率", "超时率")
INLINE_STYLE = re.compile(r"<style|\sstyle\s*=", re.IGNORECASE)


@dataclass
class Stack:
    api: Api
    client: httpx.AsyncClient
    read_model: ReadModel


def charts(html: str) -> int:
    """The charts on a page: its SVGs but the icons (the bell)."""
    return html.count("<svg") - html.count('<svg class="icon"')


@pytest.fixture
def stack(temporal_env, stack_settings, tmp_path):
    @asynccontextmanager
    async def start(database: str = "sqlite") -> AsyncIterator[Stack]:
        async with _database_url(database, tmp_path) as url:
            settings = dataclasses.replace(stack_settings, database_url=url, task_queue=f"super-{time.monotonic_ns()}", sla_policy=POLICY)
            read_model = ReadModel(create_engine(settings.read_model_url))
            await read_model.upgrade()
            directory = Directory(read_model)
            for name, (role, language) in PEOPLE.items():
                await directory.add(name, role, PASSWORD, language=language)
            try:
                async with worker_on(temporal_env.client, read_model, settings.task_queue), serving(settings) as client:
                    yield Stack(Api(client), client, read_model)
            finally:
                await read_model.close()

    return start


@asynccontextmanager
async def _database_url(database: str, tmp_path) -> AsyncIterator[str]:
    if database == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path}/super.db"
        return
    async with postgres_database() as url:
        yield url


async def signed_in(client: httpx.AsyncClient, name: str) -> httpx.AsyncClient:
    """A browser of its own, signed in to the console as `name`."""
    browser = httpx.AsyncClient(base_url=client.base_url, timeout=60)
    form = await browser.get("/ui/login")
    token = re.search(r'name="csrf_token" value="([^"]+)"', form.text)
    assert token, form.text
    answer = await browser.post("/ui/login", data={"name": name, "password": PASSWORD, "csrf_token": token.group(1)})
    assert answer.status_code == 303 and "casework_session" in browser.cookies, answer.text
    return browser


async def page(browser: httpx.AsyncClient, path: str, status: int = 200) -> str:
    response = await browser.get(path)
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("text/html")
    assert not INLINE_STYLE.search(response.text), f"{path} styles inline; the CSP forbids it"
    return response.text


def figure(html: str, name: str) -> int:
    found = re.search(rf'data-figure="{name}">.*?<span class="tile-number[^"]*">(\d+)</span>', html, re.DOTALL)
    assert found, f"no {name} on the wallboard"
    return int(found.group(1))


def phase_count(html: str, phase: str) -> int:
    found = re.search(rf'data-phase="{phase}"><span class="phase-count">(\d+)</span>', html)
    assert found, f"no {phase} on the wallboard"
    return int(found.group(1))


def owner_counts(html: str) -> dict[str, int]:
    rows = re.findall(r'<tr data-owner="([^"]*)">.*?<td class="num owner-count">(\d+)</td>', html, re.DOTALL)
    return {owner: int(count) for owner, count in rows}


async def seed(api: Api) -> dict[str, str]:
    """Six cases reported today: one breached, one due soon, one answered, one feedback in analysis,
    one closed, one with no target at all."""
    breached = await api.open(priority="normal", title="<b>late</b> answer")
    due_soon = await api.open(priority="low")
    answered = await api.open(priority="low")
    await api.act(answered["id"], "acknowledge")
    analysed = await api.open("feedback")
    await api.act(analysed["id"], "classify", data={"category": "logistics"})
    await api.act(analysed["id"], "assign", role="supervisor", data={"owner": "bob"})
    closed = await api.open(priority="low", title="closed today")
    await api.act(closed["id"], "start_analysis")
    await api.act(closed["id"], "dismiss", role="supervisor", data={"reason": "duplicate"})
    untimed = await api.open("feedback")
    await api.history_with(breached["id"], "sla_breached")
    await api.history_with(due_soon["id"], "sla_warning")
    return {"breached": breached["id"], "due_soon": due_soon["id"], "closed": closed["id"], "untimed": untimed["id"]}


@pytest.mark.parametrize("database", DATABASES)
async def test_wallboard_counts_the_seeded_cases(stack, database):
    async with stack(database) as running:
        await seed(running.api)
        browser = await signed_in(running.client, "wanda")
        html = await page(browser, "/ui/wallboard")
        assert "监控大屏" in html and 'hx-trigger="every 30s"' in html
        assert figure(html, "breached") == 1
        assert figure(html, "due_soon") == 1
        assert figure(html, "open_total") == 5
        assert figure(html, "reported_today") == 6
        assert figure(html, "closed_today") == 1
        assert (phase_count(html, "report"), phase_count(html, "analyse"), phase_count(html, "remediate")) == (4, 1, 0)
        open_cases = [case for case in (await running.api.list(limit=100))["items"] if case["state"] != "closed"]
        assert owner_counts(html) == {owner or "": count for owner, count in Counter(case["owner"] for case in open_cases).items()}
        assert owner_counts(html)["bob"] == 1


async def test_wallboard_refreshes_as_cases_move(stack):
    async with stack() as running:
        browser = await signed_in(running.client, "aida")
        assert figure(await page(browser, "/ui/wallboard"), "open_total") == 0
        assert "目前没有未结案件" in await page(browser, "/ui/wallboard")
        case = await running.api.open("feedback")
        html = await page(browser, "/ui/wallboard")
        assert (figure(html, "open_total"), phase_count(html, "report")) == (1, 1)
        await running.api.act(case["id"], "classify", data={"category": "account"})
        html = await page(browser, "/ui/wallboard")
        assert (phase_count(html, "report"), phase_count(html, "analyse")) == (0, 1)


async def test_agents_may_not_read_the_supervisors_pages(stack):
    async with stack() as running:
        agent = await signed_in(running.client, "agnes")
        for path in ("/ui/wallboard", "/ui/kpis", "/ui/reviews", "/ui/reviews/rev_weekly_2026-11-23"):
            assert "无权访问" in await page(agent, path, status=403)
        queue = await page(agent, "/ui/cases/mine")
        assert "/ui/wallboard" not in queue and "/ui/kpis" not in queue
        supervisor = await signed_in(running.client, "wanda")
        navigation = await page(supervisor, "/ui/cases")
        assert all(f'href="/ui/{target}"' in navigation for target in ("wallboard", "kpis", "reviews"))
        assert "/ui/wallboard" in await page(await signed_in(running.client, "aida"), "/ui/cases")
        signed_out = await running.client.get("/ui/kpis?group=week")
        assert signed_out.status_code == 303 and signed_out.headers["location"] == "/ui/login?next=%2Fui%2Fkpis%3Fgroup%3Dweek"


async def test_kpi_page_speaks_both_languages_with_charts(stack):
    async with stack() as running:
        await seed(running.api)
        chinese = await page(await signed_in(running.client, "wanda"), "/ui/kpis?group=week")
        english = await page(await signed_in(running.client, "evan"), "/ui/kpis?group=week")
        for html, words in ((chinese, GLOSSARY_RATES), (english, ("On-time first response", "Resolution rate", "Breach rate", "By week"))):
            assert all(word in html for word in words)
            assert charts(html) >= 3
            volume = re.search(r'data-kpi="volume"><span class="tile-label">[^<]*</span><span class="tile-number">(\d+)</span>', html)
            assert volume and volume.group(1) == "6"
        assert "按周" in chinese and "By week" not in chinese
        assert 'lang="zh-CN"' in chinese and 'lang="en"' in english


async def test_kpi_page_filters_by_kind_and_refuses_a_backwards_period(stack):
    async with stack() as running:
        await seed(running.api)
        browser = await signed_in(running.client, "wanda")
        feedback = await page(browser, "/ui/kpis?kind=feedback")
        assert re.search(r'data-kpi="volume"><span class="tile-label">[^<]*</span><span class="tile-number">2</span>', feedback)
        backwards = await page(browser, "/ui/kpis?from=2026-12-02&to=2026-11-01&kind=nonsense")
        assert "日期或筛选条件无效" in backwards and charts(backwards) == 0


async def test_review_pages_show_the_glossary_kpis_and_escape_titles(stack):
    async with stack() as running:
        await seed(running.api)
        made = await running.client.post("/reviews", json={}, headers=auth("supervisor"))
        assert made.status_code == 201, made.text
        review_id = made.json()["id"]
        browser = await signed_in(running.client, "wanda")
        listing = await page(browser, "/ui/reviews")
        assert f'href="/ui/reviews/{review_id}"' in listing and "专项报告" in listing
        html = await page(browser, f"/ui/reviews/{review_id}")
        assert all(label in html for label in GLOSSARY_RATES)
        assert "超时案件" in html and "&lt;b&gt;late&lt;/b&gt; answer" in html and "<b>late</b>" not in html
        assert charts(html) == 3 and "Key figures" not in html
        english = await page(await signed_in(running.client, "evan"), f"/ui/reviews/{review_id}")
        assert "Key figures" in english and "On-time first response" in english and "响应及时率" not in english
        await page(browser, "/ui/reviews/rev_weekly_1999-01-04", status=404)
        # The API's own renderings keep working beside the console's page.
        api_page = await running.client.get(f"/reviews/{review_id}/page", headers=auth("auditor"))
        assert api_page.status_code == 200 and "<svg" in api_page.text


@pytest.mark.parametrize(
    ("language", "expected"),
    [
        ("zh-CN", ["12秒", "2小时15分", "12.3%", "▼ -5.0个百分点", "▲ +30分", "持平", "12,345", "未分类"]),
        ("en", ["12 s", "2 h 15 min", "12.3%", "▼ -5.0 pp", "▲ +30 min", "no change", "12,345", "No category"]),
    ],
)
def test_figures_are_written_in_the_users_language(language, expected):
    figures = Figures(Clock(ZoneInfo("Asia/Shanghai"), language))
    written = [
        figures.value("handling_p50_seconds", 12.4),
        figures.value("handling_p50_seconds", 8100),
        figures.value("breach_rate", 0.1234),
        figures.change("breach_rate", -0.05),
        figures.change("handling_mean_seconds", 1800),
        figures.change("volume", 0),
        figures.value("volume", 12345),
        figures.category_label("none"),
    ]
    assert written == expected
    # A falling breach rate is good news, a falling resolution rate is not, a volume is neither.
    assert (figures.verdict("breach_rate", -0.05), figures.verdict("resolution_rate", -0.05), figures.verdict("volume", 10)) == (
        "better",
        "worse",
        None,
    )


async def test_the_review_page_shows_each_teams_figures_in_the_users_language(stack):
    async with stack() as running:
        await Department(running.read_model).add_team("test", {"name": "north", "site": "<i>HQ</i>", "assignment": "none"})
        reported = datetime.now(UTC) - timedelta(hours=1)
        await project_all(running.read_model, [reported_case("T1", "complaint", reported, first_response=60, team="north")])
        made = await running.client.post("/reviews", json={}, headers=auth("supervisor"))
        assert made.status_code == 201, made.text
        path = f"/ui/reviews/{made.json()['id']}"
        html = await page(await signed_in(running.client, "wanda"), path)
        table = html.split("data-review-teams", 1)[1].split("</section>", 1)[0]
        assert "各团队指标" in table and "站点" in table and "响应及时率" in table
        assert "north" in table and "&lt;i&gt;HQ&lt;/i&gt;" in table and "<i>" not in table and "100.0%" in table
        english = await page(await signed_in(running.client, "evan"), path)
        assert "By team" in english and "Site" in english.split("data-review-teams", 1)[1]


async def test_kpi_and_review_pages_badge_each_targeted_kpi_met_or_missed_and_list_the_agents(stack):
    """The default targets: resolution ≥ 90% (here 1 of 2: missed), satisfied ≥ 90% (1 of 1: met)."""
    async with stack() as running:
        reported = datetime.now(UTC) - timedelta(hours=3)
        await project_all(
            running.read_model,
            [
                reported_case(
                    "S1",
                    "complaint",
                    reported,
                    first_response=60,
                    responses=(1, 60),
                    closed_after=3600,
                    closed_by="record_satisfaction",
                    satisfied=True,
                    score=5,
                    owner="alice",
                ),
                reported_case("S2", "complaint", reported, first_response=120, responses=(1, 120), owner="alice"),
            ],
        )
        browser = await signed_in(running.client, "wanda")
        html = await page(browser, "/ui/kpis")

        def tile(name: str) -> str:
            return html.split(f'<div class="tile" data-kpi="{name}">', 1)[1].split("</div>", 1)[0]

        assert '<span class="badge target-missed" title="目标：≥ 90.0%">未达标</span>' in tile("resolution_rate")
        assert '<span class="badge target-met" title="目标：≥ 90.0%">达标</span>' in tile("satisfied_share")
        assert "达标" not in tile("reopen_rate")  # no target
        response = html.split('data-kpi="response_mean_seconds">', 1)[1].split("</dd>", 1)[0]
        assert "target-met" in response and "目标 ≤ 30分" in response  # 90 s of a 30-minute target

        made = await running.client.post("/reviews", json={}, headers=auth("supervisor"))
        assert made.status_code == 201, made.text
        review = await page(browser, f"/ui/reviews/{made.json()['id']}")
        row = review.split('<tr data-kpi="resolution_rate">', 1)[1].split("</tr>", 1)[0]
        assert "未达标" in row and "目标 ≥ 90.0%" in row
        agents = review.split("data-review-agents", 1)[1].split("</section>", 1)[0]
        assert "按客服专员" in agents and "服务案件数" in agents and "平均质检得分" in agents
        assert re.search(r"<td[^>]*>alice</td><td[^>]*>2</td><td[^>]*>1</td><td[^>]*>1</td>", agents)
        english = await page(await signed_in(running.client, "evan"), "/ui/kpis")
        assert ">Missed</span>" in english and ">Met</span>" in english and "Target ≥ 90.0%" in english


async def test_a_supervisor_makes_the_monthly_review_from_the_reviews_page(stack):
    async with stack() as running:
        await seed(running.api)
        browser = await signed_in(running.client, "wanda")
        listing = await page(browser, "/ui/reviews")
        assert "生成报告" in listing and "所在日期" in listing
        token = csrf_of(listing)
        refused = await browser.post("/ui/reviews", data={"csrf_token": token, "cadence": "monthly", "day": "2026-13-40"})
        assert (
            refused.status_code == 422 and 'id="review-day-error"' in refused.text and 'value="2026-13-40"' in refused.text
        )  # kept, refused beside the field
        made = await browser.post("/ui/reviews", data={"csrf_token": token, "cadence": "monthly", "day": "2026-11-30"}, follow_redirects=False)
        assert made.status_code == 303 and made.headers["location"] == "/ui/reviews/rev_monthly_2026-11-01", made.text
        review = await page(browser, "/ui/reviews/rev_monthly_2026-11-01")
        assert "月报" in review
        forged = await browser.post("/ui/reviews", data={"cadence": "weekly"})
        assert forged.status_code == 403  # no CSRF token
        auditor = await signed_in(running.client, "aida")
        auditor_listing = await page(auditor, "/ui/reviews")
        assert "生成报告" not in auditor_listing
        auditor_token = csrf_of(auditor_listing)
        assert (await auditor.post("/ui/reviews", data={"csrf_token": auditor_token, "cadence": "weekly"})).status_code == 403


def csrf_of(html: str) -> str:
    token = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert token, html
    return token.group(1)
