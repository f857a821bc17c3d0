"""`GET /cases` with filters over a large read model, seeded directly (no workflows behind it).

Rows are made the way the projection makes them (`_case_row` of a real opened case), then varied:
kinds, phases, priorities, owners, customers, deadlines, breaches and escalation links spread as a
busy department's would; titles, descriptions, customer names and order references are Chinese
and varied, so `q` has something real to search (each row gets its search row, as the projection
writes it). The first 10k are the newest (about five weeks: mostly open cases), the
rest the year of history before them: the same department, ten times the history. Each row also
carries the KPI facts the projection derives (bench/kpis.py), for the `/kpis` figures.
"""

from __future__ import annotations

import asyncio
import copy
import functools
import itertools
import random
import time
from datetime import UTC, datetime, timedelta

import httpx

from bench.http_load import measure_gets
from bench.kpis import kpi_facts
from bench.stack import TOKENS
from bench.stats import percentiles
from service import kpi_rollups
from service.read_model import CaseFilter, ReadModel, _case_row, create_engine
from service.search import search_body
from service.settings import Settings
from service.tables import case_search, cases, links
from states import clocks
from states.case import Actor, format_time, parse_time
from states.opening import Report, open_case
from states.sla_policy import DEFAULT_POLICY_DATA, parse_policy
from states.spec import Context

SPACING = timedelta(minutes=5)  # 100k cases: about a year
KINDS = (("complaint", 50), ("feedback", 30), ("incident", 15), ("improvement_plan", 5))
PRIORITIES = (("low", 20), ("normal", 50), ("high", 20), ("urgent", 10))
OPEN_PHASES = (("report", 20), ("analyse", 30), ("remediate", 25), ("follow_up", 15), ("closed", 10))
OWNERS = [f"agent-{n:02d}" for n in range(40)]
CUSTOMERS = 20_000
BATCH = 5_000
# What customers write about: {n} is a number of days or items, so no two titles need be alike.
TOPICS = [
    ("客户反映物流延误{n}天", "包裹原定周一送达，至今未到，物流信息停在中转站。"),
    ("申请退款：商品有破损", "收到的商品外包装破损，内件有{n}处划痕，要求全额退款。"),
    ("发票抬头开错，需要重开", "公司名称少了{n}个字，财务无法报销。"),
    ("会员积分未到账", "上周消费后积分一直没有到账，已等{n}天。"),
    ("客服电话长时间无人接听", "连续拨打{n}次都在排队，希望增加人手。"),
    ("优惠券无法使用", "结算时提示优惠券不适用，活动页面写的是全场通用。"),
    ("退货流程太复杂", "退货需要填写{n}张表格，希望简化。"),
    ("快递员态度恶劣", "快递员没有送货上门，电话里态度很差。"),
    ("订单重复扣款", "同一个订单被扣款{n}次，请尽快退回多扣的钱。"),
    ("App 登录后闪退", "更新到最新版本后，登录就闪退，已重装{n}次。"),
    ("商品与描述不符", "实物颜色和网页图片差别很大，尺码也偏小。"),
    ("配送地址无法修改", "下单后想改地址，系统提示已出库，{n}小时前才下的单。"),
    ("门店服务投诉", "门店店员拒绝退换，说需要原包装。"),
    ("系统故障：支付接口超时", "高峰期支付接口超时，约{n}%的订单失败。"),
    ("建议增加夜间客服", "晚上{n}点以后找不到人工客服。"),
    ("赠品漏发", "活动承诺的赠品没有随单发出。"),
    ("预售商品迟迟不发货", "预售说{n}天内发货，已经超过一周。"),
    ("包装过度，希望环保", "一个小件用了{n}层包装，太浪费。"),
    ("价格保护申请", "购买{n}天后降价，申请退还差价。"),
    ("账号被盗，订单异常", "账号在异地登录，多了{n}笔陌生订单。"),
]
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗"
GIVEN_NAMES = ["芳", "伟", "娜", "敏", "静", "丽", "强", "磊", "军", "洋", "艳", "勇", "杰", "娟", "涛", "明", "超", "秀英", "桂英", "建华"]


def _pick(rng: random.Random, weighted: tuple[tuple[str, int], ...]) -> str:
    names, cumulative = _cumulative(weighted)
    return rng.choices(names, cum_weights=cumulative)[0]


@functools.cache
def _cumulative(weighted: tuple[tuple[str, int], ...]) -> tuple[list[str], list[int]]:
    return [name for name, _ in weighted], list(itertools.accumulate(weight for _, weight in weighted))


