"""The KPI roll-ups give the figures the cases give (percentiles within the sketch's bound), stay
right when the projection rewrites a case, and a rebuild makes the same cells.

Reuses the hand-worked cases of test_kpi_figures (W44 and W45 of 2026, across a month end), so
every query below has whole days and a whole month answered from cells, and partial days at its ends.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from alembic import command
from sqlalchemy import create_engine, select, text

from service import kpi_rollups, schema
from service.kpi_rollup_reads import cells_query
from service.kpis import KpiQuery, Kpis
from service.tables import kpi_rollups as rollup_table
from service.tables import metadata
from service.teams import Department
from states.quantile_sketch import RELATIVE_ACCURACY
from tests.service.kpi_cases import project_all, reported_case
from tests.service.test_kpi_figures import CASES

PERCENTILE_FIGURES = ("first_response_p50_seconds", "first_response_p90_seconds", "handling_p50_seconds", "handling_p90_seconds")
TEAM_CASES = [
    reported_case("T1", "complaint", "2026-10-27T10:00", category="account", first_response=120, team="north", owner="bob"),
    reported_case("T2", "feedback", "2026-11-04T10:00", first_response=240, closed_after=7_200, closed_by="classify", team="south"),
]
QUERIES = [
    KpiQuery(datetime(2026, 10, 1, tzinfo=UTC), datetime(2026, 12, 1, tzinfo=UTC)),  # October and November whole
    KpiQuery(datetime(2026, 10, 26, 7, 30, tzinfo=UTC), datetime(2026, 11, 6, 10, 0, tzinfo=UTC)),  # partial days at both ends
    KpiQuery(datetime(2026, 10, 1, tzinfo=UTC), datetime(2026, 12, 1, tzinfo=UTC), kind="complaint", group_by="category"),
    KpiQuery(datetime(2026, 10, 1, tzinfo=UTC), datetime(2026, 12, 1, tzinfo=UTC), group_by="owner"),
    KpiQuery(datetime(2026, 10, 1, tzinfo=UTC), datetime(2026, 12, 1, tzinfo=UTC), owner="bob"),
    KpiQuery(datetime(2026, 10, 1, tzinfo=UTC), datetime(2026, 12, 1, tzinfo=UTC), group_by="week"),
    KpiQuery(datetime(2026, 10, 1, tzinfo=UTC), datetime(2026, 12, 1, tzinfo=UTC), group_by="month"),
    # Every bucket from one reading: the first and last clipped to partial days, the middle ones whole.
    KpiQuery(datetime(2026, 10, 26, 7, 30, tzinfo=UTC), datetime(2026, 11, 6, 10, 0, tzinfo=UTC), group_by="week"),
    KpiQuery(datetime(2026, 9, 29, 7, 30, tzinfo=UTC), datetime(2026, 11, 6, 10, 0, tzinfo=UTC), group_by="month"),
    KpiQuery(datetime(2026, 10, 1, tzinfo=UTC), datetime(2026, 12, 1, tzinfo=UTC), owner="bob", group_by="week"),
    KpiQuery(datetime(2026, 10, 1, tzinfo=UTC), datetime(2026, 12, 1, tzinfo=UTC), group_by="site"),
    KpiQuery(datetime(2026, 10, 1, tzinfo=UTC), datetime(2026, 12, 1, tzinfo=UTC), team="north", group_by="priority"),
    KpiQuery(datetime(2026, 10, 1, tzinfo=UTC), datetime(2026, 12, 1, tzinfo=UTC), priority="high", group_by="owner"),  # no cuboid: the cases
]


@pytest.fixture
async def projected(read_model):
    department = Department(read_model)
    for name, site in (("north", "HQ"), ("south", "Branch")):
        await department.add_team("test", {"name": name, "site": site, "assignment": "none"})
    await project_all(read_model, [*CASES, *TEAM_CASES])
    return read_model


def assert_same_figures(rolled: dict, exact: dict) -> None:
    """Every figure equal, but percentiles: within the sketch's relative accuracy."""
    assert rolled.keys() == exact.keys()
    for name, value in exact.items():
        if name in PERCENTILE_FIGURES and value is not None:
            assert rolled[name] == pytest.approx(value, rel=RELATIVE_ACCURACY), name
        elif isinstance(value, float):
            assert rolled[name] == pytest.approx(value, rel=1e-9), name
        else:
            assert rolled[name] == value, name


