"""Complaints (seeds 001 §3(3), 003): acknowledge, verify, remedy until the customer is satisfied."""

from states.common import ESCALATE, SHARED_ACTIONS, record_satisfaction, reopen
from states.spec import CASE_CATEGORIES, SUPERVISOR, Action, Field, KindSpec
from states.vocabulary import Kind, Phase

COMPLAINT = KindSpec(
    kind=Kind.COMPLAINT,
    description="a customer's complaint, handled until the customer is satisfied",
    report_fields=(
        Field("order_ref", required=False, max_length=200),
        Field("product", required=False, max_length=500),
        Field("demand", required=False),
        Field("category", required=False, choices=CASE_CATEGORIES),
    ),
    actions=(
        Action("acknowledge", (Phase.REPORT,), first_response=True, description="first response to the customer"),
        Action("start_analysis", (Phase.REPORT,), Phase.ANALYSE, first_response=True, description="begin verifying the facts"),
        Action("record_findings", (Phase.ANALYSE,), fields=(Field("findings"),), description="what the facts show"),
        Action("propose_remedy", (Phase.ANALYSE,), Phase.REMEDIATE, fields=(Field("solution"),)),
        Action(
            "dismiss",
            (Phase.ANALYSE,),
            Phase.CLOSED,
            roles=SUPERVISOR,
            fields=(Field("reason"),),
            dismisses=True,
            description="the facts do not support the complaint",
        ),
        Action("complete_remedy", (Phase.REMEDIATE,), Phase.FOLLOW_UP, fields=(Field("resolution"),)),
        record_satisfaction(),
        reopen(),
        ESCALATE,
        *SHARED_ACTIONS,
    ),
)
