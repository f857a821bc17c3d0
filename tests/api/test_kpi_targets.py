"""Handling time without waiting for the customer, every response, KPI targets and the review's agents
table, through the real app (and, for the case's own figures, its real workflow)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import insert

from service.directory import Directory
from service.tables import quality_checks
from service.teams import Department
from states.case import format_time, parse_time
from states.quality import CheckStatus
from tests.conftest import auth
from tests.service.kpi_cases import project_all, reported_case

# Resolution pauses while the case waits for the customer in follow_up; no clock can breach.
PAUSING = {"warn_at": 0.5, "pause_in": ["follow_up"], "auto_escalate": [], "targets": {}}
WAIT = 0.4  # seconds, so each span is measurable


def at(history, seq: int) -> datetime:
    return parse_time(history[seq - 1]["at"])


def seconds(start: datetime, end: datetime) -> float:
    return (end - start).total_seconds()


async def kpis_of(api, **params) -> dict:
    response = await api.client.get("/kpis", params=params, headers=auth("auditor"))
    assert response.status_code == 200, response.text
    return response.json()


async def test_handling_time_leaves_out_waiting_for_the_customer_and_every_reply_is_a_response(own_stack):
    async with own_stack(sla_policy=PAUSING) as stack:
        api = stack.api
        case_id = (await api.open())["id"]
        steps = [
            ("acknowledge", None),  # 2: answers the report
            ("start_analysis", None),  # 3
            ("propose_remedy", {"solution": "resend"}),  # 4
            ("complete_remedy", {"resolution": "resent"}),  # 5: waiting for the customer
            ("record_satisfaction", {"satisfied": False}),  # 6: the customer speaks; waiting ends
            ("comment", {"reply": False}),  # 7: a note, not a response
            ("comment", {"reply": True}),  # 8: answers the verdict
            ("complete_remedy", {"resolution": "resent again"}),  # 9: waiting again
            ("record_satisfaction", {"satisfied": True, "score": 4}),  # 10: closed
        ]
        for action, data in steps:
            await asyncio.sleep(WAIT)
            await api.act(case_id, action, data=data)
        history = await api.history(case_id)
        assert [event["action"] for event in history][-1] == "record_satisfaction" and len(history) == 10

        waited = seconds(at(history, 5), at(history, 6)) + seconds(at(history, 9), at(history, 10))
        handling = seconds(at(history, 1), at(history, 10)) - waited
        response_mean = (seconds(at(history, 1), at(history, 2)) + seconds(at(history, 6), at(history, 8))) / 2
        figures = (await kpis_of(api, **{"from": format_time(at(history, 1) - timedelta(minutes=1))}))["kpis"]
        assert waited > 2 * WAIT
        assert figures["handling_mean_seconds"] == pytest.approx(handling, abs=1e-6)
        assert figures["handling_p50_seconds"] == pytest.approx(handling, abs=1e-6)
        assert figures["responses"] == 2
        assert figures["response_mean_seconds"] == pytest.approx(response_mean, abs=1e-6)
        assert figures["first_response_mean_seconds"] == pytest.approx(seconds(at(history, 1), at(history, 2)), abs=1e-6)


async def test_a_reply_flag_must_be_true_or_false(own_stack):
    async with own_stack() as stack:
        case_id = (await stack.api.open())["id"]
        refused = await stack.api.client.post(
            f"/cases/{case_id}/transitions", json={"action": "comment", "data": {"reply": "yes"}}, headers=auth("agent")
        )
        assert refused.status_code == 422 and refused.json()["field"] == "data.reply", refused.text


# Two weeks ago, Monday to Monday (UTC).
START = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0) - timedelta(days=14)
END = START + timedelta(days=7)
TARGETS = {
    "department": {"resolution_rate": {"at_least": 2 / 3}, "response_mean_seconds": {"at_most": 179}, "satisfied_share": {"at_least": 0.5}},
    "teams": {"north": {"resolution_rate": {"at_least": 1.0}}, "south": {"satisfied_share": {"at_least": 0.9}}},
}


def week_cases():
    """alice (team north) and bob (no team); the figures each test expects are worked out beside them."""
    day = START + timedelta(days=1)
    return [
        reported_case(
            "A1",
            "complaint",
            day,
            first_response=60,
            responses=(2, 300),
            closed_after=3600,
            closed_by="record_satisfaction",
            satisfied=True,
            score=5,
            owner="alice",
            team="north",
        ),
        reported_case(
            "A2", "complaint", day, first_response=120, responses=(1, 120), closed_after=7200, closed_by="dismiss", owner="alice", team="north"
        ),
        reported_case("A3", "feedback", day, first_response=300, responses=(1, 300), satisfied=False, score=2, state="remediate", owner="alice"),
        reported_case("B1", "incident", day, closed_after=1800, closed_by="close", owner="bob"),
        reported_case("outside", "complaint", END, first_response=1, responses=(1, 1), owner="bob"),
    ]


async def seeded(stack) -> None:
    for name in ("north", "south"):
        await Department(stack.read_model).add_team("test", {"name": name, "site": "HQ", "assignment": "none"})
    await project_all(stack.read_model, week_cases())


async def test_targets_in_force_and_kpis_judged_on_them_equal_is_met(own_stack):
    async with own_stack(targets_policy=TARGETS) as stack:
        api = stack.api
        await seeded(stack)
        shown = await api.client.get("/targets", headers=auth("agent"))
        assert shown.status_code == 200, shown.text
        assert shown.json() == {
            "department": {"resolution_rate": {"at_least": 2 / 3}, "response_mean_seconds": {"at_most": 179}, "satisfied_share": {"at_least": 0.5}},
            "teams": {
                "north": {"resolution_rate": {"at_least": 1.0}, "response_mean_seconds": {"at_most": 179}, "satisfied_share": {"at_least": 0.5}},
                "south": {"resolution_rate": {"at_least": 2 / 3}, "response_mean_seconds": {"at_most": 179}, "satisfied_share": {"at_least": 0.9}},
            },
        }
        assert (await api.client.get("/targets")).status_code == 401

        period = {"from": format_time(START), "to": format_time(END)}
        report = await kpis_of(api, **period)
        # Resolved A1 B1 of the 3 not dismissed: exactly the target. Responses 720 s / 4 = 180 s: 1 s over.
        # Satisfied 1 of 2 verdicts: exactly the target.
        assert report["targets"] == {
            "resolution_rate": {"target": {"kpi": "resolution_rate", "at_least": 2 / 3}, "value": pytest.approx(2 / 3), "met": True},
            "response_mean_seconds": {"target": {"kpi": "response_mean_seconds", "at_most": 179}, "value": 180, "met": False},
            "satisfied_share": {"target": {"kpi": "satisfied_share", "at_least": 0.5}, "value": 0.5, "met": True},
        }
        north = await kpis_of(api, team="north", **period)
        # North: A1 resolved, A2 dismissed: 1 of 1, its own target of 1.0 met; responses 420 s / 3 = 140 s.
        assert {kpi: verdict["met"] for kpi, verdict in north["targets"].items()} == {
            "resolution_rate": True,
            "response_mean_seconds": True,
            "satisfied_share": True,
        }
        assert north["targets"]["resolution_rate"]["target"] == {"kpi": "resolution_rate", "at_least": 1.0}
        grouped = await kpis_of(api, group_by="team", **period)
        by_team = {group["key"]: group["targets"] for group in grouped["groups"]}
        assert by_team["north"]["resolution_rate"]["met"] is True
        # The cases in no team (A3, B1): B1 resolved of 2, below the department's 2/3; A3's 300 s over 179.
        assert (by_team[None]["resolution_rate"]["value"], by_team[None]["resolution_rate"]["met"]) == (0.5, False)
        assert by_team[None]["response_mean_seconds"]["met"] is False
        by_owner = await kpis_of(api, group_by="owner", **period)
        assert all("targets" not in group for group in by_owner["groups"])


async def test_a_review_shows_targets_and_each_agents_figures(own_stack):
    async with own_stack(targets_policy=TARGETS) as stack:
        api = stack.api
        await seeded(stack)
        await Directory(stack.read_model).add("alice", "agent", None)
        await Department(stack.read_model).set_user_teams("test", "alice", ["north"])  # judged on north's targets
        checks = [("alice", "A1", START + timedelta(days=2), 80.0), ("alice", "A2", START + timedelta(days=3), 90.0),
                  ("alice", "A3", START + timedelta(days=3), None), ("alice", "old", START - timedelta(days=1), 10.0)]  # fmt: skip
        async with stack.read_model.engine.begin() as connection:
            for number, (agent, case_id, closed, total) in enumerate(checks):
                await connection.execute(
                    insert(quality_checks).values(
                        id=f"qc-{number}",
                        case_id=case_id,
                        agent_name=agent,
                        status=CheckStatus.SAMPLED if total is None else CheckStatus.FINAL,  # settled checks count
                        case_closed_at=closed,
                        sampled_at=closed,
                        total=total,
                        version=1,
                        snapshot={},
                    )
                )
        made = await api.client.post("/reviews", json={"from": format_time(START), "to": format_time(END)}, headers=auth("supervisor"))
        assert made.status_code == 201, made.text
        review = made.json()
        assert review["targets"]["resolution_rate"]["met"] is True and review["targets"]["response_mean_seconds"]["met"] is False
        north = next(row for row in review["teams"] if row["team"] == "north")
        assert north["targets"]["resolution_rate"] == {"target": {"kpi": "resolution_rate", "at_least": 1.0}, "value": 1.0, "met": True}
        south = next(row for row in review["teams"] if row["team"] == "south")
        assert south["targets"]["satisfied_share"]["met"] is None  # no verdicts, nothing to judge
        alice_targets = review["agents"][0].pop("targets")
        # alice is in north: its resolution target (100 %) in place of the department's; 1 of 2 solved.
        assert alice_targets["resolution_rate"] == {"target": {"kpi": "resolution_rate", "at_least": 1.0}, "value": 0.5, "met": False}
        assert (
            alice_targets["response_mean_seconds"]["met"] is False and alice_targets["satisfied_share"]["met"] is True
        )  # 180 s > 179 s; 50 % ≥ 50 %
        assert review["agents"][0].pop("missed") == ["resolution_rate", "response_mean_seconds"]
        assert review["agents"][1].pop("missed") == [] and review["agents"][1].pop("targets")["response_mean_seconds"]["met"] is None
        assert review["agents"] == [
            {
                "name": "alice",
                "cases": 3,
                "solved": 1,  # A1; A2 was dismissed
                "complaints_handled": 2,  # A1, A2
                "first_response_mean_seconds": pytest.approx(160),  # (60 + 120 + 300) / 3
                "response_mean_seconds": pytest.approx(180),  # (300 + 120 + 300) / 4
                "handling_mean_seconds": pytest.approx(5400),  # (3600 + 7200) / 2
                "satisfaction_mean_score": pytest.approx(3.5),
                "satisfied_share": pytest.approx(0.5),
                "quality_mean_score": pytest.approx(85),  # 80 and 90; unscored and earlier checks left out
                "quality_checks": 2,
            },
            {
                "name": "bob",
                "cases": 1,
                "solved": 1,
                "complaints_handled": 0,
                "first_response_mean_seconds": None,
                "response_mean_seconds": None,
                "handling_mean_seconds": pytest.approx(1800),
                "satisfaction_mean_score": None,
                "satisfied_share": None,
                "quality_mean_score": None,
                "quality_checks": 0,
            },
        ]
        markdown = (await api.client.get(f"/reviews/{review['id']}/markdown", headers=auth("auditor"))).text
        assert "| Resolution rate | 66.7 % | — | — | ≥ 66.7 % | met |" in markdown
        assert "| Response time, mean | 3 min | — | — | ≤ 3 min | missed |" in markdown
        assert "| north | Resolution rate | ≥ 100.0 % | 100.0 % | met |" in markdown
        assert "| alice | 3 | 1 | 2 | 3 min | 3 min | 1.5 h | 3.5 | 50.0 % | 85.0 | Resolution rate, Response time, mean |" in markdown
        page = (await api.client.get(f"/reviews/{review['id']}/page", headers=auth("auditor"))).text
        assert "<h2>By agent</h2>" in page and '<td class="result missed">missed</td>' in page
