"""Idempotency-Key: a retry gets the first response and the change happens once, across restarts."""

import asyncio
import uuid
from datetime import UTC, datetime, timedelta

from sqlalchemy import update

from service.idempotency import RETENTION, IdempotencyKeys, fingerprint
from service.tables import idempotency_keys
from tests.conftest import auth, serving


def keyed(role: str, key: str) -> dict[str, str]:
    return {**auth(role), "Idempotency-Key": key}


async def test_a_retried_report_opens_one_case_and_gets_the_first_response(http, api):
    customer = f"idem-{uuid.uuid4().hex[:8]}"
    body = {"kind": "complaint", "title": "重复提交", "customer": {"id": customer}}
    key = uuid.uuid4().hex
    first = await http.post("/cases", json=body, headers=keyed("agent", key))
    again = await http.post("/cases", json=body, headers=keyed("agent", key))
    assert first.status_code == again.status_code == 201
    assert again.content == first.content and again.headers["idempotent-replayed"] == "true"
    assert len((await api.list(customer_id=customer))["items"]) == 1


async def test_simultaneous_retries_of_a_transition_apply_it_once(http, api):
    case = await api.open()
    key = uuid.uuid4().hex
    responses = await asyncio.gather(
        *[http.post(f"/cases/{case['id']}/transitions", json={"action": "comment", "note": "once"}, headers=keyed("agent", key)) for _ in range(4)]
    )
    assert {response.status_code for response in responses} == {200}
    assert len({response.json()["version"] for response in responses}) == 1
    assert [event["action"] for event in await api.history(case["id"])] == ["report", "comment"]


async def test_the_same_key_with_a_different_body_is_a_422(http, api):
    case = await api.open()
    key = uuid.uuid4().hex
    first = await http.post(f"/cases/{case['id']}/transitions", json={"action": "comment", "note": "a"}, headers=keyed("agent", key))
    other = await http.post(f"/cases/{case['id']}/transitions", json={"action": "comment", "note": "b"}, headers=keyed("agent", key))
    assert first.status_code == 200 and other.status_code == 422
    assert other.json()["field"] == "Idempotency-Key"


async def test_a_refusal_is_replayed_as_it_was(http, api):
    case = await api.open()
    key = uuid.uuid4().hex
    body = {"action": "propose_remedy", "data": {"solution": "s"}}
    first = await http.post(f"/cases/{case['id']}/transitions", json=body, headers=keyed("agent", key))
    assert first.status_code == 409
    await api.act(case["id"], "start_analysis")
    again = await http.post(f"/cases/{case['id']}/transitions", json=body, headers=keyed("agent", key))
    assert (again.status_code, again.content) == (409, first.content)
    assert again.headers["content-type"].startswith("application/problem+json")


async def test_keys_belong_to_their_user(http, api):
    case = await api.open()
    key = uuid.uuid4().hex
    body = {"action": "comment", "note": "hello"}
    as_agent = await http.post(f"/cases/{case['id']}/transitions", json=body, headers=keyed("agent", key))
    as_supervisor = await http.post(f"/cases/{case['id']}/transitions", json=body, headers=keyed("supervisor", key))
    assert (as_agent.json()["version"], as_supervisor.json()["version"]) == (2, 3)


async def test_the_first_response_survives_a_restart_of_the_api(http, api, stack_settings):
    case = await api.open()
    key = uuid.uuid4().hex
    body = {"action": "acknowledge"}
    first = await http.post(f"/cases/{case['id']}/transitions", json=body, headers=keyed("agent", key))
    async with serving(stack_settings) as restarted:
        again = await restarted.post(f"/cases/{case['id']}/transitions", json=body, headers=keyed("agent", key))
    assert (again.status_code, again.content) == (200, first.content)
    assert len(await api.history(case["id"])) == 2


async def test_a_malformed_key_is_a_422(http, api):
    case = await api.open()
    response = await http.post(f"/cases/{case['id']}/transitions", json={"action": "comment"}, headers=keyed("agent", "x" * 201))
    assert response.status_code == 422 and response.json()["field"] == "Idempotency-Key"


async def test_keys_older_than_a_week_are_forgotten_and_a_retry_then_is_a_new_request(http, api, read_model):
    customer = f"idem-{uuid.uuid4().hex[:8]}"
    body = {"kind": "complaint", "title": "一周后重试", "customer": {"id": customer}}
    old_key, fresh_key = uuid.uuid4().hex, uuid.uuid4().hex
    first = await http.post("/cases", json=body, headers=keyed("agent", old_key))
    await http.post("/cases", json={**body, "title": "昨天"}, headers=keyed("agent", fresh_key))
    now = datetime.now(UTC)
    async with read_model.engine.begin() as connection:
        await connection.execute(
            update(idempotency_keys).where(idempotency_keys.c.key_hash == fingerprint("ann", old_key)).values(created_at=now - timedelta(days=8))
        )
    assert await IdempotencyKeys(read_model).forget_before(now - RETENTION) >= 1
    fresh = await http.post("/cases", json={**body, "title": "昨天"}, headers=keyed("agent", fresh_key))
    assert fresh.headers.get("idempotent-replayed") == "true"  # a key younger than a week still answers
    again = await http.post("/cases", json=body, headers=keyed("agent", old_key))
    assert again.status_code == 201 and "idempotent-replayed" not in again.headers
    assert again.json()["id"] != first.json()["id"]
    assert len((await api.list(customer_id=customer))["items"]) == 3
