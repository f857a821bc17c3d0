"""Service-quality improvement plans (seeds 004 §6(3), 000 §3(2)3, 002 §3(5)3)."""

from typing import Any

from states.case import CaseState
from states.common import HAS_CAUSE, NO_OPEN_ACTION_ITEM, SHARED_ACTIONS, action_item_actions, record_cause
from states.errors import InvalidData
from states.spec import SUPERVISOR, Action, Branch, Field, KindSpec
from states.vocabulary import Kind, Phase

IMPROVEMENT_CAUSES = ("training", "process", "attitude", "tooling", "other")


def _after_value_or_measured(case: CaseState, data: dict[str, Any]) -> dict[str, Any]:
    if "after_value" in data:
        return data
    value = case.data.get("measured_after_value")
    if value is None:
        raise InvalidData("data.after_value", "is required: no after-value was measured at evaluate to take instead")
    return {**data, "after_value": value}


IMPROVEMENT_PLAN = KindSpec(
    kind=Kind.IMPROVEMENT_PLAN,
    description="a plan to improve a service-quality metric, judged against its baseline",
    create_roles=SUPERVISOR,
    report_fields=(
        Field("problem", required=False),
        Field("metric", required=False, max_length=500),
        Field("baseline", "number", required=False),
    ),
    actions=(
        Action("start_analysis", (Phase.REPORT,), Phase.ANALYSE, first_response=True),
        record_cause(IMPROVEMENT_CAUSES),
        Action("plan_measures", (Phase.ANALYSE,), Phase.REMEDIATE, roles=SUPERVISOR, guards=(HAS_CAUSE,)),
        *action_item_actions((Phase.ANALYSE, Phase.REMEDIATE)),
        Action(
            "evaluate",
            (Phase.REMEDIATE,),
            Phase.FOLLOW_UP,
            guards=(NO_OPEN_ACTION_ITEM,),
            measures_since="plan_measures",
            description="the plan's metric is measured over the cases reported since the measures were planned",
        ),
        Action(
            "record_effect",
            (Phase.FOLLOW_UP,),
            branch=Branch("effective", when_true=Phase.CLOSED, when_false=Phase.ANALYSE),
            roles=SUPERVISOR,
            fields=(Field("effective", "boolean"), Field("after_value", "number", required=False)),
            prepare=_after_value_or_measured,
            description="effective closes the plan; not effective goes back to analyse; without after_value, the value measured at evaluate is taken",
        ),
        *SHARED_ACTIONS,
    ),
)
