"""Coaching plans (辅导计划): an improvement plan for an agent below target, measuring itself on that
agent's missed KPI (`<kpi>?owner=<agent>`, service/plan_measures.py), linked from the assessment."""

from __future__ import annotations

import hashlib
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import urlencode

from service.assessments import AssessmentConflict, Assessments
from service.cases import CaseRefused, Cases
from states.case import Actor, Report, parse_time
from states.errors import InvalidData
from states.ids import case_id
from states.vocabulary import Kind

COACHED_AGENT = "coached_agent"  # the improvement plan's data field naming the agent it coaches
ASSESSMENT = "assessment"  # and the assessment it comes from


async def open_coaching(
    assessments: Assessments,
    cases: Cases,
    assessment_id: str,
    actor: Actor,
    request_id: str,
    kpi: str | None,
    words: Callable[[dict[str, Any], str], Awaitable[tuple[str, str]]],
) -> dict[str, Any]:
    """Open the plan (as the supervisor, through the cases' own report path) and record it on the
    assessment. `words`: the plan's title and description for the assessment and KPI."""
    document = await assessments.coaching_allowed(assessment_id, actor)
    if not document["missed"]:
        raise AssessmentConflict(f"{assessment_id} missed no target: there is nothing to coach")
    if kpi is None:
        kpi = document["missed"][0]
    elif kpi not in document["missed"]:
        raise InvalidData("kpi", f"must be a missed target's KPI: {', '.join(document['missed'])}")
    agent = document["agent_name"]
    metric = f"{kpi}?{urlencode({'owner': agent})}"
    title, description = await words(document, kpi)
    report = Report(
        kind=Kind.IMPROVEMENT_PLAN,
        title=title,
        description=description,
        data={"problem": kpi, "metric": metric, COACHED_AGENT: agent, ASSESSMENT: assessment_id},
    )
    plan_id = coaching_plan_id(assessment_id, document["to"])
    try:
        await cases.open(report, actor, None, request_id, plan_id)
    except CaseRefused as refused:
        if refused.kind != "AlreadyReported":
            raise
        # Opened already, by a request at the same moment or one that stopped before linking it:
        # linking it again is refused if the other linked it (record_coaching checks again).
    return await assessments.record_coaching(assessment_id, actor, plan_id, metric)


def coaching_plan_id(assessment_id: str, period_end: str) -> str:
    """One plan per assessment, however many ask at once: its case id is derived from the assessment's."""
    millis = int(parse_time(period_end).timestamp() * 1000)
    return case_id(millis, int.from_bytes(hashlib.sha256(assessment_id.encode()).digest()[:10], "big"))
