"""`casework reconcile` makes the read model agree with the workflows, and leaves evidence alone."""

import asyncio
import os
import sys
from asyncio.subprocess import PIPE
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import delete, select, update

from service.reconcile import Reconciler
from service.tables import cases, events
from tests.support import AGENT, Step

CASEWORK = Path(sys.executable).parent / "casework"


async def walked(api) -> dict:
    case = await api.open()
    return await api.take(case["id"], [Step(AGENT, "acknowledge"), Step(AGENT, "start_analysis"), Step(AGENT, "record_findings", {"findings": "f"})])


async def test_lost_events_and_a_stale_case_row_are_restored(api, temporal_env, read_model):
    case = await walked(api)
    async with read_model.engine.begin() as connection:
        await connection.execute(delete(events).where(events.c.case_id == case["id"], events.c.seq >= 3))
        await connection.execute(update(cases).where(cases.c.id == case["id"]).values(version=2, state="report"))
    result = await Reconciler(temporal_env.client, read_model).reconcile(case["id"])
    assert result.events_added == [3, 4] and result.case_row_updated and result.problems == []
    assert (await api.get(case["id"]))["state"] == "analyse" and (await api.get(case["id"]))["version"] == 4
    assert [event["seq"] for event in await api.history(case["id"])] == [1, 2, 3, 4]
    again = await Reconciler(temporal_env.client, read_model).reconcile(case["id"])
    assert not again.changed and again.describe().endswith("in agreement")


async def test_a_changed_event_is_reported_not_overwritten(api, temporal_env, read_model):
    case = await walked(api)
    async with read_model.engine.begin() as connection:
        await connection.execute(update(events).where(events.c.case_id == case["id"], events.c.seq == 2).values(note="edited"))
    result = await Reconciler(temporal_env.client, read_model).reconcile(case["id"])
    assert not result.changed and "seq 2: changed field" in result.problems[0]
    assert (await api.history(case["id"]))[1]["note"] == "edited"


async def test_the_command_reconciles_every_case_and_says_what_it_did(api, stack_settings, read_model):
    case = await walked(api)
    async with read_model.engine.begin() as connection:
        await connection.execute(delete(events).where(events.c.case_id == case["id"], events.c.seq == 4))
    env = {**os.environ, "CASEWORK_TEMPORAL_ADDRESS": stack_settings.temporal_address, "CASEWORK_DATABASE_URL": stack_settings.database_url}
    # Not subprocess.run: this event loop runs the worker that answers the command's queries.
    process = await asyncio.create_subprocess_exec(str(CASEWORK), "reconcile", env=env, stdout=PIPE, stderr=PIPE)
    stdout, stderr = await asyncio.wait_for(process.communicate(), timeout=300)
    assert process.returncode == 0, stderr.decode()
    assert f"{case['id']}: added events 4" in stdout.decode()
    assert [event["seq"] for event in await api.history(case["id"])] == [1, 2, 3, 4]


async def test_a_case_whose_worker_is_gone_is_reported_without_holding_up_the_rest(own_stack, api, temporal_env, read_model):
    async with own_stack() as stack:
        orphan = await stack.api.open()
    # Its task queue has no worker any more: a query on it is never answered.
    healthy = await walked(api)
    reconciler = Reconciler(temporal_env.client, read_model, query_timeout=timedelta(seconds=1))
    results = [result async for result in reconciler.reconcile_many([orphan["id"], healthy["id"]], concurrency=2)]
    assert [result.case_id for result in results] == [orphan["id"], healthy["id"]]
    assert results[0].problems and results[0].problems[0].startswith("could not read the workflow's state")
    assert results[1].problems == [] and not results[1].changed


async def test_the_cases_changed_since_a_moment_are_the_running_ones_and_those_closed_since(api, temporal_env, read_model):
    running, ended = await api.open(), await api.open()
    before_end = datetime.now(UTC) - timedelta(seconds=5)
    await temporal_env.client.get_workflow_handle(ended["id"]).terminate(reason="stands for a case whose workflow closed")
    reconciler = Reconciler(temporal_env.client, read_model)
    assert {running["id"], ended["id"]} <= set(await reconciler.case_ids_changed_since(before_end))
    later = await reconciler.case_ids_changed_since(datetime.now(UTC) + timedelta(minutes=1))
    assert running["id"] in later and ended["id"] not in later


async def test_a_row_projected_before_responses_were_counted_gets_them_from_the_workflow(api, temporal_env, read_model):
    case = await walked(api)
    async with read_model.engine.begin() as connection:
        # As migration 0007 leaves an older row: the same version, no responses yet.
        await connection.execute(update(cases).where(cases.c.id == case["id"]).values(responses=None, response_seconds=None))
    result = await Reconciler(temporal_env.client, read_model).reconcile(case["id"])
    assert result.case_row_updated and result.events_added == []
    history = await api.history(case["id"])
    answered = (datetime.fromisoformat(history[1]["at"]) - datetime.fromisoformat(history[0]["at"])).total_seconds()
    async with read_model.engine.connect() as connection:
        row = (await connection.execute(select(cases.c.responses, cases.c.response_seconds).where(cases.c.id == case["id"]))).one()
    assert (row.responses, row.response_seconds) == (1, answered)  # the acknowledgement answered the report
