"""Complaints (seeds 001 §3(3), 003): acknowledge, verify, remedy until the customer is satisfied."""

from states.common import ESCALATE, SHARED_ACTIONS, record_satisfaction, reopen
from states.spec import CASE_CATEGORIES, SUPERVISOR, Action, Field, KindSpec

COMPLAINT = KindSpec(
    kind="complaint",
    description="a customer's complaint, handled until the customer is satisfied",
    report_fields=(
        Field("order_ref", required=False, max_length=200),
        Field("product", required=False, max_length=500),
        Field("demand", required=False),
        Field("category", required=False, choices=CASE_CATEGORIES),
    ),
    actions=(
        Action("acknowledge", ("report",), description="first response to the customer"),
        Action("start_analysis", ("report",), "analyse", description="begin verifying the facts"),
        Action("record_findings", ("analyse",), fields=(Field("findings"),), description="what the facts show"),
        Action("propose_remedy", ("analyse",), "remediate", fields=(Field("solution"),)),
        Action(
            "dismiss",
            ("analyse",),
            "closed",
            roles=SUPERVISOR,
            fields=(Field("reason"),),
            description="the facts do not support the complaint",
        ),
        Action("complete_remedy", ("remediate",), "follow_up", fields=(Field("resolution"),)),
        record_satisfaction(),
        reopen(),
        ESCALATE,
        *SHARED_ACTIONS,
    ),
)
