"""The read model on real SQLite and real PostgreSQL: projection, filters, pages and history.

Every test runs once per database. PostgreSQL comes from `CASEWORK_TEST_POSTGRES_URL`; without it
those variants are skipped; with it set but the server down they fail in CI (CI is set) and are
skipped with the reason elsewhere.
"""

from __future__ import annotations

import base64
import json
from dataclasses import asdict
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import func, select

from service.read_model import BadCursor, CaseFilter, ReadModel
from service.tables import action_items, events
from states.case import Actor, CaseState, Event, format_time
from tests.support import AGENT, SUPERVISOR, SYSTEM, at, moment

# --- building cases and events -----------------------------------------------------------------


def make_case(
    case_id: str,
    *,
    kind: str = "complaint",
    state: str = "report",
    priority: str = "normal",
    owner: str | None = None,
    customer: dict[str, Any] | None = None,
    created_at: str | None = None,
    version: int = 1,
    title: str = "a case",
    description: str = "what happened",
    data: dict[str, Any] | None = None,
    links: list[dict[str, str]] | None = None,
    items: list[dict[str, Any]] | None = None,
) -> CaseState:
    created = created_at or at()
    return CaseState(
        id=case_id,
        kind=kind,
        title=title,
        description=description,
        priority=priority,
        customer=customer,
        channel="email",
        state=state,
        version=version,
        owner=owner,
        created_by="ann",
        created_at=created,
        updated_at=created,
        data=data or {},
        links=links or [],
        action_items=items or [],
    )


def make_event(
    case: CaseState,
    *,
    seq: int | None = None,
    action: str = "report",
    from_state: str | None = None,
    to_state: str | None = None,
    actor: Actor | None = None,
    when: str | None = None,
    note: str | None = None,
    data: dict[str, Any] | None = None,
) -> Event:
    return Event(
        seq=seq if seq is not None else case.version,
        case_id=case.id,
        action=action,
        from_state=from_state,
        to_state=to_state or case.state,
        actor=actor or AGENT,
        at=when or case.updated_at,
        note=note,
        data=data or {},
        request_id=f"req-{case.id}-{seq if seq is not None else case.version}",
    )


async def put(model: ReadModel, case: CaseState, **event: Any) -> CaseState:
    await model.project(case, make_event(case, **event))
    return case


def item(item_id: str, title: str, *, owner: str = "ann", due: str | None = None, done: bool = False, outcome: str | None = None) -> dict[str, Any]:
    return {"id": item_id, "title": title, "owner": owner, "due": due or at(minutes=60 * 24), "done": done, "outcome": outcome}


async def ids(model: ReadModel, limit: int = 500, **where: Any) -> list[str]:
    page = await model.list_cases(CaseFilter(**where), limit)
    return [case["id"] for case in page.items]


async def event_count(model: ReadModel, case_id: str) -> int:
    async with model.engine.connect() as connection:
        return (await connection.execute(select(func.count()).select_from(events).where(events.c.case_id == case_id))).scalar_one()


async def stored_items(model: ReadModel, case_id: str) -> list[dict[str, Any]]:
    query = select(action_items).where(action_items.c.case_id == case_id).order_by(action_items.c.item_id)
    async with model.engine.connect() as connection:
        rows = (await connection.execute(query)).mappings().all()
    return [
        {
            "item_id": row["item_id"],
            "title": row["title"],
            "owner": row["owner"],
            # SQLite hands back naive times; both are UTC.
            "due": format_time(row["due"] if row["due"].tzinfo else row["due"].replace(tzinfo=UTC)),
            "done": row["done"],
            "outcome": row["outcome"],
        }
        for row in rows
    ]


def cursor_of(value: Any) -> str:
    return base64.urlsafe_b64encode(json.dumps(value).encode()).decode().rstrip("=")


# --- projecting --------------------------------------------------------------------------------


async def test_project_writes_the_case_and_its_event(read_model: ReadModel):
    case = make_case("c1", customer={"id": "cust-1", "name": "Lee", "vip": False}, data={"channel_ref": "T-1"})
    await put(read_model, case, note="first call")

    assert await read_model.get_case("c1") == asdict(case)
    [event] = await read_model.history("c1")
    assert event == {
        "seq": 1,
        "case_id": "c1",
        "action": "report",
        "from_state": None,
        "to_state": "report",
        "actor": {"name": "ann", "role": "agent"},
        "at": case.updated_at,
        "note": "first call",
        "data": {},
        "request_id": "req-c1-1",
        "prev_hash": None,
        "hash": None,
    }


