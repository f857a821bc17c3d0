"""Service-level clocks on a case, without Temporal: what starts, stops, pauses, fires, and when."""

from states import clocks
from states.case import parse_time
from states.sla_policy import parse_policy
from states.spec import Context
from tests.states._support import opened
from tests.support import AGENT, SUPERVISOR, at

POLICY = parse_policy(
    {"warn_at": 0.5, "pause_in": ["follow_up"], "targets": {"complaint": {"normal": {"first_response": 60, "resolution": 600, "analyse": 120}}}}
)


def reported(policy=POLICY):
    """A complaint an agent reports at T0, its service-level clocks started under `policy`."""
    machine = opened(actor=AGENT)
    clocks.start_cycle(machine.case, policy, machine.case.created_at)
    return machine


def take(machine, action: str, seconds: float, data=None, actor=AGENT):
    event = machine.take(action, actor, data, None, Context(at(seconds)))
    clocks.after_event(machine.case, event, POLICY)
    return event


def test_reporting_starts_first_response_and_resolution_with_warnings_at_half_time():
    case = reported().case
    assert set(case.clocks) == {"first_response", "resolution"}
    assert case.clocks["first_response"]["deadline"] == at(60) and case.clocks["first_response"]["warn_at"] == at(30)
    assert clocks.next_due(case) == parse_time(at(30))


def test_a_warning_then_a_breach_fire_once_each():
    case = reported().case
    assert clocks.fire(case, at(29)) == []
    assert [action for action, _ in clocks.fire(case, at(30))] == ["sla_warning"]
    assert clocks.fire(case, at(59)) == []
    (breach,) = clocks.fire(case, at(60))
    assert breach[0] == "sla_breached" and breach[1]["target"] == "first_response"
    assert clocks.fire(case, at(61)) == []
    assert clocks.is_breached(case)


def test_entering_a_phase_starts_its_clock_and_leaving_meets_it():
    machine = reported()
    take(machine, "start_analysis", 10)
    assert machine.case.clocks["first_response"]["state"] == "met"
    assert machine.case.clocks["analyse"]["deadline"] == at(130)
    take(machine, "propose_remedy", 50, {"solution": "s"})
    assert machine.case.clocks["analyse"]["state"] == "met"


def test_follow_up_pauses_resolution_and_an_unsatisfied_customer_resumes_it():
    machine = reported()
    take(machine, "start_analysis", 0)
    take(machine, "propose_remedy", 100, {"solution": "s"})
    take(machine, "complete_remedy", 200, {"resolution": "r"})
    resolution = machine.case.clocks["resolution"]
    assert (resolution["state"], resolution["used"]) == ("paused", 200)
    assert clocks.fire(machine.case, at(10_000)) == []
    take(machine, "record_satisfaction", 5000, {"satisfied": False})
    assert resolution["state"] == "running" and resolution["deadline"] == at(5000 + 400)


def test_reopen_starts_a_new_cycle_whose_events_fire_again():
    machine = reported()
    take(machine, "start_analysis", 0)
    take(machine, "dismiss", 10, {"reason": "r"}, SUPERVISOR)
    assert machine.case.clocks["resolution"]["state"] == "met"
    take(machine, "reopen", 100, {"reason": "again"})
    case = machine.case
    assert case.sla_cycle == 2 and case.clocks["resolution"]["deadline"] == at(700)
    assert "first_response" not in case.clocks  # answered in the first cycle
    fired = clocks.fire(case, at(700))
    assert [(action, data["cause"]["cycle"]) for action, data in fired] == [("sla_breached", 2), ("sla_breached", 2)]


def test_set_priority_keeps_the_time_used_and_takes_the_new_budget():
    policy = parse_policy({"targets": {"complaint": {"normal": {"first_response": 100}, "urgent": {"first_response": 40}}}})
    machine = reported(policy)
    event = machine.take("set_priority", SUPERVISOR, {"priority": "urgent"}, None, Context(at(30)))
    clocks.after_event(machine.case, event, policy)
    assert machine.case.clocks["first_response"]["deadline"] == at(40)
