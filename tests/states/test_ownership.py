"""The department's rules on top of the roles: claiming a case of one's team (认领), and first-contact
ownership (only a customer case's owner, its team's supervisors and managers move it)."""

from dataclasses import replace

import pytest

from states.case import Actor, Authority
from states.errors import ActionForbidden, ActionNotAllowed
from states.spec import Context
from states.vocabulary import RefusalCode
from tests.states._support import opened
from tests.support import AGENT, NOW, SUPERVISOR

BO = Actor("bo", "agent")
MANAGER = Actor("mia", "manager")


def as_member(actor: Actor, *teams: str, leads: tuple[str, ...] = (), ownership: bool = True) -> Context:
    return replace(NOW, authority=Authority(actor.name, (*teams, *leads), leads, ownership))


def in_queue(kind: str = "complaint", team: str = "north"):
    """A case routed to `team`'s queue without an owner."""
    machine = opened(kind)
    machine.dispatch(team, None, {"reason": "a rule"}, NOW)
    return machine


def test_a_member_of_the_team_claims_a_case_waiting_in_its_queue():
    machine = in_queue()
    event = machine.take("claim", BO, None, None, as_member(BO, "north"))
    assert machine.case.owner == "bo" and event.data == {"owner": "bo"}
    assert machine.case.team == "north"


def test_a_case_with_an_owner_cannot_be_claimed_again():
    machine = in_queue()
    machine.take("claim", BO, None, None, as_member(BO, "north"))
    with pytest.raises(ActionNotAllowed) as refused:
        machine.take("claim", AGENT, None, None, as_member(AGENT, "north"))
    assert refused.value.code == RefusalCode.GUARD_FAILED and machine.case.owner == "bo"


@pytest.mark.parametrize("teams", [(), ("south",)])
def test_only_members_of_the_cases_team_may_claim_it(teams):
    machine = in_queue()
    with pytest.raises(ActionForbidden) as refused:
        machine.take("claim", BO, None, None, as_member(BO, *teams))
    assert refused.value.code == RefusalCode.NOT_IN_TEAM and machine.case.owner is None


def test_a_claim_needs_a_person_the_directory_knows():
    machine = in_queue()
    with pytest.raises(ActionForbidden) as refused:
        machine.take("claim", BO, None, None, NOW)
    assert refused.value.code == RefusalCode.NOT_IN_TEAM


def test_an_agent_cannot_move_another_agents_case_but_may_comment():
    machine = in_queue()
    machine.take("claim", BO, None, None, as_member(BO, "north"))
    with pytest.raises(ActionForbidden) as refused:
        machine.take("acknowledge", AGENT, None, None, as_member(AGENT, "north"))
    assert refused.value.code == RefusalCode.NOT_YOUR_CASE and "bo's" in str(refused.value)
    machine.take("comment", AGENT, None, "the customer called again", as_member(AGENT, "north"))
    machine.take("acknowledge", BO, None, None, as_member(BO, "north"))
    assert machine.case.version == 5


def test_a_case_waiting_in_the_queue_is_claimed_before_it_is_moved():
    machine = in_queue()
    with pytest.raises(ActionForbidden) as refused:
        machine.take("acknowledge", BO, None, None, as_member(BO, "north"))
    assert refused.value.code == RefusalCode.NOT_YOUR_CASE and "claim it first" in str(refused.value)


def test_the_supervisors_of_the_cases_team_and_managers_move_it_others_do_not():
    machine = in_queue()
    machine.take("claim", BO, None, None, as_member(BO, "north"))
    with pytest.raises(ActionForbidden):
        machine.take("acknowledge", SUPERVISOR, None, None, as_member(SUPERVISOR, leads=("south",)))
    machine.take("acknowledge", SUPERVISOR, None, None, as_member(SUPERVISOR, leads=("north",)))
    machine.take("start_analysis", MANAGER, None, None, as_member(MANAGER))
    assert machine.case.state == "analyse"


def test_with_the_ownership_rule_off_any_agent_moves_the_case():
    machine = in_queue()
    machine.take("claim", BO, None, None, as_member(BO, "north"))
    machine.take("acknowledge", AGENT, None, None, as_member(AGENT, ownership=False))
    assert machine.case.owner == "bo"


def test_a_case_in_no_team_and_without_an_owner_is_anyones_and_any_supervisors():
    machine = opened()
    machine.dispatch(None, None, {"reason": "no rule matched and no default team"}, NOW)
    machine.take("acknowledge", AGENT, None, None, as_member(AGENT, "north"))
    machine.take("assign", SUPERVISOR, {"owner": "bo"}, None, as_member(SUPERVISOR, leads=("south",)))
    assert machine.case.owner == "bo"


def test_meetings_and_plans_are_the_teams_work_not_one_owners():
    machine = opened("incident", actor=SUPERVISOR)
    machine.take("start_analysis", SUPERVISOR, None, None, as_member(SUPERVISOR))
    machine.take("record_cause", AGENT, {"category": "system", "description": "timeouts"}, None, as_member(AGENT))
    assert machine.case.data["causes"][0]["description"] == "timeouts"


def test_assigning_to_a_team_alone_puts_the_case_back_in_its_queue():
    machine = in_queue()
    machine.take("claim", BO, None, None, as_member(BO, "north"))
    event = machine.take("assign", MANAGER, {"team": "south", "reason": "handover: bo → south"}, None, as_member(MANAGER))
    assert (machine.case.team, machine.case.owner) == ("south", None)
    assert event.data == {"team": "south", "reason": "handover: bo → south"}