async def test_projecting_the_same_event_twice_keeps_one_event_row(read_model: ReadModel):
    case = make_case("c1")
    event = make_event(case, note="once")
    await read_model.project(case, event)
    await read_model.project(case, event)

    assert await event_count(read_model, "c1") == 1
    assert [e["note"] for e in await read_model.history("c1")] == ["once"]
    assert await read_model.get_case("c1") == asdict(case)


async def test_a_replayed_event_is_ignored_not_rewritten(read_model: ReadModel):
    case = make_case("c1")
    await read_model.project(case, make_event(case, note="original"))
    await read_model.project(case, make_event(case, note="a retry that differs"))

    assert [e["note"] for e in await read_model.history("c1")] == ["original"]


async def test_an_older_version_after_a_newer_one_keeps_the_newer_case_but_records_its_event(read_model: ReadModel):
    v1 = make_case("c1", state="report", version=1)
    v2 = make_case("c1", state="analyse", version=2, owner="sam")
    v2.updated_at = at(minutes=5)
    await put(read_model, v1)
    await put(read_model, v2, action="start_analysis", from_state="report")
    v3 = make_case("c1", state="remediate", version=3, owner="sam")
    v3.updated_at = at(minutes=10)
    await put(read_model, v3, action="propose_remedy", from_state="analyse", data={"solution": "refund"})
    # The activity for version 2 retried late: its event is not lost, its case does not win.
    await read_model.project(v2, make_event(v2, action="start_analysis", from_state="report"))
    late_v1 = make_case("c1", state="report", version=1)
    await read_model.project(late_v1, make_event(late_v1))

    assert await read_model.get_case("c1") == asdict(v3)
    assert await ids(read_model, state="remediate") == ["c1"]
    assert await ids(read_model, state="analyse") == []
    assert await ids(read_model, owner="sam") == ["c1"]


async def test_events_arriving_out_of_order_are_all_recorded(read_model: ReadModel):
    v1 = make_case("c1", version=1)
    v2 = make_case("c1", state="analyse", version=2)
    v2.updated_at = at(minutes=5)
    # Version 2 reaches the read model first; version 1's event still lands under it.
    await put(read_model, v2, action="start_analysis", from_state="report")
    await put(read_model, v1)

    assert await read_model.get_case("c1") == asdict(v2)
    assert [e["seq"] for e in await read_model.history("c1")] == [1, 2]
    assert await event_count(read_model, "c1") == 2


async def test_links_and_action_items_are_replaced_by_the_newer_version(read_model: ReadModel):
    await put(read_model, make_case("source-a", kind="incident"))
    await put(read_model, make_case("source-b", kind="incident"))
    v1 = make_case(
        "plan",
        kind="improvement_plan",
        version=1,
        links=[{"case_id": "source-a", "relation": "source"}],
        items=[item("i1", "retrain the night shift"), item("i2", "fix the form")],
    )
    await put(read_model, v1)
    assert await ids(read_model, linked_to="source-a") == ["plan"]
    assert [row["item_id"] for row in await stored_items(read_model, "plan")] == ["i1", "i2"]

    v2 = make_case(
        "plan",
        kind="improvement_plan",
        state="remediate",
        version=2,
        links=[{"case_id": "source-b", "relation": "source"}],
        items=[item("i2", "fix the form", done=True, outcome="form fixed"), item("i3", "audit", owner="sam", due=at(minutes=90))],
    )
    v2.updated_at = at(minutes=5)
    await put(read_model, v2, action="plan_measures", from_state="analyse")

    assert await ids(read_model, linked_to="source-a") == []
    assert await ids(read_model, linked_to="source-b") == ["plan"]
    assert await stored_items(read_model, "plan") == [
        {"item_id": "i2", "title": "fix the form", "owner": "ann", "due": at(minutes=60 * 24), "done": True, "outcome": "form fixed"},
        {"item_id": "i3", "title": "audit", "owner": "sam", "due": at(minutes=90), "done": False, "outcome": None},
    ]


async def test_an_older_version_does_not_bring_back_its_links_or_action_items(read_model: ReadModel):
    v1 = make_case("plan", kind="improvement_plan", version=1, links=[{"case_id": "old", "relation": "source"}], items=[item("i1", "old item")])
    v2 = make_case("plan", kind="improvement_plan", version=2, links=[{"case_id": "new", "relation": "source"}], items=[item("i2", "new item")])
    await put(read_model, v1)
    await put(read_model, v2)
    await put(read_model, v1)

    assert await ids(read_model, linked_to="old") == []
    assert await ids(read_model, linked_to="new") == ["plan"]
    assert [row["item_id"] for row in await stored_items(read_model, "plan")] == ["i2"]


