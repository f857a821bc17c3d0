"""Free-text search (`q`) and counts in the read model, on real SQLite (FTS5 trigram) and real
PostgreSQL (pg_trgm): Chinese substrings of every searched field, queries too short for trigrams,
the user's text never taken as syntax, and counts that agree with the list."""

from __future__ import annotations

from typing import Any

import pytest
from alembic import command
from sqlalchemy import insert

from service import schema
from service.read_model import CaseFilter, ReadModel, _case_row
from service.search import FEW, search_body
from service.tables import case_search, cases
from tests.service.test_read_model import make_case, put
from tests.support import at


async def found(model: ReadModel, q: str, limit: int = 500, **where: Any) -> list[str]:
    page = await model.list_cases(CaseFilter(q=q, **where), limit)
    return [case["id"] for case in page.items]


@pytest.fixture
async def department(read_model: ReadModel) -> ReadModel:
    """Five cases, newest last, each to be found by something else."""
    await put(
        read_model,
        make_case(
            "c1",
            title="客户反映物流延误三天",
            description="包裹周一应到，至今未到。",
            customer={"id": "cust-8848", "name": "王芳", "vip": False},
            data={"order_ref": "JD-2026-1122"},
            created_at=at(minutes=1),
        ),
    )
    await put(read_model, make_case("c2", title="申请退款", description="商品有破损", owner="ann", created_at=at(minutes=2)))
    await put(
        read_model, make_case("c3", kind="feedback", title="App 登录很慢", description="Parcel tracking page is slow", created_at=at(minutes=3))
    )
    await put(read_model, make_case("c4", title="退货流程太复杂", description="希望简化", owner="ann", created_at=at(minutes=4)))
    await put(read_model, make_case("c5", kind="incident", title="系统故障", description="支付接口超时", created_at=at(minutes=5)))
    return read_model


@pytest.mark.parametrize(
    ("q", "expected"),
    [
        ("物流延误", ["c1"]),  # in the title
        ("至今未到", ["c1"]),  # in the description
        ("王芳", ["c1"]),  # the customer's name: two characters
        ("cust-8848", ["c1"]),  # the customer's id
        ("2026-1122", ["c1"]),  # part of the order reference
        ("c5", ["c5"]),  # the case id
        ("退款", ["c2"]),  # two characters
        ("退", ["c4", "c2"]),  # one character, newest first
        ("parcel TRACKING", ["c3"]),  # Latin letters in any case
        ("pa", ["c3"]),
        ("不存在的词", []),
    ],
)
async def test_a_substring_of_any_searched_field_finds_the_case(department: ReadModel, q: str, expected: list[str]):
    assert await found(department, q) == expected


async def test_a_match_never_spans_two_fields(read_model: ReadModel):
    await put(read_model, make_case("c1", title="客户说物流", description="延误三天"))
    assert await found(read_model, "物流") == ["c1"]
    assert await found(read_model, "物流延误") == []
    assert await found(read_model, "流延") == []


@pytest.mark.parametrize("q", ["", "   ", None])
async def test_a_blank_query_filters_nothing(department: ReadModel, q: str | None):
    page = await department.list_cases(CaseFilter(q=q), 500)
    assert [case["id"] for case in page.items] == ["c5", "c4", "c3", "c2", "c1"]


@pytest.mark.parametrize(
    ("q", "expected"),
    [
        ("%", ["wild-percent", "wild-backslash"]),
        ("_", ["wild-lowline"]),
        ("50%", ["wild-percent"]),
        ("a_b", ["wild-lowline"]),
        ("\\", ["wild-backslash"]),
        ("\\%", ["wild-backslash"]),
        ('"', ["fts-quote"]),
        ('"quoted"', ["fts-quote"]),
        ('say "quoted', ["fts-quote"]),
        ("*", ["fts-star"]),
        ("pre*", ["fts-star"]),
        ("x OR y", ["fts-or"]),
        ("OR", ["fts-or"]),
        ("NEAR(x y)", []),
        ("body:x", []),
        ("^x", []),
        ("(x", []),
    ],
)
async def test_the_users_text_is_never_query_syntax(read_model: ReadModel, q: str, expected: list[str]):
    await put(read_model, make_case("wild-percent", title="满50%减10"))
    await put(read_model, make_case("wild-lowline", title="field a_b broke"))
    await put(read_model, make_case("wild-backslash", title="path C:\\%temp%"))
    await put(read_model, make_case("fts-quote", title='they say "quoted" text'))
    await put(read_model, make_case("fts-star", title="pre* wildcard"))
    await put(read_model, make_case("fts-or", title="x OR y"))
    await put(read_model, make_case("plain", title="ab 50 5000 xy prefix near body x y"))

    assert sorted(await found(read_model, q)) == sorted(expected)


