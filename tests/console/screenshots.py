"""`make screenshots`: the console as a supervisor sees it, saved as PNGs for the docs.

Starts `casework serve` on a throw-away data folder and free ports, reports a few cases through the
JSON API with the demo tokens, signs in as sam in Chromium (1440x900, zh-CN) and saves the queue
(全部案件), a case page and the wallboard into docs/screenshots/.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import signal
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from playwright.async_api import Page, async_playwright, expect

from service.settings import DEMO_USERS, Settings
from tests.conftest import free_port
from tests.console.browsing import CHROMIUM, SIGN_IN_PATH, launch, new_context, sign_in
from tests.e2e.processes import wait_healthy

ROOT = Path(__file__).resolve().parents[2]
OUT = ROOT / "docs" / "screenshots"
CASEWORK = Path(sys.executable).parent / "casework"
TOKENS = {role: token for _, role, token in (entry.split(":") for entry in DEMO_USERS.split(","))}
WALLBOARD = "/ui/wallboard"


@dataclass
class Seed:
    role: str  # who reports it
    body: dict[str, Any]
    steps: list[tuple[str, str, dict[str, Any] | None, str | None]] = field(default_factory=list)  # role, action, data, note


SEEDS = [
    Seed(
        "agent",
        {
            "kind": "complaint",
            "priority": "urgent",
            "title": "订单 20261128-3391 快递延误五天仍未送达",
            "description": "客户 11 月 23 日下单的母婴用品至今未收到，物流信息停在华东转运中心。客户要求今天内答复，否则申请全额退款并向消费者协会投诉。",
            "customer": {"id": "C-100238", "name": "王丽", "vip": True},
            "channel": "电话",
        },
        [
            ("agent", "acknowledge", None, "已致电客户致歉，承诺两小时内回复物流核查结果。"),
            ("supervisor", "assign", {"owner": "ann"}, None),
            ("agent", "start_analysis", None, None),
            ("agent", "record_findings", {"findings": "包裹在华东转运中心被错分到西南线路，已追回，预计明天送达。"}, None),
            ("agent", "comment", None, "已为客户申请 20 元运费补偿券。"),
        ],
    ),
    Seed(
        "agent",
        {
            "kind": "complaint",
            "priority": "high",
            "title": "退款申请提交十天仍未到账",
            "description": "客户 11 月 20 日退回一台空气净化器，仓库已签收，退款 1,299 元至今未到账。",
            "customer": {"id": "C-204117", "name": "李强", "vip": False},
            "channel": "在线客服",
        },
        [("agent", "acknowledge", None, "已核实仓库签收记录，转财务查询退款进度。")],
    ),
    Seed(
        "agent",
        {
            "kind": "complaint",
            "title": "收到的电饭煲内胆有明显划痕",
            "description": "客户开箱发现内胆涂层有三道划痕，担心影响使用安全，希望换货。",
            "customer": {"id": "C-318560", "name": "陈建国", "vip": False},
            "channel": "App",
        },
    ),
    Seed(
        "agent",
        {
            "kind": "feedback",
            "priority": "low",
            "title": "希望 App 增加夜间人工客服入口",
            "description": "客户反映晚上十点后只能联系机器人客服，遇到支付问题无法及时处理。",
            "customer": {"id": "C-422901", "name": "张敏", "vip": False},
            "channel": "App",
        },
        [("agent", "classify", {"category": "service_process"}, None)],
    ),
    Seed(
        "supervisor",
        {
            "kind": "incident",
            "priority": "urgent",
            "title": "华东仓储系统故障导致订单积压",
            "description": "12 月 1 日上午仓储管理系统中断两小时，约 1,200 笔订单延迟发货。",
            "data": {"location": "华东仓", "impact": "约 1,200 笔订单延迟发货", "host": "sam", "recorder": "ann", "participants": ["ann", "sam"]},
        },
        [
            ("supervisor", "start_analysis", None, None),
            ("agent", "record_cause", {"category": "system", "description": "仓储管理系统数据库主备切换失败"}, None),
        ],
    ),
    Seed(
        "supervisor",
        {
            "kind": "improvement_plan",
            "title": "提升首次响应及时率",
            "description": "11 月首次响应超时的投诉占 18%，集中在晚班。",
            "data": {"problem": "晚班人手不足，首次响应超时", "metric": "首次响应及时率", "baseline": 0.82},
        },
    ),
]


async def seed(client: httpx.AsyncClient) -> dict[str, Any]:
    """Reports the cases and takes their steps; the first case (the richest page) as it ends up."""
    first: dict[str, Any] = {}
    for number, case in enumerate(SEEDS):
        created = await _call(client, "POST", "/cases", case.role, case.body)
        for role, action, data, note in case.steps:
            body = {"action": action, **({"data": data} if data else {}), **({"note": note} if note else {})}
            created = await _call(client, "POST", f"/cases/{created['id']}/transitions", role, body)
        first = first if number else created
    return first


async def _call(client: httpx.AsyncClient, method: str, path: str, role: str, body: dict[str, Any]) -> dict[str, Any]:
    response = await client.request(method, path, json=body, headers={"Authorization": f"Bearer {TOKENS[role]}"})
    if response.status_code >= 300:
        raise RuntimeError(f"{method} {path} as {role}: {response.status_code} {response.text}")
    return response.json()


async def shoot(page: Page, out: Path, name: str) -> None:
    await page.evaluate("() => document.fonts.ready.then(() => undefined)")
    path = out / f"{name}.png"
    await page.screenshot(path=path)
    print(f"saved {path.relative_to(ROOT) if path.is_relative_to(ROOT) else path}")


async def take(out: Path, base_url: str) -> None:
    async with httpx.AsyncClient(base_url=base_url, timeout=60) as client:
        case = await seed(client)
    async with async_playwright() as playwright:
        browser = await launch(playwright)
        page = await (await new_context(browser, base_url)).new_page()
        signing_in = await page.goto(SIGN_IN_PATH)
        if signing_in is None or not signing_in.ok:
            raise RuntimeError(f"no console to photograph: {SIGN_IN_PATH} answers {signing_in and signing_in.status}")
        await sign_in(page, "sam")

        await page.get_by_role("link", name=re.compile("全部案件")).first.click()
        await expect(page.get_by_text(SEEDS[-1].body["title"]).first).to_be_visible()
        await shoot(page, out, "queue")

        await page.goto(f"/ui/cases/{case['id']}")
        await expect(page.get_by_text(case["title"]).first).to_be_visible()
        await shoot(page, out, "case")

        response = await page.goto(WALLBOARD)
        if response is not None and response.status == 404:
            print(f"skipped the wallboard: {WALLBOARD} answers 404 (not built yet)")
        else:
            await shoot(page, out, "wallboard")
        await browser.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="make screenshots", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, default=OUT, help=f"where to save the PNGs (default {OUT.relative_to(ROOT)})")
    arguments = parser.parse_args(argv)
    if not CHROMIUM.exists():
        print(f"no Chromium at {CHROMIUM}: apt-get install -y chromium fonts-wqy-zenhei", file=sys.stderr)
        return 1
    arguments.out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="casework-screenshots-") as data:
        port = free_port()
        env = {key: value for key, value in os.environ.items() if not key.startswith("CASEWORK_")}
        env.update(
            CASEWORK_DATA_DIR=data, CASEWORK_HTTP_PORT=str(port), CASEWORK_TEMPORAL_PORT=str(free_port()), CASEWORK_TEMPORAL_UI_PORT=str(free_port())
        )
        log = Path(data) / "serve.log"
        with open(log, "wb") as output:
            serve = subprocess.Popen([str(CASEWORK), "serve"], env=env, stdout=output, stderr=subprocess.STDOUT)
        try:
            asyncio.run(_healthy_then_take(arguments.out, port, log))
        finally:
            serve.send_signal(signal.SIGTERM)
            try:
                serve.wait(timeout=Settings().shutdown_seconds + 5)
            except subprocess.TimeoutExpired:
                serve.kill()
    return 0


async def _healthy_then_take(out: Path, port: int, log: Path) -> None:
    await wait_healthy(port, log.read_text)
    await take(out, f"http://127.0.0.1:{port}")


if __name__ == "__main__":
    sys.exit(main())