async def test_a_newer_version_without_links_or_items_clears_them(read_model: ReadModel):
    await put(read_model, make_case("c1", version=1, links=[{"case_id": "other", "relation": "related"}], items=[item("i1", "x")]))
    await put(read_model, make_case("c1", version=2))

    assert await ids(read_model, linked_to="other") == []
    assert await stored_items(read_model, "c1") == []


# --- filters -------------------------------------------------------------------------------------


@pytest.fixture
async def catalogue(read_model: ReadModel) -> ReadModel:
    """Six cases, one minute apart: c1 oldest, c6 newest."""
    specs: list[dict[str, Any]] = [
        dict(kind="complaint", state="report", priority="normal", owner=None, customer={"id": "cust-1", "name": "Lee", "vip": False}),
        dict(kind="complaint", state="analyse", priority="high", owner="ann", customer={"id": "cust-2", "name": "Wu", "vip": True}),
        dict(kind="feedback", state="analyse", priority="low", owner="sam", customer={"id": "cust-1", "name": "Lee", "vip": False}),
        dict(kind="incident", state="remediate", priority="urgent", owner="ann", customer=None),
        dict(kind="improvement_plan", state="closed", priority="normal", owner="sam", customer=None),
        dict(kind="complaint", state="closed", priority="high", owner="ann", customer={"id": "cust-1", "name": "Lee", "vip": False}),
    ]
    for number, spec in enumerate(specs, start=1):
        links = [{"case_id": "c4", "relation": "source"}] if number == 5 else []
        if number == 6:
            links = [{"case_id": "c1", "relation": "related"}, {"case_id": "c4", "relation": "related"}]
        await put(read_model, make_case(f"c{number}", created_at=at(minutes=number), links=links, **spec))
    return read_model


@pytest.mark.parametrize(
    ("where", "expected"),
    [
        ({}, ["c6", "c5", "c4", "c3", "c2", "c1"]),
        ({"kind": "complaint"}, ["c6", "c2", "c1"]),
        ({"kind": "incident"}, ["c4"]),
        ({"kind": "nothing"}, []),
        ({"state": "analyse"}, ["c3", "c2"]),
        ({"state": "closed"}, ["c6", "c5"]),
        ({"priority": "high"}, ["c6", "c2"]),
        ({"priority": "urgent"}, ["c4"]),
        ({"owner": "ann"}, ["c6", "c4", "c2"]),
        ({"owner": "sam"}, ["c5", "c3"]),
        ({"customer_id": "cust-1"}, ["c6", "c3", "c1"]),
        ({"customer_id": "cust-2"}, ["c2"]),
        ({"linked_to": "c4"}, ["c6", "c5"]),
        ({"linked_to": "c1"}, ["c6"]),
        ({"linked_to": "c6"}, []),
    ],
    ids=lambda value: json.dumps(value) if isinstance(value, dict) else None,
)
async def test_each_filter_keeps_only_matching_cases_newest_first(catalogue: ReadModel, where, expected):
    assert await ids(catalogue, **where) == expected


async def test_created_after_includes_its_own_moment(catalogue: ReadModel):
    assert await ids(catalogue, created_after=moment(minutes=4)) == ["c6", "c5", "c4"]
    assert await ids(catalogue, created_after=moment(minutes=4) + timedelta(microseconds=1)) == ["c6", "c5"]


async def test_created_before_excludes_its_own_moment(catalogue: ReadModel):
    assert await ids(catalogue, created_before=moment(minutes=4)) == ["c3", "c2", "c1"]
    assert await ids(catalogue, created_before=moment(minutes=4) + timedelta(microseconds=1)) == ["c4", "c3", "c2", "c1"]


async def test_created_after_and_before_make_a_half_open_window(catalogue: ReadModel):
    assert await ids(catalogue, created_after=moment(minutes=2), created_before=moment(minutes=5)) == ["c4", "c3", "c2"]
    assert await ids(catalogue, created_after=moment(minutes=3), created_before=moment(minutes=3)) == []


@pytest.mark.parametrize(
    ("where", "expected"),
    [
        ({"kind": "complaint", "owner": "ann"}, ["c6", "c2"]),
        ({"kind": "complaint", "customer_id": "cust-1", "state": "closed"}, ["c6"]),
        ({"state": "analyse", "priority": "low", "owner": "sam"}, ["c3"]),
        ({"state": "analyse", "priority": "high", "owner": "sam"}, []),
        ({"linked_to": "c4", "kind": "improvement_plan"}, ["c5"]),
        ({"linked_to": "c4", "owner": "ann", "priority": "high"}, ["c6"]),
        ({"customer_id": "cust-1", "created_after": moment(minutes=2), "created_before": moment(minutes=6)}, ["c3"]),
        ({"owner": "ann", "created_before": moment(minutes=4)}, ["c2"]),
    ],
    ids=lambda value: ",".join(sorted(value)) if isinstance(value, dict) else None,
)
async def test_filters_combine_with_and(catalogue: ReadModel, where, expected):
    assert await ids(catalogue, **where) == expected


