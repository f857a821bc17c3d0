"""Emergency incident meetings (seed 000 §2(1)3, §3(3), §4)."""

from typing import Any

from states.case import CaseState, Report
from states.common import (
    ATTENDEE_FIELDS,
    HAS_ACTION_ITEM,
    HAS_CAUSE,
    MINUTES_FIELDS,
    MINUTES_PREFILL,
    MINUTES_PUBLISHED_AT,
    NO_OPEN_ACTION_ITEM,
    SHARED_ACTIONS,
    action_item_actions,
    publish_minutes,
    record_cause,
)
from states.errors import InvalidData
from states.spec import AGENT_AND_SUPERVISOR, SUPERVISOR, Action, Context, Field, KindSpec, Opens, Tells, record_only
from states.vocabulary import OPEN_PHASES, Kind, MessageKind, Phase, RefusalCode, Relation, SystemAction

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


def _minutes_first(case: CaseState, data: dict[str, Any]) -> dict[str, Any]:
    """`close` needs the minutes: published on their own action (publish_minutes), or — as before that
    action existed — given to `close` itself as one text. The old way stays: recorded histories closed
    with their minutes inside `close` replay unchanged, an incident already in follow_up when this
    shipped closes as it would have, and API clients of v1 keep working; no workflow patch needed."""
    if not case.data.get(MINUTES_PUBLISHED_AT) and not data.get("minutes"):
        raise InvalidData("data.minutes", "publish the minutes first (publish_minutes), or give them here", RefusalCode.MISSING_FIELD)
    return data


def _take_host(case: CaseState, data: dict[str, Any], ctx: Context) -> dict[str, Any]:
    assert ctx.authority is not None, "states/ownership.py refuses take_host by no person"
    case.data["host"] = case.owner = ctx.authority.name
    return {**data, "host": case.owner, "owner": case.owner}


def _some_attendee(case: CaseState, data: dict[str, Any]) -> dict[str, Any]:
    if not any(data.get(field.name) is not None for field in ATTENDEE_FIELDS):
        raise InvalidData("data.host", "give a host, a recorder or participants", RefusalCode.MISSING_FIELD)
    return data


TAKE_HOST = Action(
    "take_host",
    OPEN_PHASES,
    roles=SUPERVISOR,
    effect=_take_host,
    adds=frozenset({"host", "owner"}),
    by_person=True,
    description="a supervisor takes the emergency as its host (and owner)",
)
SET_ATTENDEES = Action(
    "set_attendees",
    OPEN_PHASES,
    roles=AGENT_AND_SUPERVISOR,
    fields=ATTENDEE_FIELDS,
    prepare=_some_attendee,
    attendees_only=("host",),
    message=MessageKind.ATTENDEE_NAMED,
    description="set or change the host, recorder or participants (supervisors and the host)",
)
PUBLISH_MINUTES = Action(
    "publish_minutes",
    # From the root-cause discussion on: emergency minutes are published promptly (seed 000 §4(3)),
    # not only once the remediation is done; `close` still needs them.
    (Phase.ANALYSE, Phase.REMEDIATE, Phase.FOLLOW_UP),
    roles=AGENT_AND_SUPERVISOR,
    fields=MINUTES_FIELDS,
    effect=publish_minutes,
    prefill=MINUTES_PREFILL,
    attendees_only=("host", "recorder"),
    message=MessageKind.MINUTES_PUBLISHED,
    meets_target="minutes",
    description="publish the minutes (会议纪要), each part its own field; before closing",
)


def _closed_notice(incident: CaseState, data: dict[str, Any]) -> dict[str, Any]:
    return {"incident_id": incident.id, "effect": data.get("effect")}


INCIDENT = KindSpec(
    kind=Kind.INCIDENT,
    description="an ad-hoc emergency meeting about a major problem",
    # Any agent who discovers a major problem may raise one (seed 000 §3(3)1); the supervisors are told.
    create_roles=AGENT_AND_SUPERVISOR,
    report_message=MessageKind.EMERGENCY_RAISED,
    report_fields=(
        Field("occurred_at", "datetime", required=False),
        Field("location", required=False, max_length=500),
        Field("impact", required=False),
        Field("consequences", required=False),
        # Plain names here, as before (set_attendees checks them against the directory).
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
        TAKE_HOST,
        SET_ATTENDEES,
        PUBLISH_MINUTES,
        Action(
            "close",
            (Phase.FOLLOW_UP,),
            Phase.CLOSED,
            roles=SUPERVISOR,
            fields=(Field("effect"), Field("lessons_learned"), Field("minutes", required=False, max_length=100_000)),
            prepare=_minutes_first,
            tells=Tells(SystemAction.INCIDENT_CLOSED, Relation.ESCALATED_FROM, _closed_notice),
            description="close the meeting once its minutes are published; the cases escalated into it are told",
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
