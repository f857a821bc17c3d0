"""Replaying recorded events through the machine (what audit verify does): every event the machine
itself produced replays clean, including what its effects and the service's measurements added."""

from dataclasses import asdict
from typing import Any

import pytest

from states.case import Event
from states.chain import event_hash, seal
from states.machine import KINDS
from states.opening import Report, open_case
from states.spec import Context
from states.verification import replay
from tests.states._support import Walk
from tests.states.test_kind_walks import STEPS
from tests.support import AGENT, SUPERVISOR, T0, at

BASELINE = {"baseline_measured": {"metric": "first_response_p90_seconds", "value": 420.0}, "baseline": 420.0}
AFTER = {"measured_after": {"metric": "first_response_p90_seconds", "value": 300.0}, "measured_after_value": 300.0}
PLAN_STEP_DATA: dict[str, dict[str, Any]] = {
    "record_cause": {"category": "training", "description": "new agents"},
    "record_effect": {"effective": True},
}


@pytest.mark.parametrize("kind", KINDS)
def test_every_walk_replays_clean(kind):
    walk = Walk(kind).run(STEPS[kind]())
    assert replay("case-1", [asdict(event) for event in walk.events]) is None


def test_a_plan_with_measured_baseline_and_after_value_replays_clean():
    report = Report("improvement_plan", "faster answers", data={"problem": "slow first response", "metric": "first_response_p90_seconds"})
    machine, opening = open_case("case-1", report, SUPERVISOR, Context(T0, measured=BASELINE))
    events = [opening]
    for minute, (actor, action, measured) in enumerate(
        [
            (SUPERVISOR, "start_analysis", None),
            (AGENT, "record_cause", None),
            (SUPERVISOR, "plan_measures", None),
            (AGENT, "evaluate", AFTER),
            (SUPERVISOR, "record_effect", None),
        ],
        start=1,
    ):
        data = PLAN_STEP_DATA.get(action)
        events.append(machine.take(action, actor, data, None, Context(at(60 * minute), measured=measured)))
    assert machine.case.data["after_value"] == 300.0 and machine.case.state == "closed"
    assert replay("case-1", [asdict(event) for event in events]) is None


def test_an_added_action_item_replays_but_a_changed_one_does_not():
    walk = Walk("incident").run(STEPS["incident"]()[:20])
    recorded = [asdict(event) for event in walk.events]
    added = next(event for event in recorded if event["action"] == "add_action_item")
    assert added["data"]["item_id"] == "item-1" and replay("case-1", recorded) is None
    added["data"]["item_id"] = "item-9"
    added["hash"] = event_hash(added)  # a forgery the hash chain alone would not catch
    finding = replay("case-1", recorded)
    assert finding is not None and finding.seq == added["seq"] and finding.problem == "changed field"


def test_seal_hashes_the_bytes_verification_hashes():
    # `seal` reads the fields off the event; verification hashes the stored (plain) form of it.
    event = Event(3, "case-1", "record_findings", "analyse", "analyse", AGENT, T0, "a note", {"findings": "x", "items": [{"n": 1}]}, "r-1")
    sealed = seal(event, "9" * 64)
    assert sealed.hash == event_hash(asdict(sealed)) and sealed.prev_hash == "9" * 64