def _name(number: int) -> str:
    return SURNAMES[number % len(SURNAMES)] + GIVEN_NAMES[number // len(SURNAMES) % len(GIVEN_NAMES)]


def _templates(now: datetime) -> dict[str, dict]:
    """One projected row per kind, from a case opened by the real state machine."""
    policy = parse_policy(DEFAULT_POLICY_DATA)
    rows = {}
    for kind, _ in KINDS:
        actor = Actor("sam", "supervisor")
        report = Report(kind=kind, title="包裹三天未到 — parcel three days late", description="The parcel was due on Monday. " * 4,
                        priority="high", customer={"id": "c-1", "name": "王芳", "vip": False}, channel="phone", data={})  # fmt: skip
        machine, event = open_case(f"template-{kind}", report, actor, Context(format_time(now)))
        clocks.start_cycle(machine.case, policy, event.at)
        rows[kind] = _case_row(machine.case)
    return rows


class Rows:
    """The seeded department, made batch by batch: rows [0, n) are the same for a given seed."""

    def __init__(self, seed: int = 6):
        self.now = datetime.now(UTC).replace(microsecond=0)
        self.templates = _templates(self.now)
        self.seed = seed
        self.incidents: list[str] = []
        self.escalations: dict[str, int] = {}

    def batch(self, start: int, stop: int) -> tuple[list[dict], list[dict]]:
        """Rows ranked `start` to `stop` by age: rank 0 is the newest case."""
        rng = random.Random(self.seed * 1_000_003 + start)
        rows, link_rows = [], []
        for index in range(start, stop):
            created = self.now - SPACING * (index + 1)
            age = self.now - created
            kind = _pick(rng, KINDS)
            state = ("closed" if rng.random() < 0.95 else _pick(rng, OPEN_PHASES)) if age > timedelta(days=30) else _pick(rng, OPEN_PHASES)
            priority = _pick(rng, PRIORITIES)
            case_id = f"case-{index:07d}-{rng.getrandbits(32):08x}"
            row = dict(self.templates[kind])
            snapshot = copy.copy(row["snapshot"])
            owner = rng.choice(OWNERS)
            customer_number = rng.randrange(CUSTOMERS)
            customer = (
                {"id": f"c-{customer_number}", "name": _name(customer_number), "vip": rng.random() < 0.1}
                if kind in ("complaint", "feedback")
                else None
            )
            title, description = rng.choice(TOPICS)
            days = rng.randrange(2, 15)
            updated = created + timedelta(minutes=rng.randrange(1, 60 * 24 * 7))
            closed_at = min(updated, self.now) if state == "closed" else None
            sla_due = None if state == "closed" else created + timedelta(hours=(4, 8, 24, 72)[rng.randrange(4)])
            version = rng.randrange(1, 16)
            snapshot.update(id=case_id, kind=kind, state=state, priority=priority, owner=owner, customer=customer, version=version,
                            created_at=format_time(created), updated_at=format_time(updated),
                            closed_at=closed_at and format_time(closed_at), title=title.format(n=days),
                            description=description.format(n=days), data={"order_ref": f"JD-{created:%Y%m%d}-{index:07d}"} if customer else {})  # fmt: skip
            row.update(id=case_id, kind=kind, state=state, priority=priority, owner=owner, customer_id=customer and customer["id"],
                       created_at=created, updated_at=updated, closed_at=closed_at, version=version, sla_due=sla_due,
                       breached=sla_due is not None and sla_due < self.now, snapshot=snapshot)  # fmt: skip
            row.update(kpi_facts(rng, kind, state, created, closed_at, row["breached"]))
            rows.append(row)
            if kind == "incident":
                self.incidents.append(case_id)
            elif kind == "complaint" and self.incidents and rng.random() < 0.2:
                incident = rng.choice(self.incidents[-5:])
                self.escalations[incident] = self.escalations.get(incident, 0) + 1
                link_rows.append({"case_id": case_id, "other_case_id": incident, "relation": "escalated_to"})
                link_rows.append({"case_id": incident, "other_case_id": case_id, "relation": "escalated_from"})
        return rows, link_rows

    def searches(self) -> dict[str, dict]:
        """What people type into 搜索, as `GET /cases` queries: each named."""
        return {
            "Chinese, 4 characters (1 in 20 cases)": {"q": "物流延误"},
            "Chinese, 2 characters": {"q": "退款"},
            "customer name (1 in 500 cases)": {"q": _name(123)},
            "order reference (1 case)": {"q": f"{self.now - SPACING * 5001:%Y%m%d}-0005000"},
            "Chinese + phase": {"q": "优惠券", "state": "analyse"},
            "nothing found": {"q": "没有这样的案件"},
        }

    def counts(self) -> dict[str, dict]:
        """The queue counts and the wallboard, as `GET /cases/counts` queries: each named."""
        return {
            "by phase": {"group_by": "phase"},
            "by owner, open": {"group_by": "owner", "state": "analyse"},
            "by kind, breached": {"group_by": "kind", "breached": "true"},
            "by phase, one owner": {"group_by": "phase", "owner": "agent-07"},
            "by phase, searched": {"group_by": "phase", "q": "物流延误"},
        }

    def queries(self) -> dict[str, dict]:
        """The filters a team's screens use; each named, as query parameters."""
        month_ago = format_time(self.now - timedelta(days=30))
        return {
            "newest": {},
            "kind+state": {"kind": "complaint", "state": "analyse"},
            "priority": {"priority": "urgent"},
            "owner+state": {"owner": "agent-07", "state": "remediate"},
            "customer": {"customer_id": "c-123"},
            "breached": {"breached": "true"},
            "sla_due": {"sort": "sla_due"},
            "linked_to": {"linked_to": max(self.escalations, key=lambda incident: self.escalations[incident])},  # the biggest incident
            "kind+created_after": {"kind": "feedback", "created_after": month_ago},
            "closed, page 2": {"state": "closed", "cursor": None},  # the cursor is filled in from page 1
        }


class Seeder:
    """Bulk-inserts the same rows into one read model; `with_search`: their search rows and links too
    (the KPI figures need neither)."""

    def __init__(self, database_url: str, with_search: bool = True):
        self.model = ReadModel(create_engine(database_url))
        self.with_search = with_search

    async def insert(self, rows: list[dict], link_rows: list[dict]) -> None:
        async with self.model.engine.begin() as connection:
            await connection.execute(cases.insert(), rows)
            if self.with_search:
                await connection.execute(case_search.insert(), [{"case_id": row["id"], "body": search_body(row["snapshot"])} for row in rows])
                if link_rows:
                    await connection.execute(links.insert(), link_rows)

    async def roll_up(self) -> int:
        """The KPI roll-ups made from the seeded rows, as migration 0013 makes them from existing cases."""
        async with self.model.engine.begin() as connection:
            return await connection.run_sync(lambda sync: kpi_rollups.rebuild(sync, Settings.timezone))

    async def settle(self) -> None:
        """PostgreSQL is vacuumed and analysed, as its autovacuum soon would be after so many inserts
        (the visibility map lets the KPI queries scan their covering index alone); SQLite is not,
        as Casework never runs ANALYZE on it."""
        if self.model.engine.dialect.name == "postgresql":
            async with self.model.engine.connect() as connection:
                autocommit = await connection.execution_options(isolation_level="AUTOCOMMIT")
                await autocommit.exec_driver_sql("VACUUM ANALYZE")

    async def server_version(self) -> str:
        query = "SHOW server_version" if self.model.engine.dialect.name == "postgresql" else "SELECT sqlite_version()"
        async with self.model.engine.connect() as connection:
            return (await connection.exec_driver_sql(query)).scalar_one()

    async def close(self) -> None:
        await self.model.close()


async def seed_to(rows: Rows, seeders: list[Seeder], start: int, total: int) -> float:
    """Rows [start, total) into every read model at once, each batch made once, and their KPI
    roll-ups; the seconds it took."""
    began = time.perf_counter()
    for first in range(start, total, BATCH):
        batch = rows.batch(first, min(total, first + BATCH))
        await asyncio.gather(*(seeder.insert(*batch) for seeder in seeders))
    for seeder in seeders:  # one at a time: the roll-ups are made in Python, one core's work
        await seeder.roll_up()
    await asyncio.gather(*(seeder.settle() for seeder in seeders))
    return time.perf_counter() - began


async def measure_http(base: str, queries: dict[str, dict], rounds: int) -> dict:
    """The list queries through the API; "page 2" queries take their cursor from page 1 first."""
    named = dict(queries)
    async with httpx.AsyncClient(base_url=base, timeout=30, headers={"Authorization": f"Bearer {TOKENS['auditor']}"}) as client:
        for name, query in queries.items():
            if "cursor" in query:
                first = {key: value for key, value in query.items() if key != "cursor"}
                named[name] = {**first, "cursor": (await client.get("/cases", params=first)).json()["next_cursor"]}
    return await measure_gets(base, "/cases", named, rounds, ("items", lambda answer: len(answer["items"])))


async def measure_counts(base: str, queries: dict[str, dict], rounds: int) -> dict:
    return await measure_gets(base, "/cases/counts", queries, rounds, ("total", lambda answer: answer["total"]))


async def measure_read_model(model: ReadModel, queries: dict[str, dict], rounds: int) -> dict:
    """The same filters through ReadModel.list_cases in this process: the database's share of a request."""
    filters = []
    for query in queries.values():
        if "cursor" in query:
            continue
        fields = {key: value for key, value in query.items() if key in CaseFilter.__dataclass_fields__}
        if "breached" in fields:
            fields["breached"] = True
        if "created_after" in fields:
            fields["created_after"] = parse_time(fields["created_after"])
        filters.append((CaseFilter(**fields), query.get("sort", "created")))
    timings = []
    for _ in range(rounds):
        for where, sort in filters:
            began = time.perf_counter()
            await model.list_cases(where, 50, None, sort)
            timings.append(time.perf_counter() - began)
    return {**percentiles(timings), "requests": len(timings)}