@pytest.mark.parametrize("query", QUERIES, ids=lambda query: f"{query.group_by}-{sorted(query.filters)}-{query.start:%d%H%M}")
async def test_rolled_up_figures_are_the_exact_ones_within_the_sketch_bound(projected, query):
    rolled, exact = await Kpis(projected, rollups=True).report(query), await Kpis(projected).report(query)
    assert_same_figures(rolled["kpis"], exact["kpis"])
    assert [group["key"] for group in rolled.get("groups", [])] == [group["key"] for group in exact.get("groups", [])]
    for rolled_group, exact_group in zip(rolled.get("groups", []), exact.get("groups", []), strict=True):
        assert_same_figures(rolled_group["kpis"], exact_group["kpis"])


async def test_a_period_inside_one_day_is_exact_percentiles_too(projected):
    query = KpiQuery(datetime(2026, 11, 2, 7, tzinfo=UTC), datetime(2026, 11, 6, 23, tzinfo=UTC) - timedelta(days=3))
    rolled, exact = await Kpis(projected, rollups=True).report(query), await Kpis(projected).report(query)
    assert rolled["kpis"]["volume"] == 2
    assert rolled["kpis"] == exact["kpis"]


async def test_a_whole_day_answers_percentiles_from_the_sketch(projected):
    # First responses 1200 300 900 240 (C, D, H, T2): exactly 600 between the middle two; the sketch's is near it.
    query = KpiQuery(datetime(2026, 11, 2, tzinfo=UTC), datetime(2026, 11, 5, tzinfo=UTC))
    figures = (await Kpis(projected, rollups=True).report(query))["kpis"]
    assert figures["first_response_p50_seconds"] != 600
    assert figures["first_response_p50_seconds"] == pytest.approx(600, rel=RELATIVE_ACCURACY)


async def cells(read_model) -> dict:
    """Every cell that holds something, as its figures."""
    async with read_model.engine.connect() as connection:
        rows = (await connection.execute(select(rollup_table))).all()
    found = {}
    for row in rows:
        figures = kpi_rollups.added(kpi_rollups.EMPTY, json.loads(row.figures))
        if figures != kpi_rollups.EMPTY:
            found[tuple(row[:-1])] = figures
    return found


async def test_a_rewritten_case_moves_its_contribution_and_a_rebuild_agrees(projected):
    a = next(case for case in CASES if case.id == "A")
    # A newer version: another owner, team and priority, the first response later, reopened.
    moved = dataclasses.replace(
        a, version=3, owner="carol", team="south", priority="urgent", first_response_at="2026-10-28T10:00:00.000000Z", reopen_count=1
    )
    await project_all(projected, [moved])
    incremental = await cells(projected)
    owners = {key[6] for key in incremental if key[0] == "owner"}
    assert "carol" in owners
    async with projected.engine.begin() as connection:
        await connection.run_sync(kpi_rollups.rebuild, "UTC")
    assert await cells(projected) == incremental
    by_owner = await Kpis(projected, rollups=True).report(
        KpiQuery(datetime(2026, 10, 1, tzinfo=UTC), datetime(2026, 12, 1, tzinfo=UTC), group_by="owner")
    )
    carol = next(group for group in by_owner["groups"] if group["key"] == "carol")["kpis"]
    assert (carol["volume"], carol["reopen_rate"], carol["first_response_mean_seconds"]) == (1, 1.0, 3_600)


async def test_an_older_write_changes_nothing(projected):
    before = await cells(projected)
    a = next(case for case in CASES if case.id == "A")
    await project_all(projected, [dataclasses.replace(a, version=1, owner="zoe")])
    assert await cells(projected) == before