# --- order and pages ---------------------------------------------------------------------------


async def test_lists_newest_first_whatever_order_cases_arrived_in(read_model: ReadModel):
    for number in (3, 1, 5, 2, 4):
        await put(read_model, make_case(f"c{number}", created_at=at(minutes=number)))

    assert await ids(read_model) == ["c5", "c4", "c3", "c2", "c1"]


async def test_cases_created_at_the_same_moment_are_ordered_by_id_descending(read_model: ReadModel):
    for case_id in ("b", "d", "a", "c"):
        await put(read_model, make_case(case_id, created_at=at()))
    await put(read_model, make_case("z-earlier", created_at=at(minutes=-1)))
    await put(read_model, make_case("0-later", created_at=at(minutes=1)))

    assert await ids(read_model) == ["0-later", "d", "c", "b", "a", "z-earlier"]


@pytest.fixture
async def crowd(read_model: ReadModel) -> list[str]:
    """23 cases, many sharing a created_at, some differing by a microsecond; newest first."""
    expected: list[tuple[datetime, str]] = []
    moments = (
        [moment()] * 7 + [moment(minutes=1)] * 5 + [moment(minutes=1) + timedelta(microseconds=1)] * 3 + [moment(minutes=2 + n) for n in range(8)]
    )
    for number, created in enumerate(moments):
        # Ids of mixed case and punctuation, and out of created order, so the tie-break is exercised.
        case_id = f"{'AbCd'[number % 4]}{'-_'[number % 2]}{number:02d}"
        await put(read_model, make_case(case_id, created_at=format_time(created), kind="feedback" if number % 3 else "complaint"))
        expected.append((created, case_id))
    return [case_id for _, case_id in sorted(expected, reverse=True)]


async def walk(model: ReadModel, limit: int, **where: Any) -> list[list[str]]:
    pages, cursor = [], None
    while True:
        page = await model.list_cases(CaseFilter(**where), limit, cursor)
        pages.append([case["id"] for case in page.items])
        assert len(page.items) <= limit
        if page.next_cursor is None:
            return pages
        assert len(page.items) == limit
        cursor = page.next_cursor
        assert len(pages) <= 100, "the cursor does not advance"


