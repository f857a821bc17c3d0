"""Fenced projections on the real stores: a workflow task can write and then fail, and its retry (or a
later task) writes with a higher fence. The higher fence wins, a late write of a lower one never does,
and what the failed task wrote beyond the case is removed (service/read_model.py)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from service.read_model import ReadModel
from tests.service.test_read_model import make_case, make_event
from workflows.activities import LAST_MOMENT, projection_fence

RUN = datetime(2026, 12, 4, 9, 0, tzinfo=UTC)


def fence(history_length: int, seconds: float = 0) -> str:
    return projection_fence(RUN, history_length, RUN + timedelta(seconds=seconds))


async def seqs(read_model: ReadModel, case_id: str) -> list[int]:
    return [event["seq"] for event in await read_model.history(case_id)]


async def stored(read_model: ReadModel, case_id: str) -> dict[str, Any]:
    row = await read_model.get_case(case_id)
    assert row is not None
    return row


def test_a_fence_orders_runs_then_history_length_then_the_task_moment():
    later_run = projection_fence(RUN + timedelta(seconds=1), 3, RUN + timedelta(seconds=1))
    assert fence(10, 1) < fence(10, 2) < fence(11, 0) < fence(11, 0.000001) < later_run
    assert fence(12, 5) < projection_fence(RUN, 12, LAST_MOMENT) < fence(13, 0)
    assert projection_fence(RUN, 9, RUN) < projection_fence(RUN, 10, RUN)  # fixed widths: no "9" > "10"


async def test_a_retried_task_replaces_the_event_and_case_its_failed_attempt_wrote(read_model: ReadModel):
    await read_model.project(first := make_case("c-f1"), make_event(first), fence(3))
    failed = make_case("c-f1", version=2, state="analyse", title="the failed attempt's")
    await read_model.project(failed, make_event(failed, note="failed attempt", when="2026-12-04T09:00:01.000000Z"), fence(6, 1))
    retried = make_case("c-f1", version=2, state="analyse", title="the retry's")
    await read_model.project(retried, make_event(retried, note="retry", when="2026-12-04T09:00:02.000000Z"), fence(6, 2))

    history = await read_model.history("c-f1")
    assert [(event["seq"], event["note"], event["at"]) for event in history] == [
        (1, None, first.updated_at),
        (2, "retry", "2026-12-04T09:00:02.000000Z"),
    ]
    assert (await stored(read_model, "c-f1"))["title"] == "the retry's"


async def test_a_late_write_of_a_stale_task_never_wins(read_model: ReadModel):
    await read_model.project(first := make_case("c-f2"), make_event(first), fence(3))
    true = make_case("c-f2", version=2, state="analyse", title="true")
    await read_model.project(true, make_event(true, note="true"), fence(8, 2))
    stale = make_case("c-f2", version=2, state="analyse", title="stale")
    await read_model.project(stale, make_event(stale, note="stale"), fence(8, 1))
    stale_beyond = make_case("c-f2", version=3, state="analyse", title="stale beyond")
    await read_model.project(stale_beyond, make_event(stale_beyond, note="stale beyond"), fence(8, 1))

    assert [(event["seq"], event["note"]) for event in await read_model.history("c-f2")] == [(1, None), (2, "true")]
    row = await stored(read_model, "c-f2")
    assert (row["version"], row["title"]) == (2, "true")


async def test_one_task_writing_two_events_keeps_the_later_case_whatever_order_they_land_in(read_model: ReadModel):
    """Two updates handled in one workflow task: the same fence, written concurrently."""
    await read_model.project(first := make_case("c-f3"), make_event(first), fence(3))
    second, third = (make_case("c-f3", version=n, title=f"v{n}") for n in (2, 3))
    await read_model.project(third, make_event(third), fence(7))
    await read_model.project(second, make_event(second), fence(7))

    assert await seqs(read_model, "c-f3") == [1, 2, 3]
    assert (await stored(read_model, "c-f3"))["version"] == 3


async def test_the_events_a_failed_task_wrote_beyond_the_case_are_removed_by_a_higher_fence(read_model: ReadModel):
    """The retried task took none of the failed attempt's events; the next write (or the
    reconciliation, whose fence is above the history it read) puts the case back and removes them."""
    for version in (1, 2):
        case = make_case("c-f4", version=version)
        await read_model.project(case, make_event(case), fence(3 * version))
    for version in (3, 4):  # the failed attempt's
        case = make_case("c-f4", version=version, title="phantom")
        await read_model.project(case, make_event(case), fence(9, 1))
    healed = make_case("c-f4", version=2, title="as the workflow has it")
    await read_model.project(healed, make_event(healed), projection_fence(RUN, 9, LAST_MOMENT))

    assert await seqs(read_model, "c-f4") == [1, 2]
    row = await stored(read_model, "c-f4")
    assert (row["version"], row["title"]) == (2, "as the workflow has it")
    next_change = make_case("c-f4", version=3, title="the next change")
    await read_model.project(next_change, make_event(next_change, note="next"), fence(12))
    assert [(event["seq"], event["note"]) for event in await read_model.history("c-f4")] == [(1, None), (2, None), (3, "next")]


async def test_unfenced_writes_keep_the_old_rule_and_rank_below_any_fence(read_model: ReadModel):
    """Histories from before "project-locally" (a regular activity) and rows from before migration 0013."""
    await read_model.project(first := make_case("c-f5"), make_event(first))
    newer = make_case("c-f5", version=2, title="unfenced v2")
    await read_model.project(newer, make_event(newer, note="first"))
    await read_model.project(newer, make_event(newer, note="again"))
    older = make_case("c-f5", version=1, title="unfenced v1 again")
    await read_model.project(older, make_event(older))
    assert [(event["seq"], event["note"]) for event in await read_model.history("c-f5")] == [(1, None), (2, "first")]
    assert (await stored(read_model, "c-f5"))["title"] == "unfenced v2"

    fenced = make_case("c-f5", version=2, title="fenced")
    await read_model.project(fenced, make_event(fenced, note="fenced"), fence(4))
    await read_model.project(newer, make_event(newer, note="unfenced late"))
    assert [(event["seq"], event["note"]) for event in await read_model.history("c-f5")] == [(1, None), (2, "fenced")]
    assert (await stored(read_model, "c-f5"))["title"] == "fenced"
