"""Service-level clocks run as durable timers, with second-scale policies on a real Temporal server."""

import asyncio
from datetime import UTC, datetime, timedelta

from states.case import parse_time

FAST = {
    "warn_at": 0.5,
    "pause_in": ["follow_up"],
    "auto_escalate": [],
    "targets": {
        "complaint": {
            "normal": {"first_response": 2, "resolution": 30},
            "high": {"first_response": 1.5},
            "urgent": {"first_response": 1, "resolution": 30},
            "low": {"first_response": 60, "resolution": 60},
        },
        "feedback": {"normal": {"resolution": 3}},
    },
}


def actions(history: list[dict]) -> list[str]:
    return [event["action"] for event in history]


async def test_a_missed_first_response_warns_then_breaches_exactly_once(api_with_policy):
    async with api_with_policy(FAST) as api:
        case = await api.open()
        deadline = parse_time(case["sla"]["first_response"]["deadline"])
        assert deadline - parse_time(case["created_at"]) == timedelta(seconds=2)
        history = await api.history_with(case["id"], "sla_breached")
        await asyncio.sleep(1.5)
        history = await api.history(case["id"])
        assert actions(history).count("sla_warning") == 1 and actions(history).count("sla_breached") == 1
        warning, breach = history[1], history[2]
        assert (warning["action"], breach["action"]) == ("sla_warning", "sla_breached")
        assert breach["actor"] == {"name": "system"}
        assert breach["data"]["target"] == "first_response" and breach["data"]["deadline"] == case["sla"]["first_response"]["deadline"]
        assert breach["data"]["cause"] == {"timer": "sla.first_response", "policy": "targets.complaint.normal.first_response", "cycle": 1}
        assert parse_time(breach["at"]) >= deadline
        stored = await api.get(case["id"])
        assert stored["sla"]["first_response"]["state"] == "breached" and stored["sla_breached"] is True
        breached = await api.list(breached="true", limit=500)
        assert case["id"] in [item["id"] for item in breached["items"]]


async def test_meeting_a_target_stops_its_clock(api_with_policy):
    async with api_with_policy(FAST) as api:
        case = await api.open()
        case = await api.act(case["id"], "acknowledge")
        assert case["sla"]["first_response"]["state"] == "met"
        assert case["sla"]["resolution"]["state"] == "running"
        await asyncio.sleep(2.5)
        assert actions(await api.history(case["id"])) == ["report", "acknowledge"]


async def test_a_paused_phase_stops_the_resolution_clock_and_resumes_it(api_with_policy):
    async with api_with_policy(FAST) as api:
        case = await api.open("feedback")
        for action, data in [("classify", {"category": "account"}), ("route", {"department": "it"}), ("record_result", {"result": "fixed"})]:
            case = await api.act(case["id"], action, data=data)
        assert case["sla"]["resolution"]["state"] == "paused"
        left = case["sla"]["resolution"]["time_left_seconds"]
        await asyncio.sleep(3.5)
        assert "sla_breached" not in actions(await api.history(case["id"]))
        case = await api.act(case["id"], "record_satisfaction", data={"satisfied": False})
        resumed = case["sla"]["resolution"]
        assert resumed["state"] == "running"
        assert abs((parse_time(resumed["deadline"]) - parse_time(case["updated_at"])).total_seconds() - left) < 1.0
        await api.history_with(case["id"], "sla_breached")


async def test_set_priority_moves_the_deadlines(api_with_policy):
    async with api_with_policy(FAST) as api:
        case = await api.open(priority="low")
        assert case["sla"]["first_response"]["time_left_seconds"] >= 58
        case = await api.act(case["id"], "set_priority", role="supervisor", data={"priority": "urgent"})
        assert case["priority"] == "urgent"
        deadline = parse_time(case["sla"]["first_response"]["deadline"])
        assert deadline <= parse_time(case["created_at"]) + timedelta(seconds=1.01)
        history = await api.history_with(case["id"], "sla_breached")
        assert history[-1]["data"]["cause"]["policy"] == "targets.complaint.urgent.first_response"
        await api.act(case["id"], "set_priority", role="agent", data={"priority": "low"}, status=403)


async def test_vip_customers_get_the_targets_of_the_next_priority_up(api_with_policy):
    async with api_with_policy(FAST) as api:
        case = await api.open(customer={"id": "vip-1", "vip": True})
        deadline = parse_time(case["sla"]["first_response"]["deadline"])
        assert deadline - parse_time(case["created_at"]) == timedelta(seconds=1.5)


async def test_an_overdue_action_item_is_recorded_once_and_counts_as_a_breach(api_with_policy):
    async with api_with_policy(FAST) as api:
        incident = await api.open("incident", role="supervisor")
        await api.act(incident["id"], "start_analysis", role="supervisor")
        due = (datetime.now(UTC) + timedelta(seconds=1)).isoformat()
        await api.act(incident["id"], "add_action_item", role="supervisor", data={"title": "restart", "owner": "ops", "due": due})
        history = await api.history_with(incident["id"], "action_item_overdue")
        await asyncio.sleep(1)
        history = await api.history(incident["id"])
        assert actions(history).count("action_item_overdue") == 1
        assert history[-1]["data"]["item_id"] == "item-1" and history[-1]["actor"] == {"name": "system"}
        stored = await api.get(incident["id"])
        assert stored["sla_breached"] is True and stored["action_items"][0]["overdue"] is True


async def test_the_queue_lists_the_nearest_deadlines_first(api_with_policy):
    async with api_with_policy(FAST) as api:
        later = await api.open(priority="low")
        sooner = await api.open(priority="low")
        await api.act(sooner["id"], "set_priority", role="supervisor", data={"priority": "normal"})
        horizon = (datetime.now(UTC) + timedelta(seconds=120)).isoformat()
        queue = await api.list(sort="sla_due", sla_due_before=horizon, limit=500)
        ids = [item["id"] for item in queue["items"]]
        assert ids.index(sooner["id"]) < ids.index(later["id"])
        dues = [min(s["deadline"] for s in item["sla"].values() if s["state"] == "running") for item in queue["items"]]
        assert dues == sorted(dues)
