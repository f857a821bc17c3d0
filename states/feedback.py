"""Feedback tickets (seed 001 §3(2), §6): classify, route to a department, report back."""

from states.common import ESCALATE, SHARED_ACTIONS, record_satisfaction, reopen
from states.spec import CASE_CATEGORIES, Action, Field, KindSpec

FEEDBACK = KindSpec(
    kind="feedback",
    description="a customer's feedback, routed to the responsible department",
    report_fields=(
        Field("occurred_at", "datetime", required=False),
        Field("product", required=False, max_length=500),
    ),
    actions=(
        Action("classify", ("report",), "analyse", fields=(Field("category", choices=CASE_CATEGORIES),)),
        Action("route", ("analyse",), "remediate", fields=(Field("department", max_length=200),)),
        Action("record_result", ("remediate",), "follow_up", fields=(Field("result"),)),
        record_satisfaction(),
        reopen(),
        ESCALATE,
        *SHARED_ACTIONS,
    ),
)
