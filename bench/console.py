"""The console through HTTP as a signed-in supervisor sees it: the queue (全部案件: 50 rows with the
navigation's counts), a search by a Chinese substring, and a case page with 100 events.

Each page is asked for `rounds` times in turn, one at a time, over one session; p50/p99 of the
whole answer (HTML rendered, every query behind it)."""

from __future__ import annotations

import re
import time

import httpx

from bench import projection
from bench.http_load import TO_REMEDIATE
from bench.stats import percentiles
from service.directory import Directory
from service.read_model import ReadModel

PERSON, ROLE, PASSWORD = "bench-sam", "supervisor", "bench-console-password"
CASE_EVENTS = 100
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
ASSETS = re.compile(r'<(?:script src|link rel="stylesheet" href)="([^"]+)"')


async def measure(base: str, model: ReadModel, searches: dict[str, dict], rounds: int, size: int) -> dict:
    directory = Directory(model)
    if await directory.person(PERSON) is None:
        await directory.add(PERSON, ROLE, PASSWORD)
    case_id = f"bench-console-{size}"
    # The opening event and the walk to remediate, then the unsatisfied loop until the case has 100 events.
    await projection.measure(model, CASE_EVENTS - 1 - len(TO_REMEDIATE), case_id=case_id)
    pages = {"queue (全部案件)": {}, **{f"search: {name}": query for name, query in searches.items()}}
    async with httpx.AsyncClient(base_url=base, timeout=60) as client:
        await _sign_in(client)
        figures = {name: await _time(client, "/ui/cases", query, rounds) for name, query in pages.items()}
        figures["case page, 100 events"] = await _time(client, f"/ui/cases/{case_id}", {}, rounds)
        assets_kb = await _assets_kb(client)
    searched = [timing for name, timing in figures.items() if name.startswith("search")]
    return {
        "queue": figures["queue (全部案件)"],
        "search": {"p50_ms": max(each["p50_ms"] for each in searched), "p99_ms": max(each["p99_ms"] for each in searched)},
        "case_page": figures["case page, 100 events"],
        "by_page": figures,
        "assets_gzip_kb": assets_kb,
        "rounds": rounds,
    }


async def _sign_in(client: httpx.AsyncClient) -> None:
    form = await client.get("/ui/login")
    token = CSRF.search(form.text)
    assert token, "the sign-in form carries its token"
    answer = await client.post("/ui/login", data={"csrf_token": token.group(1), "name": PERSON, "password": PASSWORD})
    assert answer.status_code == 303, f"signing in to the console failed: {answer.status_code}"


async def _time(client: httpx.AsyncClient, path: str, query: dict, rounds: int) -> dict:
    timings = []
    for _ in range(rounds):
        began = time.perf_counter()
        # The console names the API's `state` filter `phase`.
        answer = await client.get(path, params={("phase" if key == "state" else key): value for key, value in query.items()} or None)
        timings.append(time.perf_counter() - began)
        assert answer.status_code == 200, f"{path} {query}: {answer.status_code}"
    return percentiles(timings)


async def _assets_kb(client: httpx.AsyncClient) -> float:
    """What a first visit downloads of the console's own scripts and styles, compressed as sent."""
    page = await client.get("/ui/cases")
    sent = 0
    for url in ASSETS.findall(page.text):
        answer = await client.get(url, headers={"Accept-Encoding": "gzip"})
        sent += answer.num_bytes_downloaded
    return round(sent / 1000, 1)
