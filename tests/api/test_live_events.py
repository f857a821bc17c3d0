"""GET /events/live: changes to cases as server-sent events, through the real app over TCP."""

from __future__ import annotations

import dataclasses
from datetime import timedelta

import pytest
from sqlalchemy import insert

from api import live as live_api
from service.live import REPLAY_LIMIT
from service.read_model import ReadModel, create_engine
from service.tables import events
from states.case import parse_time
from tests.conftest import auth, serving
from tests.sse import live


async def test_a_change_through_the_api_arrives_on_the_stream(api, http):
    case = await api.open("complaint", title="包裹丢失")
    async with live(http, auth("auditor")) as stream:
        await api.act(case["id"], "acknowledge")
        [message] = await stream.changes(1, case["id"])
    assert message.json() == {"case_id": case["id"], "seq": 2, "action": "acknowledge", "kind": "complaint", "state": "report"}
    assert message.cursor


async def test_the_case_filter_sends_only_that_cases_changes(api, http):
    watched, other = await api.open("complaint"), await api.open("feedback")
    async with live(http, auth("agent"), case_id=watched["id"]) as stream:
        await api.act(other["id"], "comment", note="not watched")
        await api.act(watched["id"], "comment", note="watched")
        await api.act(other["id"], "classify", data={"category": "logistics"})
        await api.act(watched["id"], "start_analysis")
        received = await stream.changes(2)
    assert [(message.json()["case_id"], message.json()["action"]) for message in received] == [
        (watched["id"], "comment"),
        (watched["id"], "start_analysis"),
    ]


async def test_resuming_with_last_event_id_replays_exactly_the_missed_changes(api, http):
    case = await api.open("complaint")
    async with live(http, auth("auditor"), case_id=case["id"]) as stream:
        await api.act(case["id"], "acknowledge")
        [seen] = await stream.changes(1)
    await api.act(case["id"], "comment", note="missed one")
    await api.act(case["id"], "start_analysis")
    async with live(http, {**auth("auditor"), "Last-Event-ID": seen.cursor}, case_id=case["id"]) as stream:
        replayed = await stream.changes(2)
        await api.act(case["id"], "record_findings", data={"findings": "after resuming"})
        [after] = await stream.changes(1)
    assert [message.json()["seq"] for message in replayed] == [3, 4]
    assert after.json()["seq"] == 5
    assert len({seen.id, *(message.id for message in replayed), after.id}) == 4


async def test_resuming_the_unfiltered_stream_replays_the_missed_changes_of_every_case(api, http):
    first = await api.open("complaint")
    async with live(http, auth("auditor")) as stream:
        await api.act(first["id"], "acknowledge")
        [seen] = await stream.changes(1, first["id"])
    second = await api.open("feedback")
    await api.act(first["id"], "comment", note="missed")
    async with live(http, {**auth("auditor"), "Last-Event-ID": seen.cursor}) as stream:
        replayed = [message.json() for message in await stream.changes(2, {first["id"], second["id"]})]
    assert [(change["case_id"], change["seq"]) for change in replayed] == [(second["id"], 1), (first["id"], 3)]


async def test_an_event_projected_late_with_an_earlier_time_still_arrives(api, http, read_model):
    case = await api.open("complaint")
    history = await api.history(case["id"])
    async with live(http, auth("auditor"), case_id=case["id"]) as stream:
        await api.act(case["id"], "acknowledge")
        await stream.changes(1)
        # As a retried projection or `casework reconcile` would write it: an hour older than the last event read.
        async with read_model.engine.begin() as connection:
            await connection.execute(insert(events).values(_event_row(case["id"], 9, parse_time(history[0]["at"]) - timedelta(hours=1))))
        [late] = await stream.changes(1)
    assert (late.json()["seq"], late.json()["action"]) == (9, "comment")


async def test_the_stream_needs_a_token(http):
    response = await http.get("/events/live")
    assert response.status_code == 401
    assert response.headers["content-type"].startswith("application/problem+json")
    assert (await http.get("/events/live", headers={"Authorization": "Bearer not-a-token"})).status_code == 401


async def test_a_quiet_stream_sends_heartbeats(http, monkeypatch):
    monkeypatch.setattr(live_api, "HEARTBEAT_SECONDS", 0.2)
    async with live(http, auth("agent"), case_id="no-such-case") as stream:
        first, second = await stream.next(), await stream.next()
    assert first is not None and second is not None
    assert (first.comment, second.comment) == ("heartbeat", "heartbeat")


@pytest.fixture
async def crowded(stack_settings, tmp_path):
    """An API on a read model of its own holding more events than a stream replays."""
    settings = dataclasses.replace(stack_settings, database_url=f"sqlite+aiosqlite:///{tmp_path}/crowded.db")
    model = ReadModel(create_engine(settings.read_model_url))
    await model.upgrade()
    start = parse_time("2026-12-01T08:00:00Z")
    async with model.engine.begin() as connection:
        await connection.execute(insert(events), [_event_row(f"case-{n}", 1, start + timedelta(seconds=n)) for n in range(REPLAY_LIMIT + 2)])
    try:
        async with serving(settings) as client:
            yield client
    finally:
        await model.close()


async def test_a_client_too_far_behind_or_with_an_unknown_id_is_told_to_reset(crowded):
    for last_event_id in ("0-1", "not-a-cursor"):
        async with live(crowded, {**auth("agent"), "Last-Event-ID": last_event_id}) as stream:
            message = await stream.next()
        assert message is not None and message.event == "reset", last_event_id
    async with live(crowded, {**auth("agent"), "Last-Event-ID": "0-2"}) as stream:
        replayed = await stream.changes(REPLAY_LIMIT)
    assert replayed[0].json()["case_id"] == "case-2" and replayed[-1].json()["case_id"] == f"case-{REPLAY_LIMIT + 1}"


def _event_row(case_id: str, seq: int, at) -> dict:
    return {
        "case_id": case_id,
        "seq": seq,
        "action": "comment",
        "from_state": "report",
        "to_state": "report",
        "actor_name": "ann",
        "actor_role": "agent",
        "at": at,
        "data": {},
    }


async def test_an_overlong_case_filter_or_event_id_is_refused_naming_it(http):
    response = await http.get("/events/live", params={"case_id": "x" * 65}, headers=auth("agent"))
    assert (response.status_code, response.json()["field"]) == (422, "case_id")
    response = await http.get("/events/live", headers={**auth("agent"), "Last-Event-ID": "1" * 65})
    assert (response.status_code, response.json()["field"]) == (422, "last_event_id")