@pytest.mark.parametrize("limit", [1, 2, 3, 5, 7, 22, 23, 50])
async def test_cursor_walks_every_case_once_newest_first(read_model: ReadModel, crowd: list[str], limit: int):
    pages = await walk(read_model, limit)
    walked = [case_id for page in pages for case_id in page]

    assert walked == crowd
    assert len(walked) == len(set(walked)) == 23
    assert len(pages) == max(1, -(-23 // limit))


async def test_cursor_walk_keeps_to_its_filter(read_model: ReadModel, crowd: list[str]):
    complaints = await ids(read_model, kind="complaint")
    walked = [case_id for page in await walk(read_model, 2, kind="complaint") for case_id in page]

    assert walked == complaints == [case_id for case_id in crowd if int(case_id[-2:]) % 3 == 0]


async def test_the_last_full_page_hands_out_no_cursor(read_model: ReadModel):
    for number in range(4):
        await put(read_model, make_case(f"c{number}", created_at=at(minutes=number)))

    page = await read_model.list_cases(CaseFilter(), 4)
    assert len(page.items) == 4 and page.next_cursor is None
    empty = await read_model.list_cases(CaseFilter(kind="incident"), 4)
    assert empty.items == [] and empty.next_cursor is None


@pytest.mark.parametrize(
    "cursor",
    [
        "garbage",
        "!!!not base64!!!",
        "=",
        "é",
        cursor_of("just a string"),
        cursor_of({"at": "2026-11-22T10:00:00Z", "id": "c1"}),
        cursor_of(42),
        cursor_of([]),
        cursor_of(["2026-11-22T10:00:00.000000Z"]),
        cursor_of(["2026-11-22T10:00:00.000000Z", "c1", "extra"]),
        cursor_of(["2026-11-22T10:00:00.000000Z", ["c1"]]),
        cursor_of(["2026-11-22T10:00:00.000000Z", None]),
        cursor_of(["not a time", "c1"]),
        cursor_of(["2026-11-22T10:00:00", "c1"]),  # no offset
        base64.urlsafe_b64encode(b"\xff\xfe\x00binary").decode(),
        cursor_of([None, "c1"]),
        cursor_of([1700000000, "c1"]),
        cursor_of(["0001-01-01T00:00:00+14:00", "c1"]),
    ],
)
async def test_a_cursor_not_handed_out_is_refused(read_model: ReadModel, cursor: str):
    await put(read_model, make_case("c1"))
    with pytest.raises(BadCursor):
        await read_model.list_cases(CaseFilter(), 10, cursor)


# --- history and text ----------------------------------------------------------------------------


async def test_history_is_oldest_first_with_each_actor(read_model: ReadModel):
    steps: list[tuple[CaseState, dict[str, Any]]] = [
        (make_case("c1", state="report", version=1), dict(action="report", from_state=None, actor=AGENT)),
        (make_case("c1", state="analyse", version=2), dict(action="start_analysis", from_state="report", actor=SUPERVISOR)),
        (make_case("c1", state="analyse", version=3), dict(action="sla_warning", from_state="analyse", actor=SYSTEM)),
        (
            make_case("c1", state="remediate", version=4),
            dict(action="propose_remedy", from_state="analyse", actor=AGENT, data={"solution": "refund"}),
        ),
    ]
    for number, (case, event) in enumerate(steps):
        case.updated_at = at(minutes=number)
    # Projected out of order: history still comes back by seq.
    for index in (2, 0, 3, 1):
        case, event = steps[index]
        await put(read_model, case, **event)

    history = await read_model.history("c1")
    assert [(e["seq"], e["action"], e["from_state"], e["to_state"], e["at"]) for e in history] == [
        (1, "report", None, "report", at()),
        (2, "start_analysis", "report", "analyse", at(minutes=1)),
        (3, "sla_warning", "analyse", "analyse", at(minutes=2)),
        (4, "propose_remedy", "analyse", "remediate", at(minutes=3)),
    ]
    assert [e["actor"] for e in history] == [
        {"name": "ann", "role": "agent"},
        {"name": "sam", "role": "supervisor"},
        {"name": "system"},
        {"name": "ann", "role": "agent"},
    ]
    assert history[3]["data"] == {"solution": "refund"}


async def test_history_of_one_case_holds_only_its_events(read_model: ReadModel):
    await put(read_model, make_case("c1"))
    await put(read_model, make_case("c2"))
    await put(read_model, make_case("c2", version=2, state="analyse"), action="start_analysis", from_state="report")

    assert [(e["case_id"], e["seq"]) for e in await read_model.history("c1")] == [("c1", 1)]
    assert [(e["case_id"], e["seq"]) for e in await read_model.history("c2")] == [("c2", 1), ("c2", 2)]
    assert await read_model.history("nobody") == []


async def test_chinese_text_round_trips_exactly(read_model: ReadModel):
    title = "客户投诉：快递延误三天，包裹破损"
    description = "客户于十一月二十日下单，承诺两日送达；实际延误三天。“外箱破损”，内件完好？"
    data = {"findings": "仓库分拣系统故障 🚚", "人员": ["张伟", "李娜"], "备注": {"级别": "高"}}
    case = make_case(
        "c-中",
        title=title,
        description=description,
        owner="王芳",
        customer={"id": "客户-001", "name": "陈先生", "vip": True},
        data=data,
        items=[item("i1", "培训夜班员工", owner="王芳", outcome=None)],
    )
    note = "已致电客户，致歉并承诺退运费。"
    await put(read_model, case, note=note, data={"原因": "系统故障", "数量": 3}, actor=Actor("王芳", "agent"))

    stored = await read_model.get_case("c-中")
    assert stored == asdict(case)
    assert (stored["title"], stored["description"], stored["data"]) == (title, description, data)
    [event] = await read_model.history("c-中")
    assert event["note"] == note
    assert event["data"] == {"原因": "系统故障", "数量": 3}
    assert event["actor"] == {"name": "王芳", "role": "agent"}
    assert await ids(read_model, owner="王芳", customer_id="客户-001") == ["c-中"]
    assert (await stored_items(read_model, "c-中"))[0]["title"] == "培训夜班员工"


async def test_get_case_of_an_unknown_id_is_none(read_model: ReadModel):
    assert await read_model.get_case("no-such-case") is None
    await put(read_model, make_case("c1"))
    assert await read_model.get_case("no-such-case") is None
    stored = await read_model.get_case("c1")
    assert stored is not None and stored["id"] == "c1"
