"""Emergency incident meetings (seed 000 §2(1)3, §3(3), §4)."""

from typing import Any

from states.case import CaseState, Report
from states.common import HAS_ACTION_ITEM, HAS_CAUSE, NO_OPEN_ACTION_ITEM, SHARED_ACTIONS, action_item_actions, record_cause
from states.spec import SUPERVISOR, Action, Field, KindSpec, Opens, Tells, record_only
from states.vocabulary import Kind, Phase, Relation, SystemAction

INCIDENT_CAUSES = ("process", "system", "human", "other")


def improvement_report(incident: CaseState, data: dict[str, Any]) -> Report:
    """An improvement plan's report, from the incident's lessons and the action's data."""
    return Report(
        kind=Kind.IMPROVEMENT_PLAN,
        title=data.get("title") or f"Improve after: {incident.title}"[:500],
        description=incident.data.get("lessons_learned", ""),
        priority=incident.priority,
        data={key: data[key] for key in ("problem", "metric", "baseline") if key in data},
    )


def _closed_notice(incident: CaseState, data: dict[str, Any]) -> dict[str, Any]:
    return {"incident_id": incident.id, "effect": data.get("effect")}


INCIDENT = KindSpec(
    kind=Kind.INCIDENT,
    description="an ad-hoc emergency meeting about a major problem",
    create_roles=SUPERVISOR,
    report_fields=(
        Field("occurred_at", "datetime", required=False),
        Field("location", required=False, max_length=500),
        Field("impact", required=False),
        Field("consequences", required=False),
        Field("host", required=False, max_length=200),
        Field("recorder", required=False, max_length=200),
        Field("participants", "string_list", required=False, max_length=200),
    ),
    actions=(
        Action("start_analysis", (Phase.REPORT,), Phase.ANALYSE, first_response=True, description="open the root-cause discussion"),
        record_cause(INCIDENT_CAUSES),
        Action("plan_measures", (Phase.ANALYSE,), Phase.REMEDIATE, guards=(HAS_CAUSE,)),
        *action_item_actions((Phase.ANALYSE, Phase.REMEDIATE)),
        Action("measures_done", (Phase.REMEDIATE,), Phase.FOLLOW_UP, guards=(HAS_ACTION_ITEM, NO_OPEN_ACTION_ITEM)),
        Action(
            "close",
            (Phase.FOLLOW_UP,),
            Phase.CLOSED,
            roles=SUPERVISOR,
            fields=(Field("effect"), Field("lessons_learned"), Field("minutes", max_length=100_000)),
            tells=Tells(SystemAction.INCIDENT_CLOSED, Relation.ESCALATED_FROM, _closed_notice),
            description="publish the minutes and close the meeting; the cases escalated into it are told",
        ),
        Action(
            "open_improvement_plan",
            (Phase.FOLLOW_UP, Phase.CLOSED),
            roles=SUPERVISOR,
            fields=(
                Field("title", required=False, max_length=500),
                Field("problem", required=False),
                Field("metric", required=False, max_length=500),
                Field("baseline", "number", required=False),
                Field("plan_id", required=False, max_length=64),  # set by the workflow to the new plan's id
            ),
            effect=record_only,
            opens=Opens(Kind.IMPROVEMENT_PLAN, "plan_id", Relation.DERIVED, Relation.SOURCE, improvement_report),
            description="lessons learned become an improvement plan, linked both ways",
        ),
        *SHARED_ACTIONS,
    ),
)
