"""Feedback tickets (seed 001 §3(2), §6): classify, route to a department, report back."""

from states.common import ESCALATE, SHARED_ACTIONS, record_satisfaction, reopen
from states.spec import CASE_CATEGORIES, Action, Field, KindSpec
from states.vocabulary import Kind, Phase

FEEDBACK = KindSpec(
    kind=Kind.FEEDBACK,
    description="a customer's feedback, routed to the responsible department",
    report_fields=(
        Field("occurred_at", "datetime", required=False),
        Field("product", required=False, max_length=500),
    ),
    actions=(
        Action(
            "classify",
            (Phase.REPORT,),
            Phase.ANALYSE,
            fields=(Field("category", choices=CASE_CATEGORIES),),
            first_response=True,
        ),
        Action("route", (Phase.ANALYSE,), Phase.REMEDIATE, fields=(Field("department", max_length=200),)),
        Action("record_result", (Phase.REMEDIATE,), Phase.FOLLOW_UP, fields=(Field("result"),)),
        record_satisfaction(),
        reopen(),
        ESCALATE,
        *SHARED_ACTIONS,
    ),
)