async def test_roll_ups_cut_in_another_zone_are_not_used_until_cut_again(projected):
    shanghai = ZoneInfo("Asia/Shanghai")
    query = KpiQuery(datetime(2026, 10, 1, tzinfo=UTC), datetime(2026, 12, 1, tzinfo=UTC), group_by="week")
    exact = await Kpis(projected, shanghai).report(query)
    assert (await Kpis(projected, shanghai, rollups=True).report(query)) == exact  # the cells are UTC days: the cases answer
    await projected.upgrade("Asia/Shanghai")
    rolled = await Kpis(projected, shanghai, rollups=True).report(query)
    assert rolled != exact  # percentiles from the sketch now
    assert [group["kpis"]["volume"] for group in rolled["groups"]] == [group["kpis"]["volume"] for group in exact["groups"]]


async def test_migration_0014_fills_the_roll_ups_from_the_cases_already_there(projected):
    incremental = await cells(projected)
    assert incremental
    async with projected.engine.begin() as connection:
        await connection.run_sync(lambda sync: command.downgrade(schema._config(sync), "0013"))
    await projected.upgrade()
    assert await cells(projected) == incremental


async def test_migration_0016_turns_the_dense_runs_into_pairs_and_back(projected):
    async def stored() -> dict:
        async with projected.engine.connect() as connection:
            return {tuple(row[:-1]): json.loads(row[-1]) for row in (await connection.execute(select(rollup_table))).all()}

    as_pairs = await stored()
    november = next(key for key in as_pairs if key[:3] == ("", "month", date(2026, 11, 1)))
    pairs = as_pairs[november]["f"]  # bucket, count: the buckets that count a first response, in order
    assert pairs[::2] == sorted(set(pairs[::2])) and min(pairs[1::2]) > 0
    assert sum(pairs[1::2]) == as_pairs[november]["s"][kpi_rollups.SUMS.index("first_responses")] > 1
    async with projected.engine.begin() as connection:
        await connection.run_sync(lambda sync: command.downgrade(schema._config(sync), "0015"))
    dense = (await stored())[november]["f"]  # the first bucket, then every bucket's count up to the last
    assert dense[0] == pairs[0] and len(dense) == 1 + pairs[-2] - pairs[0] + 1
    assert [(dense[0] + offset, count) for offset, count in enumerate(dense[1:]) if count] == list(zip(pairs[::2], pairs[1::2]))
    await projected.upgrade()
    assert await stored() == as_pairs


async def test_the_exact_figures_stay_available_beside_the_rolled_up_ones(projected):
    query = KpiQuery(datetime(2026, 10, 1, tzinfo=UTC), datetime(2026, 12, 1, tzinfo=UTC))
    kpis = Kpis(projected, rollups=True)
    rolled, exact = await kpis.report(query), await kpis.exact.report(query)
    assert exact == await Kpis(projected).report(query)
    # 60 60 120 240 300 600 900 1200 1800 3600: p90 at rank 8.1 (from 0), 1800 + 0.1 × 1800.
    assert exact["kpis"]["first_response_p90_seconds"] == pytest.approx(1_980)
    assert rolled["kpis"]["first_response_p90_seconds"] != exact["kpis"]["first_response_p90_seconds"]


async def test_concurrent_writes_of_cases_sharing_cells_lose_nothing(projected):
    many = [
        reported_case(
            f"M{number}",
            "complaint",
            f"2026-11-1{number % 3}T0{number % 10}:00",
            category="account",
            first_response=60 + number,
            owner=f"o{number % 4}",
        )
        for number in range(30)
    ]
    await asyncio.gather(*(project_all(projected, [case]) for case in many))
    await asyncio.gather(*(project_all(projected, [dataclasses.replace(case, version=3, owner="moved")]) for case in many[::2]))
    incremental = await cells(projected)
    async with projected.engine.begin() as connection:
        await connection.run_sync(kpi_rollups.rebuild, "UTC")
    assert await cells(projected) == incremental


