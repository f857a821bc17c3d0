"""Assessments' rules where people act at once or the records move: a refresh never undoes a
finalise, first makes at once make one, finalising reads the figures again and wants the
supervisor's score, quality totals scaled to 0–100 from settled checks only, configured agents,
supervisors' reach, the period's years, the log's readers."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from service.assessments import Assessments
from service.settings import User
from service.tables import quality_checks
from states.assessment_periods import parse_period_key, period_at
from states.case import Actor
from states.errors import ActionForbidden, InvalidData
from states.quality import CheckStatus
from states.vocabulary import AssessmentChange, AssessmentStatus, Role
from tests.service.test_assessment_store import SAM, _team

BEIJING = ZoneInfo("Asia/Shanghai")
NOVEMBER = parse_period_key("2026-11")
IN_NOVEMBER = datetime(2026, 11, 20, 4, tzinfo=UTC)
MANAGER = Actor("mia", Role.MANAGER)
# A scorecard whose items add up to 20, as a check's snapshot keeps the rubric it was scored on.
HALF_RUBRIC = {"items": [{"id": "knowledge", "zh": "业务知识", "en": "Product knowledge", "max": 12},
                         {"id": "attitude", "zh": "服务态度", "en": "Attitude", "max": 8}]}  # fmt: skip


async def _check(read_model, identifier: str, agent: str, status: str, total: float | None, rubric: dict | None = None) -> None:
    row = {"id": identifier, "case_id": f"case-{identifier}", "agent_name": agent, "reviewer": "q", "status": status,
           "case_closed_at": IN_NOVEMBER, "sampled_at": IN_NOVEMBER + timedelta(days=1), "scored_at": IN_NOVEMBER + timedelta(days=2),
           "total": total, "version": 1, "snapshot": {"rubric": rubric} if rubric else {}}  # fmt: skip
    async with read_model.engine.begin() as connection:
        await connection.execute(quality_checks.insert().values(row))


async def test_first_makes_at_once_make_one_and_a_refresh_never_undoes_a_finalise(read_model):
    await _team(read_model)
    assessments = Assessments(read_model, BEIJING)
    first = await asyncio.gather(*(assessments.make(NOVEMBER, SAM, ["ann"]) for _ in range(3)))
    identifier = first[0][0]["id"]
    changes = [entry["change"] for entry in await assessments.log(identifier, SAM)]
    assert changes.count(AssessmentChange.MADE) == 1 and len(changes) == 3

    await assessments.score(identifier, SAM, 80, "")
    finalised, _ = await asyncio.gather(assessments.finalise(identifier, SAM), assessments.make(NOVEMBER, SAM, ["ann"]))
    document = await assessments.get(identifier, SAM)
    assert finalised["status"] == document["status"] == AssessmentStatus.FINALISED
    assert document["supervisor_score"]["score"] == 80
    log = [entry["change"] for entry in await assessments.log(identifier, SAM)]
    assert log.count(AssessmentChange.FINALISED) == 1 and log.index(AssessmentChange.FINALISED) > log.index(AssessmentChange.SCORED)


async def test_a_refresh_racing_a_score_keeps_the_score(read_model):
    await _team(read_model)
    assessments = Assessments(read_model, BEIJING)
    identifier = (await assessments.make(NOVEMBER, SAM, ["ann"]))[0]["id"]
    await asyncio.gather(assessments.make(NOVEMBER, SAM, ["ann"]), assessments.score(identifier, SAM, 66, "ok"))
    assert (await assessments.get(identifier, SAM))["supervisor_score"]["score"] == 66


async def test_finalising_reads_the_figures_again_and_wants_the_supervisors_score(read_model):
    await _team(read_model)
    assessments = Assessments(read_model, BEIJING)
    identifier = (await assessments.make(NOVEMBER, SAM, ["ann"]))[0]["id"]
    with pytest.raises(InvalidData) as refused:
        await assessments.finalise(identifier, SAM)
    assert refused.value.field == "supervisor_score"
    await _check(read_model, "late-settled", "ann", CheckStatus.FINAL, 90.0)  # settled after the make
    await assessments.score(identifier, SAM, 70, "")
    finalised = await assessments.finalise(identifier, SAM)
    assert finalised["quality_score"] == {"mean": 90.0, "checks": 1} and finalised["parts"]["quality"] == 90.0


async def test_quality_counts_settled_checks_scaled_to_a_hundred_and_reports_pending_ones(read_model):
    await _team(read_model)
    await _check(read_model, "final", "ann", CheckStatus.FINAL, 40.0)
    await _check(read_model, "decided", "ann", CheckStatus.DECIDED, 30.0)
    await _check(read_model, "own-rubric", "ann", CheckStatus.FINAL, 18.0, HALF_RUBRIC)  # kept its rubric: 18 of 20 → 90
    await _check(read_model, "in-appeal-window", "ann", CheckStatus.SCORED, 10.0)
    await _check(read_model, "appealed", "ann", CheckStatus.APPEALED, 5.0)
    await _check(read_model, "unscored", "ann", CheckStatus.SAMPLED, None)
    # The rubric in force adds up to 50 (for the checks that kept none): totals 40 and 30 are 80 and 60 out of 100.
    made = (await Assessments(read_model, BEIJING, quality_out_of=50).make(NOVEMBER, SAM, ["ann"]))[0]
    assert made["quality_score"] == {"mean": pytest.approx((80 + 60 + 90) / 3), "checks": 3} and made["quality_pending"] == 3


async def test_agents_configured_in_casework_users_are_assessed_and_supervisors_reach_their_teams_only(read_model):
    await _team(read_model)
    configured = [User("cleo", Role.AGENT, "hash"), User("gone", Role.AGENT, "hash"), User("vic", Role.SUPERVISOR, "hash")]
    assessments = Assessments(read_model, BEIJING, configured_users=configured)
    # The manager: every enabled agent, directory and CASEWORK_USERS alike (the directory's disabled one stays out).
    assert [document["agent_name"] for document in await assessments.make(NOVEMBER, MANAGER)] == ["ann", "bob", "cleo"]
    # Sam leads north (ann, bob): by default those only; cleo is in no team, so named she is Sam's to assess.
    assert [document["agent_name"] for document in await assessments.make(NOVEMBER, SAM)] == ["ann", "bob"]
    assert [document["agent_name"] for document in await assessments.make(NOVEMBER, SAM, ["cleo"])] == ["cleo"]
    # Vic leads no team: named agents of north are refused.
    with pytest.raises(ActionForbidden):
        await assessments.make(NOVEMBER, Actor("vic", Role.SUPERVISOR), ["ann"])


async def test_the_log_is_read_by_supervisors_and_the_agent_never_by_a_team_mate(read_model):
    await _team(read_model)
    assessments = Assessments(read_model, BEIJING)
    identifier = (await assessments.make(NOVEMBER, SAM, ["ann"]))[0]["id"]
    await assessments.peer_score(identifier, Actor("bob", Role.AGENT), 70)
    with pytest.raises(ActionForbidden):
        await assessments.log(identifier, Actor("bob", Role.AGENT))
    full = await assessments.log(identifier, Actor("ada", Role.AUDITOR))
    assert full[-1]["actor"]["name"] == "bob" and full[-1]["data"]["score"] == 70
    own = await assessments.log(identifier, Actor("ann", Role.AGENT))
    assert own[-1]["change"] == AssessmentChange.PEER_SCORED and own[-1]["actor"]["name"] is None and own[-1]["data"] == {}
    # The assessed agent sees the peer scores' mean and count, not who gave which.
    seen = await assessments.get(identifier, Actor("ann", Role.AGENT))
    assert seen["peer_scores"] == [] and seen["peers"] == {"mean": 70.0, "count": 1}


@pytest.mark.parametrize("key", ["0000", "0000-01", "0001-Q1", "9999"])
def test_a_period_key_outside_the_years_is_refused_naming_the_field(key):
    with pytest.raises(InvalidData) as refused:
        parse_period_key(key)
    assert refused.value.field == "period"


def test_a_moment_whose_period_ends_past_year_9999_is_refused_naming_the_field():
    with pytest.raises(InvalidData) as refused:
        period_at(datetime(9998, 12, 31, 20, tzinfo=UTC), "yearly", BEIJING, "from")  # 9999-01-01 in Beijing
    assert refused.value.field == "from"
    assert period_at(datetime(9998, 6, 1, tzinfo=UTC), "yearly", BEIJING, "from").bounds(BEIJING)[1].year == 9998
