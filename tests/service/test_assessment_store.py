"""Assessments in the read model, on SQLite and PostgreSQL: made for every enabled agent, scored,
finalised for good, every change logged, summarised for the monthly review."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from service.assessments import AssessmentFinal, Assessments, assessment_summary
from service.directory import Directory
from service.teams import Department
from states.assessment_periods import parse_period_key
from states.case import Actor
from states.vocabulary import AssessmentStatus, Role
from tests.service.kpi_cases import project_all, reported_case

BEIJING = ZoneInfo("Asia/Shanghai")
SAM = Actor("sam", Role.SUPERVISOR)


async def _team(read_model) -> None:
    directory = Directory(read_model)
    for name, role in (("sam", Role.SUPERVISOR), ("ann", Role.AGENT), ("bob", Role.AGENT), ("gone", Role.AGENT)):
        await directory.add(name, role, "a long password for tests")
    await directory.disable("gone")
    await Department(read_model).add_team(
        "sam", {"name": "north", "site": "总部", "supervisors": ["sam"], "members": ["ann", "bob"], "assignment": "none"}
    )


async def test_assessments_are_made_scored_and_finalised_for_good(read_model):
    await _team(read_model)
    late = reported_case("Q4-1", "complaint", datetime(2026, 11, 30, 15, 30, tzinfo=UTC), late=True, first_response=9000, owner="ann")
    await project_all(read_model, [late])
    assessments = Assessments(read_model, BEIJING)
    november = parse_period_key("2026-11")

    made = await assessments.make(november, SAM)
    assert [document["agent_name"] for document in made] == ["ann", "bob"]  # every enabled agent, the disabled one left out
    ann = made[0]
    assert ann["missed"] == ["first_response_on_time_rate", "resolution_rate"] and ann["parts"]["kpi"] == 0.0  # answered late, not solved

    scored = await assessments.score(ann["id"], SAM, 70, "多练习")
    assert scored["total"] == pytest.approx((0.3 * 0 + 0.2 * 70) / 0.5)

    finalised = await assessments.finalise(ann["id"], SAM)
    assert finalised["status"] == AssessmentStatus.FINALISED
    with pytest.raises(AssessmentFinal):
        await assessments.self_assess(ann["id"], Actor("ann", Role.AGENT), 90, "")
    assert (await assessments.make(november, SAM, ["ann"]))[0]["version"] == finalised["version"]

    log = await assessments.log(ann["id"], SAM)
    assert [entry["change"] for entry in log] == ["made", "scored", "finalised"]
    summary = await assessment_summary(read_model.engine, november)
    assert summary["below_target"] == ["ann"] and [row["agent_name"] for row in summary["agents"]] == ["ann", "bob"]
