"""KPIs filtered and grouped by team and by site (the team's site), and a review's per-team figures, on SQLite and PostgreSQL.

team    site      case  first resp.  late  closed after  by                   satisfied  breached
north   HQ        N1       600 s      no     3 600 s     record_satisfaction  yes        no
north   HQ        N2     1 200 s      yes   (open)                            -          yes
south   HQ        S1       300 s      no     7 200 s     dismiss              -          no
west    Chengdu   W1    none          yes   (open)                            -          yes
east    Chengdu   (no cases)
-       -         X1        60 s      no    (open)                            -          no
"""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import event

from service.kpis import KpiQuery, Kpis, parse_metric
from service.reviews import Period, Reviews
from service.teams import Department
from states.errors import InvalidData
from tests.service.kpi_cases import project_all, reported_case

START = datetime(2026, 11, 2, tzinfo=UTC)
END = datetime(2026, 11, 9, tzinfo=UTC)
TEAMS = {"north": "HQ", "south": "HQ", "west": "Chengdu", "east": "Chengdu"}

CASES = [
    reported_case(
        "N1",
        "complaint",
        "2026-11-02T09:00",
        first_response=600,
        closed_after=3_600,
        closed_by="record_satisfaction",
        satisfied=True,
        score=5,
        team="north",
    ),
    reported_case("N2", "complaint", "2026-11-03T09:00", first_response=1_200, late=True, state="remediate", team="north"),
    reported_case("S1", "complaint", "2026-11-04T09:00", first_response=300, closed_after=7_200, closed_by="dismiss", team="south"),
    reported_case("W1", "feedback", "2026-11-05T09:00", late=True, state="report", team="west"),
    reported_case("X1", "complaint", "2026-11-06T09:00", first_response=60, state="analyse"),
]


@pytest.fixture
async def kpis(read_model):
    department = Department(read_model)
    for name, site in TEAMS.items():
        await department.add_team("test", {"name": name, "site": site, "assignment": "none"})
    await project_all(read_model, CASES)
    return Kpis(read_model)


def volumes(report) -> dict:
    return {group["key"]: group["kpis"]["volume"] for group in report["groups"]}


async def test_grouping_by_team_puts_the_cases_in_no_team_last(kpis):
    report = await kpis.report(KpiQuery(START, END, group_by="team"))
    assert [group["key"] for group in report["groups"]] == ["north", "south", "west", None]
    assert volumes(report) == {"north": 2, "south": 1, "west": 1, None: 1}
    north = report["groups"][0]["kpis"]
    assert north["first_response_on_time_rate"] == 0.5
    assert (north["first_response_p50_seconds"], north["first_response_p90_seconds"]) == (pytest.approx(900), pytest.approx(1_140))
    assert (north["handling_p50_seconds"], north["resolution_rate"], north["satisfied_share"]) == (3_600, 0.5, 1.0)
    assert north["breach_rate"] == 0.5
    assert report["kpis"]["volume"] == 5


async def test_grouping_by_site_counts_each_site_teams_cases(kpis):
    report = await kpis.report(KpiQuery(START, END, group_by="site"))
    assert [group["key"] for group in report["groups"]] == ["Chengdu", "HQ", None]
    assert volumes(report) == {"Chengdu": 1, "HQ": 3, None: 1}
    hq = report["groups"][1]["kpis"]
    assert hq["first_response_p50_seconds"] == pytest.approx(600)  # 300 600 1200
    assert hq["dismissed"] == 1 and hq["resolution_rate"] == 0.5  # N1 resolved of N1 N2
    chengdu = report["groups"][0]["kpis"]
    assert (chengdu["first_response_on_time_rate"], chengdu["breach_rate"]) == (0.0, 1.0)


async def test_filtering_by_team_or_site_and_measuring_a_plan_by_them(kpis):
    north = await kpis.report(KpiQuery(START, END, team="north"))
    assert (north["filters"], north["kpis"]["volume"]) == ({"team": "north"}, 2)
    hq = await kpis.report(KpiQuery(START, END, site="HQ", group_by="team"))
    assert (hq["filters"], hq["kpis"]["volume"], volumes(hq)) == ({"site": "HQ"}, 3, {"north": 2, "south": 1})
    chengdu_by_week = await kpis.report(KpiQuery(START, END, site="Chengdu", group_by="week"))
    assert volumes(chengdu_by_week) == {"2026-W45": 1}
    empty = await kpis.report(KpiQuery(START, END, team="east"))
    assert (empty["kpis"]["volume"], empty["kpis"]["breach_rate"]) == (0, None)
    assert parse_metric("first_response_on_time_rate?site=HQ") == ("first_response_on_time_rate", {"site": "HQ"})
    value, cohort = await kpis.value("first_response_on_time_rate", {"site": "HQ"}, START, END)
    assert (value, cohort) == (pytest.approx(2 / 3), 3)  # N1 S1 on time, N2 late


@pytest.mark.parametrize("field", ["team", "site"])
async def test_a_team_or_site_the_department_lacks_is_refused_naming_it(kpis, field):
    with pytest.raises(InvalidData) as refused:
        await kpis.report(KpiQuery(START, END, **{field: "atlantis"}))
    assert refused.value.field == field


async def test_figures_grouped_by_team_or_site_read_only_the_covering_index_on_sqlite(kpis, read_model):
    if read_model.engine.dialect.name != "sqlite":
        pytest.skip("SQLite's plan is checked here; PostgreSQL chooses by its statistics")
    statements: list[tuple[str, object]] = []

    def remember(connection, cursor, statement, parameters, context, executemany):
        if "FROM cases" in statement:
            statements.append((statement, parameters))

    event.listen(read_model.engine.sync_engine, "before_cursor_execute", remember)
    try:
        await kpis.report(KpiQuery(START, END, group_by="team"))
        await kpis.report(KpiQuery(START, END, group_by="site"))
    finally:
        event.remove(read_model.engine.sync_engine, "before_cursor_execute", remember)
    assert statements
    async with read_model.engine.connect() as connection:
        for statement, parameters in statements:
            plan = (await connection.exec_driver_sql(f"EXPLAIN QUERY PLAN {statement}", parameters)).all()
            scans = [row[-1] for row in plan if " cases " in f"{row[-1]} "]
            assert scans and all("COVERING INDEX ix_cases_kpis" in scan for scan in scans), (statement, plan)


async def test_a_review_lists_every_team_by_site_then_the_cases_in_no_team(kpis, read_model):
    reviews = Reviews(read_model, ZoneInfo("Asia/Shanghai"))
    review = await reviews.make("custom", Period(START, END), "sam", END)
    assert [(row["team"], row["site"], row["kpis"]["volume"]) for row in review["teams"]] == [
        ("east", "Chengdu", 0),
        ("west", "Chengdu", 1),
        ("north", "HQ", 2),
        ("south", "HQ", 1),
        (None, None, 1),
    ]
    east, north = review["teams"][0]["kpis"], review["teams"][2]["kpis"]
    assert (east["first_response_on_time_rate"], east["handling_mean_seconds"], east["breach_rate"]) == (None, None, None)
    assert (north["first_response_on_time_rate"], north["handling_mean_seconds"], north["satisfied_share"]) == (0.5, 3_600, 1.0)
    assert review["kpis"]["volume"] == 5 and "groups" not in review
    stored = await reviews.get(review["id"])
    assert stored is not None and stored["teams"] == review["teams"]
