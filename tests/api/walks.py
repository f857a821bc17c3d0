"""Every kind's full walk as (role, action, data): shared by the lifecycle and durability tests."""

DUE = "2030-01-01T09:00:00Z"

COMPLAINT_WALK = [
    ("agent", "acknowledge", None),
    ("agent", "comment", None),
    ("supervisor", "assign", {"owner": "bo"}),
    ("agent", "start_analysis", None),
    ("agent", "record_findings", {"findings": "the parcel was left at the wrong station"}),
    ("agent", "propose_remedy", {"solution": "redeliver and refund shipping"}),
    ("agent", "complete_remedy", {"resolution": "redelivered"}),
    ("agent", "record_satisfaction", {"satisfied": False, "score": 2}),
    ("agent", "complete_remedy", {"resolution": "refunded shipping as well"}),
    ("agent", "record_satisfaction", {"satisfied": True, "score": 5}),
    ("agent", "reopen", {"reason": "the customer called back"}),
    ("supervisor", "dismiss", {"reason": "the parcel was delivered as agreed"}),
]
COMPLAINT_STATES = [
    "report", "report", "report", "analyse", "analyse", "remediate", "follow_up",
    "remediate", "follow_up", "closed", "analyse", "closed",
]  # fmt: skip

FEEDBACK_WALK = [
    ("agent", "classify", {"category": "logistics"}),
    ("agent", "route", {"department": "warehouse"}),
    ("agent", "record_result", {"result": "packing changed"}),
    ("agent", "record_satisfaction", {"satisfied": False}),
    ("agent", "record_result", {"result": "packing changed again"}),
    ("agent", "record_satisfaction", {"satisfied": True, "score": 4}),
]
FEEDBACK_STATES = ["analyse", "remediate", "follow_up", "remediate", "follow_up", "closed"]

INCIDENT_WALK = [
    ("supervisor", "start_analysis", None),
    ("agent", "record_cause", {"category": "system", "description": "order service timed out"}),
    ("agent", "add_action_item", {"title": "add a circuit breaker", "owner": "tech", "due": DUE}),
    ("supervisor", "plan_measures", None),
    ("agent", "complete_action_item", {"item_id": "item-1", "outcome": "deployed"}),
    ("agent", "measures_done", None),
    ("supervisor", "close", {"effect": "no time-outs since", "lessons_learned": "load-test", "minutes": "会议纪要"}),
]
INCIDENT_STATES = ["analyse", "analyse", "analyse", "remediate", "remediate", "follow_up", "closed"]

IMPROVEMENT_WALK = [
    ("supervisor", "start_analysis", None),
    ("agent", "record_cause", {"category": "training", "description": "new agents lack product knowledge"}),
    ("supervisor", "plan_measures", None),
    ("agent", "add_action_item", {"title": "weekly product training", "owner": "sam", "due": DUE}),
    ("agent", "complete_action_item", {"item_id": "item-1", "outcome": "four sessions held"}),
    ("agent", "evaluate", None),
    ("supervisor", "record_effect", {"effective": False, "after_value": 0.71}),
    ("supervisor", "plan_measures", None),
    ("agent", "evaluate", None),
    ("supervisor", "record_effect", {"effective": True, "after_value": 0.93}),
]
IMPROVEMENT_STATES = [
    "analyse", "analyse", "remediate", "remediate", "remediate", "follow_up", "analyse", "remediate", "follow_up", "closed",
]  # fmt: skip

WALKS = {
    "complaint": ("agent", COMPLAINT_WALK, COMPLAINT_STATES),
    "feedback": ("agent", FEEDBACK_WALK, FEEDBACK_STATES),
    "incident": ("supervisor", INCIDENT_WALK, INCIDENT_STATES),
    "improvement_plan": ("supervisor", IMPROVEMENT_WALK, IMPROVEMENT_STATES),
}