@pytest.mark.parametrize("conditions", [[], [("owner", ["bob"])], [("kind", ["complaint"])]], ids=["all", "one owner", "complaints"])
def test_the_cells_are_searched_by_period_not_read_for_every_period_the_cuboid_has(conditions):
    """A year's cells at ten years of history cost what they cost at one: each range of periods is an
    index search on SQLite, never a walk over the whole cuboid."""
    engine = create_engine("sqlite://")
    metadata.create_all(engine, tables=[rollup_table])
    year = [("day", date(2025, 12, 3) + timedelta(days=day)) for day in range(29)]
    year += [("month", date(2026, month, 1)) for month in range(1, 12)] + [("day", date(2026, 12, 1))]
    query = cells_query(("kind", "owner"), conditions, year)
    with engine.connect() as connection:
        plan = [row[3] for row in connection.execute(text(f"EXPLAIN QUERY PLAN {query.compile(engine, compile_kwargs={'literal_binds': True})}"))]
    searches = [step for step in plan if step.startswith(("SEARCH", "SCAN"))]
    assert len(searches) == 3, plan  # the December days, the months, the last day
    assert all("period>" in step for step in searches), plan


def test_adding_figures_that_measured_nothing_keeps_the_sketch_pairs():
    cell = {"s": [3] + [1] * (len(kpi_rollups.SUMS) - 1), "f": [4, 2, 9, 1], "h": [7, 1]}
    new_case = {"s": [1] + [0] * (len(kpi_rollups.SUMS) - 1), "f": [], "h": []}
    total = kpi_rollups.added(cell, new_case)
    assert total == {"s": [4] + [1] * (len(kpi_rollups.SUMS) - 1), "f": [4, 2, 9, 1], "h": [7, 1]}
    total["f"].append(0)  # the sum is a value of its own, never the cell's lists
    assert cell["f"] == [4, 2, 9, 1]
    assert kpi_rollups.added(total, {**new_case, "h": [7, 1]}, -1)["h"] == []


async def test_a_change_of_the_sums_alone_moves_them_and_a_rebuild_agrees(projected):
    """A satisfaction score counts in the sums only: the cells' sums are written again, their sketches kept."""
    b = next(case for case in CASES if case.id == "B")  # as CASES has it (the tests above rewrite A)
    before = await cells(projected)
    await project_all(projected, [dataclasses.replace(b, version=b.version + 1, data={**b.data, "satisfied": True, "score": 5})])
    incremental = await cells(projected)
    assert incremental != before
    assert {key: figures["f"] for key, figures in incremental.items()} == {key: figures["f"] for key, figures in before.items()}
    async with projected.engine.begin() as connection:
        await connection.run_sync(kpi_rollups.rebuild, "UTC")
    assert await cells(projected) == incremental


def test_a_delta_is_added_to_the_stored_text_as_to_the_decoded_figures():
    sums = len(kpi_rollups.SUMS)
    cell = {"s": list(range(sums)), "f": [4, 2, 9, 1], "h": [7, 1]}
    for delta in (
        {"s": [1] + [0] * (sums - 1), "f": [], "h": []},  # the sums alone: read and written as text
        {"s": [-1] + [0] * (sums - 1), "f": [9, -1], "h": []},
        {"s": [0] * sums, "f": [], "h": [3, 1]},
    ):
        expected = json.dumps(kpi_rollups.added(cell, delta))
        assert kpi_rollups.figures_with(json.dumps(cell), delta) == expected
        assert kpi_rollups.add_figures_sql(json.dumps(cell), json.dumps(delta)) == expected
        # Stored another way (keys in another order, other spacing): decoded whole, the same figures.
        other = json.dumps({"h": cell["h"], "f": cell["f"], "s": cell["s"]}, separators=(",", ":"))
        assert json.loads(kpi_rollups.figures_with(other, delta)) == json.loads(expected)
