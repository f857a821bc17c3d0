"""Lists read the projection, which is already current when a change is acknowledged."""

import uuid

from tests.conftest import auth


async def test_after_a_200_the_list_and_its_filters_already_show_the_new_state(api):
    owner_tag = f"cust-{uuid.uuid4().hex[:8]}"
    case = await api.open(customer={"id": owner_tag})
    await api.act(case["id"], "start_analysis")
    in_analyse = await api.list(state="analyse", customer_id=owner_tag)
    in_report = await api.list(state="report", customer_id=owner_tag)
    assert [item["id"] for item in in_analyse["items"]] == [case["id"]]
    assert in_analyse["items"][0]["version"] == 2
    assert in_report["items"] == []


async def test_filters_combine_and_the_list_is_newest_first(api):
    tag = f"cust-{uuid.uuid4().hex[:8]}"
    first = await api.open("complaint", customer={"id": tag}, priority="urgent")
    second = await api.open("feedback", customer={"id": tag}, priority="low")
    third = await api.open("incident", role="supervisor", customer={"id": tag}, priority="urgent")
    everything = await api.list(customer_id=tag)
    assert [item["id"] for item in everything["items"]] == [third["id"], second["id"], first["id"]]
    assert [item["id"] for item in (await api.list(customer_id=tag, priority="urgent"))["items"]] == [third["id"], first["id"]]
    assert [item["id"] for item in (await api.list(customer_id=tag, kind="feedback"))["items"]] == [second["id"]]
    assert [item["id"] for item in (await api.list(customer_id=tag, owner="sam"))["items"]] == [third["id"]]
    after_second = await api.list(customer_id=tag, created_after=second["created_at"])
    assert [item["id"] for item in after_second["items"]] == [third["id"], second["id"]]
    before_second = await api.list(customer_id=tag, created_before=second["created_at"])
    assert [item["id"] for item in before_second["items"]] == [first["id"]]


async def test_the_cursor_walks_every_case_once(api):
    tag = f"cust-{uuid.uuid4().hex[:8]}"
    opened = [(await api.open(customer={"id": tag}))["id"] for _ in range(7)]
    seen, cursor = [], None
    while True:
        page = await api.list(customer_id=tag, limit=3, **({"cursor": cursor} if cursor else {}))
        seen += [item["id"] for item in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == opened[::-1]


async def test_allowed_actions_in_a_list_are_the_callers(api):
    tag = f"cust-{uuid.uuid4().hex[:8]}"
    await api.open(customer={"id": tag})
    as_agent = (await api.list(role="agent", customer_id=tag))["items"][0]["allowed_actions"]
    as_supervisor = (await api.list(role="supervisor", customer_id=tag))["items"][0]["allowed_actions"]
    assert "assign" not in as_agent and "assign" in as_supervisor
    assert (await api.list(role="auditor", customer_id=tag))["items"][0]["allowed_actions"] == []


async def test_bad_list_parameters_are_4xx_problems_naming_the_parameter(http):
    for params, field in [({"limit": 0}, "limit"), ({"limit": 501}, "limit"), ({"state": "done"}, "state"), ({"cursor": "garbage"}, "cursor")]:
        response = await http.get("/cases", params=params, headers=auth("agent"))
        assert response.status_code in (400, 422), (params, response.text)
        assert response.json()["field"] == field, response.text
