"""`GET /cases?q=` and `GET /cases/counts` through the real app, on SQLite and on PostgreSQL: cases
reported over HTTP are found by Chinese substrings, and counted as the list shows them."""

from __future__ import annotations

from typing import Any

import pytest

from tests.api.conftest import DATABASES, OwnStack, stack_on
from tests.conftest import auth
from tests.service.test_read_model import make_case, make_event

ORDER = "JD-2026-1122"


@pytest.fixture(scope="module", params=DATABASES)
async def stack(request, temporal_env, stack_settings, tmp_path_factory):
    async with stack_on(request.param, temporal_env, stack_settings, tmp_path_factory.mktemp("search")) as stack:
        yield stack


@pytest.fixture(scope="module")
async def reported(stack: OwnStack) -> dict[str, dict[str, Any]]:
    """A small department's cases, reported and moved over HTTP; and an older one stored without an
    owner (a case reported over HTTP is its reporter's until assigned)."""
    api = stack.api
    imported = make_case("imported-1", title="历史导入的投诉：发票开错")
    await stack.read_model.project(imported, make_event(imported))
    cases = {
        "imported": {"id": imported.id},
        "late": await api.open(
            title="客户反映物流延误三天",
            description="包裹周一应到，至今未到",
            customer={"id": "cust-8848", "name": "王芳"},
            data={"order_ref": ORDER},
            priority="high",
        ),
        "refund": await api.open(title="申请退款：商品有破损", priority="urgent"),
        "returns": await api.open("feedback", title="退货流程太复杂", description="希望简化 50% 的步骤"),
        "outage": await api.open("incident", role="supervisor", title="支付系统故障", description="退款接口超时"),
    }
    for number in range(5):
        cases[f"lost-{number}"] = await api.open(title=f"快递丢件 第{number}次", customer={"id": f"c-{number}"})
    await api.act(cases["refund"]["id"], "start_analysis")
    await api.act(cases["returns"]["id"], "assign", role="supervisor", data={"owner": "lee"})
    await api.act(cases["lost-1"]["id"], "assign", role="supervisor", data={"owner": "lee"})
    return cases


async def listed(stack: OwnStack, **params: Any) -> list[str]:
    """Every case id the list shows, walking its pages."""
    ids, cursor = [], None
    while True:
        page = await stack.api.list(**params, **({"cursor": cursor} if cursor else {}))
        ids += [case["id"] for case in page["items"]]
        if (cursor := page["next_cursor"]) is None:
            return ids


async def counts(stack: OwnStack, role: str = "auditor", **params: Any) -> dict[str, Any]:
    response = await stack.api.client.get("/cases/counts", params=params, headers=auth(role))
    assert response.status_code == 200, response.text
    return response.json()


def ids_of(reported: dict[str, dict[str, Any]], *names: str) -> list[str]:
    return [reported[name]["id"] for name in names]


@pytest.mark.parametrize(
    ("q", "names"),
    [
        ("物流延误", ["late"]),
        ("王芳", ["late"]),
        (ORDER[3:], ["late"]),
        ("退款", ["outage", "refund"]),  # two characters: a title and a description
        ("退", ["outage", "returns", "refund"]),  # one character, newest first
        ("50%", ["returns"]),
        ("%", ["returns"]),
        ("_", []),
        ('"退款"', []),
        ("退款 OR 物流", []),
        ("  物流延误  ", ["late"]),
    ],
)
async def test_q_finds_chinese_substrings_and_takes_the_text_literally(stack, reported, q: str, names: list[str]):
    assert await listed(stack, q=q) == ids_of(reported, *names)


async def test_q_finds_a_case_by_its_id(stack, reported):
    case_id = reported["refund"]["id"]
    assert await listed(stack, q=case_id) == [case_id]


