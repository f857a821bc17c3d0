"""Service-quality improvement plans (seeds 004 §6(3), 000 §3(2)3, 002 §3(5)3)."""

from states.common import HAS_CAUSE, NO_OPEN_ACTION_ITEM, SHARED_ACTIONS, action_item_actions
from states.spec import SUPERVISOR, Action, Branch, Field, KindSpec

IMPROVEMENT_CAUSES = ("training", "process", "attitude", "tooling", "other")

IMPROVEMENT_PLAN = KindSpec(
    kind="improvement_plan",
    description="a plan to improve a service-quality metric, judged against its baseline",
    create_roles=SUPERVISOR,
    report_fields=(
        Field("problem", required=False),
        Field("metric", required=False, max_length=500),
        Field("baseline", "number", required=False),
    ),
    actions=(
        Action("start_analysis", ("report",), "analyse"),
        Action(
            "record_cause",
            ("analyse",),
            fields=(Field("category", choices=IMPROVEMENT_CAUSES), Field("description")),
        ),
        Action("plan_measures", ("analyse",), "remediate", roles=SUPERVISOR, guards=(HAS_CAUSE,)),
        *action_item_actions(("analyse", "remediate")),
        Action("evaluate", ("remediate",), "follow_up", guards=(NO_OPEN_ACTION_ITEM,)),
        Action(
            "record_effect",
            ("follow_up",),
            branch=Branch("effective", when_true="closed", when_false="analyse"),
            roles=SUPERVISOR,
            fields=(Field("effective", "boolean"), Field("after_value", "number", required=False)),
            description="effective closes the plan; not effective goes back to analyse; "
            "without after_value, the value measured at evaluate is taken",
        ),
        *SHARED_ACTIONS,
    ),
)
