"""Emergency incident meetings (seed 000 §2(1)3, §3(3), §4)."""

from states.common import HAS_ACTION_ITEM, HAS_CAUSE, NO_OPEN_ACTION_ITEM, SHARED_ACTIONS, action_item_actions
from states.spec import SUPERVISOR, Action, Field, KindSpec

INCIDENT_CAUSES = ("process", "system", "human", "other")

INCIDENT = KindSpec(
    kind="incident",
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
        Action("start_analysis", ("report",), "analyse", description="open the root-cause discussion"),
        Action(
            "record_cause",
            ("analyse",),
            fields=(Field("category", choices=INCIDENT_CAUSES), Field("description")),
        ),
        Action("plan_measures", ("analyse",), "remediate", guards=(HAS_CAUSE,)),
        *action_item_actions(("analyse", "remediate")),
        Action("measures_done", ("remediate",), "follow_up", guards=(HAS_ACTION_ITEM, NO_OPEN_ACTION_ITEM)),
        Action(
            "close",
            ("follow_up",),
            "closed",
            roles=SUPERVISOR,
            fields=(Field("effect"), Field("lessons_learned"), Field("minutes", max_length=100_000)),
            description="publish the minutes and close the meeting",
        ),
        Action(
            "open_improvement_plan",
            ("follow_up", "closed"),
            roles=SUPERVISOR,
            fields=(
                Field("title", required=False, max_length=500),
                Field("problem", required=False),
                Field("metric", required=False, max_length=500),
                Field("baseline", "number", required=False),
                Field("plan_id", required=False, max_length=64),  # set by the workflow to the new plan's id
            ),
            description="lessons learned become an improvement plan, linked both ways",
        ),
        *SHARED_ACTIONS,
    ),
)