async def test_q_combines_with_filters_and_pages_by_cursor(stack, reported):
    lost = ids_of(reported, *(f"lost-{number}" for number in range(5)))[::-1]
    assert await listed(stack, q="快递丢件", limit=2) == lost
    assert await listed(stack, q="快递丢件", unassigned="false", limit=2) == lost
    assert await listed(stack, q="快递丢件", unassigned="true") == []
    assert await listed(stack, q="发票", unassigned="true") == [reported["imported"]["id"]]
    assert await listed(stack, q="快递丢件", owner="lee") == [reported["lost-1"]["id"]]
    assert await listed(stack, q="退", kind="complaint", state="analyse") == [reported["refund"]["id"]]


async def test_a_blank_q_filters_nothing(stack, reported):
    assert await listed(stack, q="  ") == await listed(stack)


@pytest.mark.parametrize("params", [{}, {"q": "退"}, {"kind": "complaint"}, {"unassigned": "true"}, {"q": "快递", "priority": "normal"}])
@pytest.mark.parametrize("group_by", ["phase", "owner", "kind", "priority", "team"])
async def test_counts_match_the_lists_total_in_every_group(stack, reported, group_by: str, params: dict[str, str]):
    field = "state" if group_by == "phase" else group_by
    answer = await counts(stack, group_by=group_by, **params)
    everything = (await stack.api.list(limit=500, **params))["items"]

    assert answer["group_by"] == group_by
    assert answer["total"] == len(everything) == sum(item["count"] for item in answer["items"])
    in_list = {item["key"]: item["count"] for item in answer["items"] if item["count"]}
    assert in_list == {key: sum(case[field] == key for case in everything) for key in {case[field] for case in everything}}


async def test_counts_name_every_phase_in_order_and_owners_by_size(stack, reported):
    by_phase = await counts(stack, group_by="phase")
    assert [item["key"] for item in by_phase["items"]] == ["report", "analyse", "remediate", "follow_up", "closed"]
    assert [item["count"] for item in by_phase["items"]] == [9, 1, 0, 0, 0]

    by_owner = await counts(stack, group_by="owner", role="agent")
    # The reporter owns a case until it is assigned; unassigned (null) comes first among equals.
    assert [(item["key"], item["count"]) for item in by_owner["items"]] == [("ann", 6), ("lee", 2), (None, 1), ("sam", 1)]


async def test_counts_is_not_read_as_a_case_id_and_needs_a_token(stack, reported):
    assert (await stack.api.client.get("/cases/counts", params={"group_by": "kind"})).status_code == 401
    answer = await counts(stack, group_by="kind", role="supervisor")
    assert {item["key"]: item["count"] for item in answer["items"]} == {
        "complaint": 8,
        "feedback": 1,
        "incident": 1,
        "improvement_plan": 0,
        "meeting": 0,
    }


@pytest.mark.parametrize(
    ("path", "params", "field"),
    [
        ("/cases/counts", {"group_by": "colour"}, "group_by"),
        ("/cases/counts", {"group_by": "kind", "state": "done"}, "state"),
        ("/cases/counts", {"group_by": "kind", "q": "字" * 201}, "q"),
        ("/cases", {"q": "字" * 201}, "q"),
        ("/cases", {"unassigned": "maybe"}, "unassigned"),
    ],
)
async def test_bad_parameters_are_422_naming_the_field(stack, path: str, params: dict[str, str], field: str):
    response = await stack.api.client.get(path, params=params, headers=auth("agent"))
    assert response.status_code == 422, response.text
    assert response.json()["field"] == field, response.text


async def test_counts_without_group_by_is_a_bad_request_naming_it(stack):
    response = await stack.api.client.get("/cases/counts", headers=auth("agent"))
    assert response.status_code == 400 and "group_by" in response.json()["detail"], response.text


async def test_the_openapi_document_shows_the_search_and_counts_parameters(stack):
    document = (await stack.api.client.get("/schema/openapi.json")).json()
    listing = {parameter["name"] for parameter in document["paths"]["/cases"]["get"]["parameters"]}
    counting = {parameter["name"]: parameter for parameter in document["paths"]["/cases/counts"]["get"]["parameters"]}
    assert {"q", "unassigned", "kind", "state", "cursor"} <= listing
    assert {"q", "unassigned", "kind", "state", "group_by"} <= set(counting)
    assert "cursor" not in counting and counting["group_by"]["required"] is True
