"""KPIs over HTTP from cases moved by the real workflows, and improvement plans that measure themselves.

Each test gets its own read model and task queue, so the figures count only its own cases.
"""

from __future__ import annotations

import pytest

from service.teams import Department
from tests.conftest import Api, auth
from tests.service.kpi_cases import project_all, reported_case


async def kpis(api: Api, **params) -> dict:
    response = await api.client.get("/kpis", params=params, headers=auth("auditor"))
    assert response.status_code == 200, response.text
    return response.json()


async def answered_late(api: Api, category: str) -> dict:
    case = await api.open(title="late", data={"category": category})
    await api.history_with(case["id"], "sla_breached")
    await api.act(case["id"], "acknowledge")
    return case


async def test_kpis_count_what_the_workflows_did(own_stack):
    async with own_stack() as stack:
        api = stack.api
        satisfied = await api.open(title="parcel lost", data={"category": "logistics"})
        for action, data in [
            ("acknowledge", None),
            ("start_analysis", None),
            ("propose_remedy", {"solution": "resend"}),
            ("complete_remedy", {"resolution": "resent"}),
            ("record_satisfaction", {"satisfied": True, "score": 5}),
        ]:
            await api.act(satisfied["id"], action, data=data)
        dismissed = await answered_late(api, "logistics")
        await api.act(dismissed["id"], "start_analysis")
        await api.act(dismissed["id"], "dismiss", role="supervisor", data={"reason": "not our parcel"})
        await api.open(title="waiting", priority="low", data={"category": "account"})

        figures = (await kpis(api, kind="complaint"))["kpis"]
        assert {name: figures[name] for name in ("volume", "first_responses", "handled", "dismissed", "satisfaction_responses")} == {
            "volume": 3,
            "first_responses": 2,
            "handled": 2,
            "dismissed": 1,
            "satisfaction_responses": 1,
        }
        assert figures["first_response_on_time_rate"] == 0.5  # one on time, one late; the low one is undecided
        assert figures["resolution_rate"] == 0.5  # the satisfied one, of the two not dismissed
        assert figures["breach_rate"] == pytest.approx(1 / 3)
        assert figures["reopen_rate"] == 0.0
        assert (figures["satisfaction_mean_score"], figures["satisfied_share"]) == (5, 1.0)
        # Two first responses, fast f and late l >= 1 s (past its one-second target), interpolated:
        # p50 = (f + l) / 2 = the mean, and p90 = f + 0.9 (l - f) >= 0.9.
        assert figures["first_response_p50_seconds"] == pytest.approx(figures["first_response_mean_seconds"])
        assert figures["first_response_p90_seconds"] >= 0.9
        assert figures["volume_by_category"] == {"account": 1, "logistics": 2}

        by_category = await kpis(api, group_by="category")
        assert [(group["key"], group["kpis"]["volume"]) for group in by_category["groups"]] == [("account", 1), ("logistics", 2)]


async def test_bad_kpi_queries_are_refused_naming_the_parameter(own_stack):
    async with own_stack() as stack:
        api = stack.api
        for params, field in [
            ({"from": "2026-11-02T00:00:00Z", "to": "2026-11-01T00:00:00Z"}, "from"),
            ({"from": "2020-01-01T00:00:00Z", "to": "2026-01-01T00:00:00Z"}, "to"),
            ({"group_by": "colour"}, "group_by"),
            ({"from": "yesterday"}, "from"),
            ({"category": "weather"}, "category"),
        ]:
            response = await api.client.get("/kpis", params=params, headers=auth("agent"))
            assert response.status_code == 422, (params, response.text)
            assert response.headers["content-type"].startswith("application/problem+json")
            assert field in response.text, (params, response.text)
        assert (await api.client.get("/kpis")).status_code == 401


