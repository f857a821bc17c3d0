"""Weekly reviews made by a real Temporal Schedule, and reviews made on demand, over HTTP."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from service.reviews import period_before, previous_period
from service.teams import Department
from states.case import parse_time
from tests.conftest import auth
from tests.service.kpi_cases import project_all, reported_case
from tests.support import eventually
from workflows.reviews import ensure_schedules, schedule_id

DEPARTMENT = "Asia/Shanghai"  # the stack's CASEWORK_TIMEZONE


def seeded_weeks(now: datetime):
    """Two logistics complaints the week before last; five cases last week (figures in the test)."""
    last = period_before(now, "weekly", ZoneInfo(DEPARTMENT))
    before = previous_period(last, "weekly", ZoneInfo(DEPARTMENT))
    b, l = before.start, last.start
    cases = [
        reported_case(
            "B1",
            "complaint",
            b + timedelta(days=1),
            category="logistics",
            first_response=60,
            closed_after=3600,
            closed_by="record_satisfaction",
            satisfied=True,
            score=4,
        ),
        reported_case("B2", "complaint", b + timedelta(days=2), category="logistics", late=True, state="report"),
        reported_case(
            "L1",
            "complaint",
            l + timedelta(hours=1),
            category="logistics",
            first_response=60,
            closed_after=7200,
            closed_by="record_satisfaction",
            satisfied=True,
            score=5,
        ),
        reported_case(
            "L2",
            "complaint",
            l + timedelta(hours=2),
            category="logistics",
            first_response=120,
            closed_after=7200,
            closed_by="record_satisfaction",
            satisfied=True,
            score=5,
        ),
        reported_case("L3", "complaint", l + timedelta(hours=3), category="logistics", first_response=30),
        reported_case("L4", "complaint", l + timedelta(hours=4), category="account", late=True, state="report"),
        reported_case("I1", "incident", l + timedelta(hours=5), breached=("action_item",)),
    ]
    return last, before, cases


async def first_review(api, cadence: str) -> dict | None:
    response = await api.client.get("/reviews", params={"cadence": cadence}, headers=auth("auditor"))
    assert response.status_code == 200, response.text
    return next(iter(response.json()["items"]), None)


async def test_the_weekly_schedule_reviews_last_week_against_the_week_before(own_stack, temporal_env):
    client = temporal_env.client
    async with own_stack() as stack:
        api = stack.api
        last, before, cases = seeded_weeks(datetime.now(UTC))
        await project_all(stack.read_model, cases)
        await ensure_schedules(client, stack.task_queue, "UTC")  # as made before schedules followed the department's zone
        await ensure_schedules(client, stack.task_queue, DEPARTMENT)
        await ensure_schedules(client, stack.task_queue, DEPARTMENT)  # a second worker starting changes nothing
        weekly = client.get_schedule_handle(schedule_id("weekly"))
        described = await weekly.describe()
        assert described.schedule.spec.time_zone_name == DEPARTMENT
        # It fires an hour after the department's week ends: Monday 01:00 in Shanghai.
        next_run = described.info.next_action_times[0].astimezone(ZoneInfo(DEPARTMENT))
        assert (next_run.weekday(), next_run.hour, next_run.minute) == (0, 1, 0)
        await weekly.pause(note="paused by an operator")
        await ensure_schedules(client, "moved-queue", DEPARTMENT)  # the deployment moved to another task queue
        moved = (await weekly.describe()).schedule
        assert moved.action.task_queue == "moved-queue" and moved.state.paused
        await ensure_schedules(client, stack.task_queue, DEPARTMENT)
        await weekly.unpause()
        try:
            await client.get_schedule_handle(schedule_id("weekly")).trigger()
            listed = await eventually(lambda: first_review(api, "weekly"), 30, "weekly review")
        finally:
            for cadence in ("weekly", "monthly"):
                await client.get_schedule_handle(schedule_id(cadence)).delete()

        assert listed["period"] == last.as_dict() and listed["created_by"] == "schedule"
        review = (await api.client.get(f"/reviews/{listed['id']}", headers=auth("agent"))).json()
        assert review["previous_period"] == before.as_dict()
        deltas = review["deltas"]
        assert deltas["volume"] == {"current": 5, "previous": 2, "delta": 3}
        # Last week: L1 L2 L3 answered in time, L4 past its deadline; the incident was never answered
        # and has no deadline. The week before: B1 in time, B2 late.
        assert deltas["first_response_on_time_rate"] == {"current": 0.75, "previous": 0.5, "delta": 0.25}
        assert deltas["breach_rate"]["current"] == pytest.approx(2 / 5)  # L4, I1
        assert deltas["breach_rate"]["delta"] == pytest.approx(2 / 5 - 1 / 2)
        assert deltas["resolution_rate"]["current"] == pytest.approx(2 / 5)  # L1 L2
        assert deltas["satisfaction_mean_score"] == {"current": 5, "previous": 4, "delta": 1}
        assert review["top_categories"] == [
            {"category": "logistics", "count": 3, "share": pytest.approx(3 / 5)},
            {"category": "account", "count": 1, "share": pytest.approx(1 / 5)},
        ]
        assert [case["id"] for case in review["breached_cases"]] == ["L4", "I1"]
        assert [case["id"] for case in review["open_incidents"]] == ["I1"]
        assert review["open_improvement_plans"] == []


async def test_a_supervisor_makes_a_review_of_any_period_and_everyone_reads_it(own_stack):
    async with own_stack() as stack:
        api = stack.api
        now = datetime.now(UTC)
        last, before, cases = seeded_weeks(now)
        await project_all(stack.read_model, cases)
        body = {"from": last.as_dict()["from"], "to": last.as_dict()["to"]}
        for role in ("agent", "auditor"):
            refused = await api.client.post("/reviews", json=body, headers=auth(role))
            assert refused.status_code == 403, refused.text
        made = await api.client.post("/reviews", json=body, headers=auth("supervisor"))
        assert made.status_code == 201, made.text
        review = made.json()
        assert review["cadence"] == "custom" and review["created_by"] == "sam"
        assert review["previous_period"] == before.as_dict()
        assert review["kpis"]["volume"] == 5

        markdown = await api.client.get(f"/reviews/{review['id']}/markdown", headers=auth("auditor"))
        assert markdown.status_code == 200 and markdown.headers["content-type"].startswith("text/markdown")
        assert "logistics" in markdown.text
        page = await api.client.get(f"/reviews/{review['id']}/page", headers=auth("auditor"))
        assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
        assert "<svg" in page.text and "script-src" not in page.headers["content-security-policy"]
        assert (await api.client.get("/reviews/rev_nothing", headers=auth("auditor"))).status_code == 404

        backwards = await api.client.post("/reviews", json={"from": body["to"], "to": body["from"]}, headers=auth("supervisor"))
        assert backwards.status_code == 422 and backwards.json()["field"] == "from", backwards.text


async def test_a_review_has_a_table_of_each_teams_figures(own_stack):
    async with own_stack() as stack:
        api = stack.api
        await Department(stack.read_model).add_team("test", {"name": "north", "site": "HQ", "assignment": "none"})
        last, _, cases = seeded_weeks(datetime.now(UTC))
        await project_all(stack.read_model, [replace(case, team="north") if case.id in ("L1", "L2") else case for case in cases])
        made = await api.client.post("/reviews", json=last.as_dict(), headers=auth("supervisor"))
        assert made.status_code == 201, made.text
        teams = made.json()["teams"]
        assert [(row["team"], row["site"], row["kpis"]["volume"]) for row in teams] == [("north", "HQ", 2), (None, None, 3)]
        assert (teams[0]["kpis"]["resolution_rate"], teams[0]["kpis"]["satisfied_share"], teams[0]["kpis"]["breach_rate"]) == (1.0, 1.0, 0.0)
        markdown = await api.client.get(f"/reviews/{made.json()['id']}/markdown", headers=auth("auditor"))
        assert "## By team" in markdown.text and "| north | HQ | 2 | 100.0 % |" in markdown.text
        assert "| No team | — | 3 |" in markdown.text


async def test_a_supervisor_makes_the_monthly_review_of_the_month_a_day_falls_in_and_an_agent_reads_only_their_own_row(own_stack):
    async with own_stack() as stack:
        api, zone = stack.api, ZoneInfo(DEPARTMENT)
        day = datetime(2026, 11, 30, 15, 30, tzinfo=UTC)  # 23:30 on 30 November in Beijing: still November there
        await project_all(
            stack.read_model,
            [
                reported_case("M1", "complaint", day, category="logistics", first_response=60, owner="ann"),
                reported_case("M2", "complaint", day - timedelta(days=3), category="account", first_response=90, owner="bob"),
            ],
        )
        made = await api.client.post("/reviews", json={"cadence": "monthly", "from": day.isoformat()}, headers=auth("supervisor"))
        assert made.status_code == 201, made.text
        review = made.json()
        november = datetime(2026, 11, 1, tzinfo=zone).astimezone(UTC), datetime(2026, 12, 1, tzinfo=zone).astimezone(UTC)
        assert review["id"] == "rev_monthly_2026-11-01" and review["cadence"] == "monthly"
        assert (parse_time(review["period"]["from"]), parse_time(review["period"]["to"])) == november
        assert review["kpis"]["volume"] == 2 and review["assessments"]["period"] == "2026-11"
        assert {row["name"] for row in review["agents"]} == {"ann", "bob"}

        as_ann = (await api.client.get(f"/reviews/{review['id']}", headers=auth("agent"))).json()
        assert [row["name"] for row in as_ann["agents"]] == ["ann"] and as_ann["kpis"]["volume"] == 2
        markdown = (await api.client.get(f"/reviews/{review['id']}/markdown", headers=auth("agent"))).text
        assert "ann" in markdown and "bob" not in markdown
        as_auditor = (await api.client.get(f"/reviews/{review['id']}", headers=auth("auditor"))).json()
        assert {row["name"] for row in as_auditor["agents"]} == {"ann", "bob"}

        again = await api.client.post("/reviews", json={"cadence": "monthly", "from": day.isoformat()}, headers=auth("supervisor"))
        assert again.json()["id"] == review["id"]  # made again: the same review, brought up to date
        with_to = await api.client.post(
            "/reviews", json={"cadence": "weekly", "from": day.isoformat(), "to": day.isoformat()}, headers=auth("supervisor")
        )
        assert with_to.status_code == 422 and with_to.json()["field"] == "to", with_to.text
        last_week = await api.client.post("/reviews", json={"cadence": "weekly"}, headers=auth("supervisor"))
        assert last_week.json()["period"] == period_before(datetime.now(UTC), "weekly", zone).as_dict()
