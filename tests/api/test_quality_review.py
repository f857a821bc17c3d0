"""Quality checks (质检) on the real stack, the guards review asked for: who decides an appeal (a
supervisor of the agent's team who neither handled nor scored the case, or a manager), whom a
supervisor samples, bounded texts, and the score's comment as its deductions' reason."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from service.directory import Directory
from service.teams import Department
from states.case import format_time
from states.scorecard import MAX_TEXT
from tests.api.test_quality import FULL, QUINN, TO_CLOSE, closed_case, post, quality_stack, sample
from tests.conftest import MANAGER, auth

SUE = {"Authorization": "Bearer sue-token-0123456789"}
MIA = {"Authorization": "Bearer manager-token-0123456789"}


async def teams(api, **led_by: list[str]) -> None:
    """Teams by their supervisor: each one's members."""
    directory, department = Directory(api.read_model), Department(api.read_model)
    for name, role in (("sam", "supervisor"), ("sue", "supervisor"), ("ann", "agent"), ("bob", "agent")):
        await directory.add(name, role, None)
    for supervisor, members in led_by.items():
        await department.add_team(MANAGER, {"name": f"{supervisor}组", "site": "总部", "supervisors": [supervisor], "members": members})


async def test_an_appeal_is_decided_by_a_supervisor_of_the_agents_team_who_did_not_score_it(temporal_env, stack_settings, tmp_path):
    async with quality_stack(temporal_env, stack_settings, tmp_path, appeal_seconds=3600, more_users=",sue:supervisor:sue-token-0123456789") as api:
        await teams(api, sam=["ann"], sue=["bob"])
        start = datetime.now(UTC) - timedelta(seconds=1)
        await closed_case(api, breach=False, reopen=False)
        assert await sample(api, start, headers=SUE) == [], "ann is not in a team sue leads"
        (check,) = await sample(api, start)
        path = f"/quality/checks/{check['id']}"
        await post(api, f"{path}/score", {"items": {**FULL, "attitude": 10}, "comment": "语气生硬"}, auth("supervisor"), 200)
        await post(api, f"{path}/appeal", {"reason": "客户辱骂在先"}, auth("agent"), 200)

        await post(api, f"{path}/decide", {"upheld": True, "comment": "维持"}, auth("supervisor"), 403)  # sam gave the score
        await post(api, f"{path}/decide", {"upheld": True, "comment": "维持"}, SUE, 403)  # not her team
        refused = await post(api, f"{path}/decide", {"upheld": True, "items": FULL, "comment": "维持"}, MIA, 422)
        assert refused["field"] == "items"
        decided = await post(api, f"{path}/decide", {"upheld": True, "comment": "维持"}, MIA, 200)
        assert decided["status"] == "decided" and decided["total"] == 95


async def test_a_score_takes_its_comment_as_reason_and_refuses_too_long_a_text(temporal_env, stack_settings, tmp_path):
    async with quality_stack(temporal_env, stack_settings, tmp_path, appeal_seconds=3600) as api:
        start = datetime.now(UTC) - timedelta(seconds=1)
        await closed_case(api, breach=False, reopen=False)
        (check,) = await sample(api, start)
        assert set(check) >= {"id", "case_id", "agent", "reviewer", "status", "items", "deductions", "total", "appeal", "sampled_because"}
        path = f"/quality/checks/{check['id']}"
        too_long = "长" * (MAX_TEXT + 1)
        for body, field in (({"items": FULL, "comment": too_long}, "comment"), ({"items": FULL, "reasons": {"attitude": too_long}}, "reasons")):
            response = await api.client.post(f"{path}/score", json=body, headers=QUINN)
            assert response.status_code == 422 and response.json()["field"].startswith(field), response.text
        scored = await post(api, f"{path}/score", {"items": {**FULL, "attitude": 10}, "comment": "语气生硬"}, QUINN, 200)
        assert [(d["item"], d["points"], d["reason"]) for d in scored["deductions"]] == [("attitude", 5, "语气生硬")]
        response = await api.client.post(f"{path}/appeal", json={"reason": too_long}, headers=auth("agent"))
        assert response.status_code == 422 and response.json()["field"] == "reason", response.text


async def test_a_sample_spans_at_most_92_days(temporal_env, stack_settings, tmp_path):
    async with quality_stack(temporal_env, stack_settings, tmp_path, appeal_seconds=3600) as api:
        period = {"from": "2026-01-01T00:00:00Z", "to": "2026-04-03T00:00:01Z"}
        response = await api.client.post("/quality/samples", json=period, headers=auth("supervisor"))
        assert response.status_code == 422 and response.json()["field"] == "to", response.text
        response = await api.client.post("/quality/samples", json={**period, "seed": "mine"}, headers=auth("supervisor"))
        assert response.status_code in (400, 422), "the seed is the department's, not the caller's"


async def test_a_case_checked_again_after_a_later_closing_loses_points_only_for_what_happened_since(temporal_env, stack_settings, tmp_path):
    async with quality_stack(temporal_env, stack_settings, tmp_path, appeal_seconds=3600) as api:
        start = datetime.now(UTC) - timedelta(seconds=1)
        case = await closed_case(api, breach=True, reopen=False)
        (first,) = await sample(api, start)
        assert {d["reason"] for d in first["deductions"] if d["automatic"]} == {"breach"}
        await post(api, f"/quality/checks/{first['id']}/score", {"items": FULL}, QUINN, 200)

        await api.act(case["id"], "reopen", data={"reason": "the customer called back"})
        for action, role, data in TO_CLOSE[1:]:
            await api.act(case["id"], action, role=role, data=data)
        (second,) = await sample(api, start)
        assert second["id"] != first["id"] and second["sampled_because"] == ["reopened"]
        assert [(d["reason"], d["points"]) for d in second["deductions"] if d["automatic"]] == [("reopen", 1)]


async def test_random_checks_already_drawn_in_a_period_count_against_n(temporal_env, stack_settings, tmp_path):
    async with quality_stack(temporal_env, stack_settings, tmp_path, appeal_seconds=3600, per_agent=1) as api:
        start = datetime.now(UTC) - timedelta(seconds=1)
        await closed_case(api, breach=False, reopen=False)
        middle = datetime.now(UTC)
        await closed_case(api, breach=False, reopen=False)
        first_half = {"from": format_time(start), "to": format_time(middle)}
        response = await api.client.post("/quality/samples", json=first_half, headers=auth("supervisor"))
        assert [check["sampled_because"] for check in response.json()["items"]] == [["random"]], response.text
        assert await sample(api, start) == [], "the period's one random check is drawn already"
