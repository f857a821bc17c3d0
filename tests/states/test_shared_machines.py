"""Each kind's `transitions.Machine` is built once and shared by every case of the kind."""

import copy
from typing import Any

import pytest
import transitions
from transitions import Machine

from states.machine import SPECS, _machine_transitions
from states.spec import PHASES, ROLES
from tests.states._support import PATHS, opened
from tests.support import NOW


def test_opening_and_moving_cases_builds_no_machine(monkeypatch):
    built = []
    original = Machine.__init__

    def counting(self, *args, **kwargs):
        built.append(kwargs.get("model"))
        original(self, *args, **kwargs)

    monkeypatch.setattr(transitions.Machine, "__init__", counting)
    for kind, path in PATHS.items():
        machine = opened(kind)
        for step in path:
            machine.take(step.action, step.actor, step.data, None, NOW)
        assert machine.case.state == "closed"
    assert built == []


def test_cases_of_one_kind_move_independently():
    walked, waiting = opened("complaint"), opened("complaint")
    waiting_before = copy.deepcopy(waiting.case)
    for step in PATHS["complaint"]:
        walked.take(step.action, step.actor, step.data, None, NOW)
    assert walked.case.state == "closed"
    assert waiting.case == waiting_before
    step = PATHS["complaint"][0]
    waiting.take(step.action, step.actor, step.data, None, NOW)
    assert waiting.case.version == 2 and waiting.case.state != "closed"


@pytest.mark.parametrize("kind", list(PATHS))
def test_the_shared_machine_allows_what_a_machine_of_the_case_alone_would(kind):
    """The allowed actions, asked of the kind's machine, are those `transitions` itself grants a
    machine built for this case alone (its `may_<trigger>`), in every phase of the kind's path."""
    machine = opened(kind)
    for step in [*PATHS[kind], None]:
        alone: Any = copy.copy(machine.case)  # `transitions` adds `may_trigger` to it
        Machine(
            model=alone,
            states=list(map(str, PHASES)),
            transitions=_machine_transitions(SPECS[kind]),
            initial=alone.state,
            auto_transitions=False,
            send_event=True,
        )
        for role in ROLES:
            granted = [action.name for action in SPECS[kind].actions if role in action.roles and alone.may_trigger(action.name, ctx=NOW)]
            assert machine.allowed_actions(role, NOW) == granted, (machine.case.state, role)
        if step is not None:
            machine.take(step.action, step.actor, step.data, None, NOW)