async def test_an_improvement_plan_takes_its_baseline_and_after_value_from_the_kpis(own_stack):
    async with own_stack() as stack:
        api = stack.api
        on_time = await api.open(title="on time", data={"category": "logistics"})
        await api.act(on_time["id"], "acknowledge")
        await answered_late(api, "logistics")
        await api.open(title="other category, late", data={"category": "account"})

        metric = "first_response_on_time_rate?kind=complaint&category=logistics"
        plan = await api.open("improvement_plan", role="supervisor", title="answer logistics complaints sooner", data={"metric": metric})
        assert plan["data"]["baseline"] == 0.5  # one of the two logistics complaints in the 28 days before
        measured = plan["data"]["baseline_measured"]
        assert (measured["kpi"], measured["filters"], measured["cases"]) == (
            "first_response_on_time_rate",
            {"kind": "complaint", "category": "logistics"},
            2,
        )
        same_window = await kpis(api, **{"from": measured["from"], "to": measured["to"], "kind": "complaint", "category": "logistics"})
        assert same_window["kpis"]["first_response_on_time_rate"] == measured["value"] == 0.5

        await api.act(plan["id"], "start_analysis", role="supervisor")
        await api.act(plan["id"], "record_cause", role="supervisor", data={"category": "process", "description": "one queue for all"})
        await api.act(plan["id"], "plan_measures", role="supervisor")
        # After the measures: two logistics complaints, both answered at once.
        for title in ("after 1", "after 2"):
            case = await api.open(title=title, data={"category": "logistics"})
            await api.act(case["id"], "acknowledge")
        evaluated = await api.act(plan["id"], "evaluate", role="supervisor")
        assert evaluated["data"]["measured_after_value"] == 1.0
        assert evaluated["data"]["measured_after"]["cases"] == 2
        closed = await api.act(plan["id"], "record_effect", role="supervisor", data={"effective": True})
        assert closed["state"] == "closed"

        history = {event["action"]: event for event in await api.history(plan["id"])}
        assert history["report"]["data"]["data"]["baseline"] == 0.5
        assert history["evaluate"]["data"]["measured_after_value"] == 1.0
        assert history["record_effect"]["data"]["after_value"] == 1.0


async def test_a_given_baseline_is_kept_and_a_bad_metric_is_refused(own_stack):
    async with own_stack() as stack:
        api = stack.api
        plan = await api.open("improvement_plan", role="supervisor", title="given", data={"metric": "breach_rate", "baseline": 0.3})
        assert plan["data"]["baseline"] == 0.3 and "baseline_measured" not in plan["data"]
        free_text = await api.open("improvement_plan", role="supervisor", title="free", data={"metric": "complaints in Shanghai"})
        assert "baseline" not in free_text["data"]
        response = await api.client.post(
            "/cases",
            json={"kind": "improvement_plan", "title": "bad", "data": {"metric": "breach_rate?kind=weather"}},
            headers=auth("supervisor"),
        )
        assert response.status_code == 422 and response.json()["field"] == "data.metric", response.text
        smuggled = await api.client.post(
            "/cases",
            json={"kind": "improvement_plan", "title": "forged", "data": {"metric": "breach_rate", "baseline_measured": {"value": 1}}},
            headers=auth("supervisor"),
        )
        assert smuggled.status_code == 422 and smuggled.json()["field"] == "data.baseline_measured", smuggled.text


async def test_kpis_filter_and_group_by_team_and_site_over_http(own_stack):
    async with own_stack() as stack:
        department = Department(stack.read_model)
        for name, site in (("north", "HQ"), ("south", "HQ"), ("west", "Chengdu")):
            await department.add_team("test", {"name": name, "site": site, "assignment": "none"})
        day = "2026-11-0{}T09:00"
        await project_all(
            stack.read_model,
            [
                reported_case("N1", "complaint", day.format(2), first_response=60, team="north"),
                reported_case("N2", "complaint", day.format(3), late=True, state="report", team="north"),
                reported_case("S1", "feedback", day.format(4), first_response=60, team="south"),
                reported_case("W1", "complaint", day.format(5), first_response=60, team="west"),
                reported_case("X1", "complaint", day.format(6), first_response=60),
            ],
        )
        period = {"from": "2026-11-02T00:00:00Z", "to": "2026-11-09T00:00:00Z"}
        by_team = await kpis(stack.api, **period, group_by="team")
        assert [(group["key"], group["kpis"]["volume"]) for group in by_team["groups"]] == [("north", 2), ("south", 1), ("west", 1), (None, 1)]
        by_site = await kpis(stack.api, **period, site="HQ", group_by="site")
        assert by_site["filters"] == {"site": "HQ"} and [(group["key"], group["kpis"]["volume"]) for group in by_site["groups"]] == [("HQ", 3)]
        north = await kpis(stack.api, **period, team="north", kind="complaint")
        assert (north["kpis"]["volume"], north["kpis"]["first_response_on_time_rate"]) == (2, 0.5)
        for params, field in [({"team": "atlantis"}, "team"), ({"site": "Atlantis"}, "site"), ({"team": "x" * 101}, "team")]:
            refused = await stack.api.client.get("/kpis", params={**period, **params}, headers=auth("agent"))
            assert refused.status_code == 422 and refused.headers["content-type"].startswith("application/problem+json"), refused.text
            assert refused.json()["field"] == field, refused.text
