"""What the KPIs measure of a case as it moves: handling time without the time waiting for the
customer, and every response with the time it took (states/service_times.py, docs/kpis.md)."""

from states import clocks, service_times
from states.sla_policy import parse_policy
from states.spec import Context
from tests.states._support import opened
from tests.support import AGENT, at

POLICY = parse_policy({"pause_in": ["follow_up"], "targets": {"complaint": {"normal": {"first_response": 600, "resolution": 6000}}}})


def reported():
    machine = opened(actor=AGENT)
    clocks.start_cycle(machine.case, POLICY, machine.case.created_at)
    return machine


def take(machine, action: str, seconds: float, data=None):
    event = machine.take(action, AGENT, data, None, Context(at(seconds)))
    clocks.after_event(machine.case, event, POLICY)
    return event


def remedied(machine, start: float):
    take(machine, "propose_remedy", start, {"solution": "redeliver"})
    take(machine, "complete_remedy", start + 10, {"resolution": "redelivered"})


def test_handling_time_leaves_out_the_time_waiting_for_the_customer_in_follow_up():
    machine = reported()
    take(machine, "start_analysis", 30)
    remedied(machine, 100)  # follow_up from 110
    take(machine, "record_satisfaction", 410, {"satisfied": False})  # waited 300, back to remediate
    take(machine, "complete_remedy", 500, {"resolution": "again"})  # follow_up from 500
    take(machine, "record_satisfaction", 550, {"satisfied": True})  # waited 50, closed
    case = machine.case
    assert case.paused_seconds == 350 and case.paused_since is None
    assert service_times.handling_seconds(case) == 550 - 350


def test_an_open_case_has_no_handling_time_and_keeps_its_pause_running():
    machine = reported()
    take(machine, "start_analysis", 0)
    remedied(machine, 20)
    assert service_times.handling_seconds(machine.case) is None
    assert machine.case.paused_since == at(30)


def test_the_first_response_and_each_reply_answer_the_contact_before_them():
    machine = reported()
    take(machine, "acknowledge", 40)  # answers the report: 40
    take(machine, "comment", 50, {"reply": True})  # nothing waiting: not a response
    take(machine, "start_analysis", 60)
    remedied(machine, 70)
    take(machine, "record_satisfaction", 100, {"satisfied": False})  # the customer speaks again
    take(machine, "comment", 130, {"reply": False})  # a note, not a reply
    take(machine, "comment", 190, {"reply": True})  # answers the verdict: 90
    case = machine.case
    assert (case.responses, case.response_seconds) == (2, 40 + 90)
    assert case.awaiting_response_since is None


def test_a_reopen_is_a_contact_and_the_first_reply_after_it_is_measured_from_it():
    machine = reported()
    take(machine, "start_analysis", 10)  # first response: 10
    remedied(machine, 20)
    take(machine, "record_satisfaction", 40, {"satisfied": True})
    take(machine, "reopen", 1000, {"reason": "it broke again"})
    take(machine, "comment", 1025, {"reply": True})  # 25
    assert (machine.case.responses, machine.case.response_seconds) == (2, 35)


def test_contacts_waiting_together_are_answered_by_one_response_from_the_earliest():
    machine = reported()
    take(machine, "start_analysis", 0)  # the first response at once
    remedied(machine, 10)
    take(machine, "record_satisfaction", 100, {"satisfied": False})
    take(machine, "complete_remedy", 110, {"resolution": "again"})
    take(machine, "record_satisfaction", 150, {"satisfied": False})
    take(machine, "comment", 200, {"reply": True})  # answers both verdicts, from the first
    assert (machine.case.responses, machine.case.response_seconds) == (2, 0 + 100)