async def test_search_combines_with_the_other_filters_and_the_cursor(read_model: ReadModel):
    for number in range(9):
        kind = "feedback" if number % 3 == 0 else "complaint"
        await put(read_model, make_case(f"c{number}", kind=kind, title=f"快递丢件 第{number}次", created_at=at(minutes=number)))
    await put(read_model, make_case("other", title="别的事情", created_at=at(minutes=20)))

    walked, cursor = [], None
    while True:
        page = await read_model.list_cases(CaseFilter(kind="complaint", q="快递丢件"), 2, cursor)
        walked += [case["id"] for case in page.items]
        if (cursor := page.next_cursor) is None:
            break
    assert walked == ["c8", "c7", "c5", "c4", "c2", "c1"]


@pytest.mark.parametrize("q", ["快递丢件", "丢件"])
@pytest.mark.parametrize("matching", [3, FEW + 100])
async def test_pages_of_a_common_word_and_of_a_rare_one_walk_every_match_newest_first(read_model: ReadModel, matching: int, q: str):
    rows = [_case_row(make_case(f"c{number:04d}", kind="feedback" if number % 4 == 0 else "complaint", title=f"快递丢件 #{number}" if number < matching else "别的事情", created_at=at(minutes=number))) for number in range(matching + 50)]  # fmt: skip
    async with read_model.engine.begin() as connection:
        await connection.execute(insert(cases), rows)
        await connection.execute(insert(case_search), [{"case_id": row["id"], "body": search_body(row["snapshot"])} for row in rows])

    walked, cursor = [], None
    while True:
        page = await read_model.list_cases(CaseFilter(kind="feedback", q=q), 50, cursor)
        walked += [case["id"] for case in page.items]
        if (cursor := page.next_cursor) is None:
            break
    assert walked == [f"c{number:04d}" for number in reversed(range(matching)) if number % 4 == 0]
    assert await read_model.count_cases(CaseFilter(kind="feedback", q=q)) == len(walked)


async def test_the_search_follows_the_newest_version_of_a_case(read_model: ReadModel):
    await put(read_model, make_case("c1", title="旧的标题", data={"order_ref": "OLD-1"}))
    await put(read_model, make_case("c1", title="新的标题", data={"order_ref": "NEW-2"}, version=2))
    await put(read_model, make_case("c1", title="过期的标题", version=1), seq=1)  # an older version, late: ignored

    assert await found(read_model, "新的标题") == ["c1"]
    assert await found(read_model, "NEW-2") == ["c1"]
    assert await found(read_model, "旧的标题") == []
    assert await found(read_model, "OLD") == []
    assert await found(read_model, "过期") == []


async def test_unassigned_cases_and_assigned_ones(department: ReadModel):
    assert [case["id"] for case in (await department.list_cases(CaseFilter(unassigned=True), 50)).items] == ["c5", "c3", "c1"]
    assert [case["id"] for case in (await department.list_cases(CaseFilter(unassigned=False), 50)).items] == ["c4", "c2"]


@pytest.mark.parametrize("where", [{}, {"q": "退"}, {"kind": "complaint"}, {"unassigned": True}, {"q": "物流延误", "owner": "ann"}])
async def test_counts_agree_with_the_list(department: ReadModel, where: dict[str, Any]):
    listed = (await department.list_cases(CaseFilter(**where), 500)).items
    for group_by in ("kind", "state", "priority", "owner"):
        expected: dict[str | None, int] = {}
        for case in listed:
            expected[case[group_by]] = expected.get(case[group_by], 0) + 1
        assert await department.count_by(CaseFilter(**where), group_by) == expected, group_by
    assert await department.count_cases(CaseFilter(**where)) == len(listed)


async def test_cases_stored_before_search_existed_are_found_after_the_upgrade(read_model: ReadModel):
    async with read_model.engine.begin() as connection:
        await connection.run_sync(lambda sync: command.downgrade(schema._config(sync), "0003"))
        old = make_case("old-1", title="升级前的投诉：发票开错了", customer={"id": "c-9", "name": "李雷", "vip": False})
        # team came with 0006, the responses with 0007
        as_stored_then = {column: value for column, value in _case_row(old).items() if column not in ("team", "responses", "response_seconds")}
        await connection.execute(insert(cases), [as_stored_then])
    await read_model.upgrade()

    assert await found(read_model, "发票开错") == ["old-1"]
    assert await found(read_model, "李雷") == ["old-1"]
