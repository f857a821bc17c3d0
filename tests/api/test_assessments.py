"""Assessments (考核) over HTTP: made for a month cut in Beijing time, scored by supervisor, agent and
team-mate, finalised for good, a coaching plan measuring the agent's missed KPI, the monthly review's
summary, and the schedules that make them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from service.assessments import Assessments
from service.review_render import to_markdown
from service.reviews import Period, Reviews
from service.tables import quality_checks
from states.assessment_periods import period_before
from states.case import Actor
from tests.api.console_client import Browser, ensure_people
from tests.api.department_people import PASSWORD, People
from tests.conftest import auth
from tests.service.kpi_cases import project_all, reported_case
from tests.support import eventually
from workflows.assessments import CRON, ensure_assessment_schedules, schedule_id

BEIJING = ZoneInfo("Asia/Shanghai")
LAST_EVENING_OF_NOVEMBER = datetime(2026, 11, 30, 15, 30, tzinfo=UTC)  # 23:30 in Beijing
NOVEMBER = {"period": "monthly", "from": "2026-11-15T00:00:00Z"}


async def _department(stack):
    people = People(stack.read_model, stack.api.client)
    supervisor = await people.person("supervisor", "sup")
    other_supervisor = await people.person("supervisor", "other-sup")
    ann, bob, carl = [await people.person("agent", name) for name in ("ann", "bob", "carl")]
    await people.team("north", [supervisor], [ann, bob])
    await people.team("south", [other_supervisor], [carl])
    return supervisor, other_supervisor, ann, bob, carl


async def _seed_november(stack, agent: str) -> None:
    """One case of the agent's in November as Beijing reads it (answered late, solved, customer
    satisfied), one an hour later (December there), and one quality check scored 88."""
    await project_all(
        stack.read_model,
        [
            reported_case(
                f"N-{agent}",
                "complaint",
                LAST_EVENING_OF_NOVEMBER,
                late=True,
                first_response=7200,
                closed_after=1200 + 3600,
                closed_by="record_satisfaction",
                satisfied=True,
                score=5,
                owner=agent,
            ),
            reported_case(f"D-{agent}", "complaint", LAST_EVENING_OF_NOVEMBER + timedelta(hours=1), late=True, owner=agent),
        ],
    )
    row = {
        "id": f"qc-{agent}",
        "case_id": f"N-{agent}",
        "agent_name": agent,
        "reviewer": "q",
        "status": "final",
        "case_closed_at": LAST_EVENING_OF_NOVEMBER + timedelta(minutes=20),
        "sampled_at": LAST_EVENING_OF_NOVEMBER + timedelta(days=1),
        "scored_at": LAST_EVENING_OF_NOVEMBER + timedelta(days=2),
        "total": 88.0,
        "version": 1,
        "snapshot": {},
    }
    async with stack.read_model.engine.begin() as connection:
        await connection.execute(quality_checks.insert().values(row))


async def test_a_supervisor_assesses_november_scores_coaches_and_finalises_for_good(own_stack):
    async with own_stack() as stack:
        http = stack.api.client
        supervisor, other_supervisor, ann, bob, carl = await _department(stack)
        await _seed_november(stack, ann.name)

        # A supervisor makes the assessments of the teams they lead only.
        others = await http.post("/assessments", json={**NOVEMBER, "agents": [ann.name, carl.name]}, headers=supervisor.headers)
        assert others.status_code == 403, others.text
        made = await http.post("/assessments", json={**NOVEMBER, "agents": [ann.name, bob.name]}, headers=supervisor.headers)
        assert made.status_code == 201, made.text
        south = await http.post("/assessments", json=NOVEMBER, headers=other_supervisor.headers)
        assert [item["agent_name"] for item in south.json()["items"]] == [carl.name]
        by_agent = {item["agent_name"]: item for item in [*made.json()["items"], *south.json()["items"]]}
        assessment = by_agent[ann.name]
        assert assessment["id"] == f"asm_monthly_2026-11_{ann.name}" and assessment["status"] == "draft" and assessment["team"].startswith("north")
        # The case reported at 23:30 in Beijing on 30 November counts; the one at 00:30 on 1 December does not.
        assert assessment["kpis"]["volume"] == 1
        assert assessment["missed"] == ["first_response_on_time_rate"]
        assert set(assessment["met"]) == {"resolution_rate", "satisfied_share", "handling_mean_seconds"}
        # Targets met 3 of 4 judged → 75; quality 88; satisfied 1/1 → 100; no supervisor's score yet:
        # (0.3×75 + 0.3×88 + 0.2×100) / 0.8 = (22.5 + 26.4 + 20) / 0.8 = 86.125 → 86.12 (or .13: rounding of the float)
        assert assessment["parts"]["kpi"] == 75.0 and assessment["parts"]["quality"] == 88.0 and assessment["parts"]["satisfaction"] == 100.0
        assert abs(assessment["total"] - 86.125) <= 0.005 and assessment["grade"] == "good"
        identifier = assessment["id"]

        # An agent reads only their own; a team-mate gives one peer score, never to themselves.
        assert (await http.get(f"/assessments/{identifier}", headers=ann.headers)).status_code == 200
        assert (await http.get(f"/assessments/{by_agent[carl.name]['id']}", headers=ann.headers)).status_code == 403
        own_list = (await http.get("/assessments", params={"period": "2026-11"}, headers=ann.headers)).json()["items"]
        assert [item["agent_name"] for item in own_list] == [ann.name]
        assert (await http.post(f"/assessments/{identifier}/peer", json={"score": 70}, headers=ann.headers)).status_code == 403
        assert (await http.post(f"/assessments/{identifier}/peer", json={"score": 70}, headers=carl.headers)).status_code == 403
        assert (await http.post(f"/assessments/{identifier}/peer", json={"score": 70}, headers=bob.headers)).status_code == 200
        assert (await http.post(f"/assessments/{identifier}/peer", json={"score": 90}, headers=bob.headers)).status_code == 409
        assert (await http.post(f"/assessments/{identifier}/self", json={"score": 95, "comment": "尽力了"}, headers=bob.headers)).status_code == 403
        assert (await http.post(f"/assessments/{identifier}/self", json={"score": 95, "comment": "尽力了"}, headers=ann.headers)).status_code == 200
        bad = await http.post(f"/assessments/{identifier}/score", json={"score": 101}, headers=supervisor.headers)
        assert bad.status_code == 422 and bad.json()["field"] == "score"

        # Only a supervisor of the agent's team scores; then the weights of self and peers stay 0 by default.
        assert (
            await http.post(f"/assessments/{identifier}/score", json={"score": 85, "comment": "好"}, headers=other_supervisor.headers)
        ).status_code == 403
        scored = await http.post(f"/assessments/{identifier}/score", json={"score": 85, "comment": "回复要更快"}, headers=supervisor.headers)
        assert scored.status_code == 200, scored.text
        # 0.3×75 + 0.3×88 + 0.2×100 + 0.2×85 = 22.5 + 26.4 + 20 + 17 = 85.9
        assert scored.json()["total"] == 85.9 and scored.json()["supervisor_score"]["comment"] == "回复要更快"

        # Auditors read everything and change nothing.
        assert (await http.get(f"/assessments/{identifier}", headers=auth("auditor"))).status_code == 200
        for route, body in (("score", {"score": 1}), ("self", {"score": 1}), ("peer", {"score": 1}), ("finalise", {}), ("coaching", {})):
            assert (await http.post(f"/assessments/{identifier}/{route}", json=body, headers=auth("auditor"))).status_code == 403, route
        assert (await http.post("/assessments", json=NOVEMBER, headers=auth("auditor"))).status_code == 403

        # The coaching plan: an improvement plan measuring the agent's missed KPI on their own cases.
        coached = await http.post(f"/assessments/{identifier}/coaching", json={}, headers=supervisor.headers)
        assert coached.status_code == 201, coached.text
        plan_id = coached.json()["coaching_plan"]
        plan = (await http.get(f"/cases/{plan_id}", headers=supervisor.headers)).json()
        assert plan["kind"] == "improvement_plan"
        # Read by people, in the department's language: the KPI's label, its target and value, the month.
        assert "的辅导计划：响应及时率（目标 ≥" in plan["title"] and plan["title"].endswith("· 2026年11月"), plan["title"]
        assert "实际 0.0%" in plan["title"] and "{" not in plan["description"] and "2026年11月" in plan["description"]
        assert plan["data"]["metric"] == f"first_response_on_time_rate?owner={ann.name}" and plan["data"]["coached_agent"] == ann.name
        assert plan["data"]["baseline_measured"]["kpi"] == "first_response_on_time_rate"
        assert plan["data"]["baseline_measured"]["filters"] == {"owner": ann.name}

        # Re-making a draft refreshes its figures and keeps the scores given.
        remade = await http.post("/assessments", json={**NOVEMBER, "agents": [ann.name]}, headers=supervisor.headers)
        assert remade.json()["items"][0]["supervisor_score"]["score"] == 85 and remade.json()["items"][0]["coaching_plan"] == plan_id

        finalised = await http.post(f"/assessments/{identifier}/finalise", headers=supervisor.headers)
        assert finalised.status_code == 200 and finalised.json()["status"] == "finalised"
        ready = [item for item in (await http.get("/inbox", headers=ann.headers)).json()["items"] if item["kind"] == "assessment_ready"]
        assert len(ready) == 1 and "2026-11" in ready[0]["subject"]
        for route, who, body in (("score", supervisor, {"score": 50}), ("self", ann, {"score": 50}), ("finalise", supervisor, {})):
            refused = await http.post(f"/assessments/{identifier}/{route}", json=body, headers=who.headers)
            assert refused.status_code == 409 and refused.json()["code"] == "closed_for_good", route
        again = await http.post("/assessments", json={**NOVEMBER, "agents": [ann.name]}, headers=supervisor.headers)
        assert again.json()["items"][0]["total"] == 85.9 and again.json()["items"][0]["status"] == "finalised"

        log = (await http.get(f"/assessments/{identifier}/log", headers=auth("auditor"))).json()["items"]
        assert [entry["change"] for entry in log] == ["made", "peer_scored", "self_assessed", "scored", "coaching_opened", "refreshed", "finalised"]
        assert log[3]["actor"] == {"name": supervisor.name, "role": "supervisor"}

        # The monthly review names who is below target.
        review = await Reviews(stack.read_model, BEIJING).make("monthly", Period(*_november()), "sam", datetime.now(UTC))
        summary = review["assessments"]
        assert summary["period"] == "2026-11" and ann.name in summary["below_target"] and bob.name not in summary["below_target"]
        markdown = to_markdown(review)
        assert "Below target" in markdown and ann.name in markdown.split("Below target")[1]

        # In the console: the review page names them; a form without its CSRF token changes nothing;
        # an auditor's page has no button that changes anything.
        await ensure_people(stack.read_model)
        console = Browser(str(http.base_url))
        try:
            await console.sign_in("sam")
            html = (await console.get(f"/ui/reviews/{review['id']}")).text
            assert "未达标人员" in html and ann.name in html.split("未达标人员")[1]
            summary_html = html.split("data-review-assessments")[1]
            assert "已定稿" in summary_html and "草稿" in summary_html  # each row's 状态
            # Bob handled no case: nothing judged, so neither 全部达标 nor 未达标 but 无数据.
            bob_row = next(row for row in summary_html.split("<tr>") if bob.name in row)
            assert "无数据" in bob_row
            listing = (await console.get("/ui/assessments", period="2026-11")).text
            bob_listed = next(row for row in listing.split("<tr data-row>") if f">{bob.name}</a>" in row)
            assert "无数据" in bob_listed and "全部达标" not in bob_listed
            bob_id = by_agent[bob.name]["id"]
            # 定稿 without the supervisor's score (weighted by default) is refused, said beside the button.
            lead = Browser(str(http.base_url))
            await lead.sign_in(supervisor.name, PASSWORD)
            unscored = await lead.post(f"/ui/assessments/{bob_id}/finalise", {"confirmed": "yes"})
            assert unscored.status_code == 422 and "请先给出主管评分" in unscored.text
            await lead.close()
            forged = await console.post(f"/ui/assessments/{bob_id}/score", {"score": "10"}, csrf=False)
            assert forged.status_code == 403
            assert (await http.get(f"/assessments/{bob_id}", headers=auth("auditor"))).json()["supervisor_score"] is None
            auditor = Browser(str(http.base_url))
            await auditor.sign_in("ada")
            page = (await auditor.get(f"/ui/assessments/{bob_id}")).text
            assert "定稿" not in page.split("<main")[1] and 'method="post"' not in page.split("<main")[1]
            refused = await auditor.post(f"/ui/assessments/{bob_id}/score", {"score": "10"})
            assert refused.status_code == 403
            await auditor.close()
            # Peer scores weigh nothing by default: no team-mate is asked for one (待互评), though one may be given.
            mate = Browser(str(http.base_url))
            await mate.sign_in(ann.name, PASSWORD)
            listing = (await mate.get("/ui/assessments")).text
            assert "我的考核" in listing and f'href="/ui/assessments/{bob_id}"' not in listing
            assert (await mate.post(f"/ui/assessments/{bob_id}/peer", {"score": "abc"})).status_code == 422
            assert (await mate.post(f"/ui/assessments/{bob_id}/peer", {"score": "80"})).status_code == 303
            await mate.close()
            peers = (await http.get(f"/assessments/{bob_id}", headers=auth("auditor"))).json()["peer_scores"]
            assert [(peer["name"], peer["score"]) for peer in peers] == [(ann.name, 80.0)]
        finally:
            await console.close()


def _november() -> tuple[datetime, datetime]:
    return datetime(2026, 10, 31, 16, tzinfo=UTC), datetime(2026, 11, 30, 16, tzinfo=UTC)


async def test_the_schedules_assess_every_enabled_agent_for_the_period_before(own_stack, temporal_env):
    client = temporal_env.client
    async with own_stack() as stack:
        _, _, ann, bob, carl = await _department(stack)
        await ensure_assessment_schedules(client, stack.task_queue, "Asia/Shanghai")
        await ensure_assessment_schedules(client, stack.task_queue, "Asia/Shanghai")  # a second worker starting changes nothing
        for cadence in CRON:
            described = await client.get_schedule_handle(schedule_id(cadence)).describe()
            assert described.schedule.spec.time_zone_name == "Asia/Shanghai"
        await client.get_schedule_handle(schedule_id("monthly")).trigger()
        month = period_before(datetime.now(UTC), "monthly", BEIJING)
        assessments = Assessments(stack.read_model, BEIJING)

        async def made():
            found = {item["agent_name"] for item in await assessments.find(Actor("ada", "auditor"), period=month.key)}
            return found >= {ann.name, bob.name, carl.name}

        await eventually(made, timeout=30, what="the month's assessments")
        for cadence in CRON:
            await client.get_schedule_handle(schedule_id(cadence)).delete()
