"""Routing without Temporal or a database: which team a case goes to, which agent gets it, and the
refusals of a PUT /routing body, each naming its exact path."""

from typing import Any

import pytest

from states.errors import InvalidData
from states.routing import MAX_RULES, AgentChoice, Candidate, Routing, RoutingRule, TeamChoice, choose_agent, choose_team, parse_routing
from states.vocabulary import AssignmentMethod, RefusalCode
from tests.states._support import opened

TEAMS = ("hq-complaints", "hq-feedback", "remote-vip", "night")


def case(kind: str = "complaint", **report: Any):
    """A case as reported: a normal complaint by phone from a customer who is not a VIP."""
    report.setdefault("channel", "phone")
    report.setdefault("customer", {"name": "Li Lei", "vip": False})
    return opened(kind, **report).case


def routing(*rules: tuple[dict[str, Any], str], default_team: str | None = None) -> Routing:
    return parse_routing({"rules": [{"match": match, "team": team} for match, team in rules], "default_team": default_team}, TEAMS)


# --- choosing the team ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("match", "matching", "other"),
    [
        ({"kind": "feedback"}, case("feedback"), case("complaint")),
        ({"category": "logistics"}, case(data={"category": "logistics"}), case(data={"category": "account"})),
        ({"channel": "wechat"}, case(channel="wechat"), case(channel="phone")),
        ({"priority": "urgent"}, case(priority="urgent"), case(priority="high")),
        ({"vip": True}, case(customer={"vip": True}), case(customer=None)),
        ({"vip": False}, case(customer={"name": "Han Meimei"}), case(customer={"vip": True})),
    ],
)
def test_each_matcher_alone_routes_the_cases_it_names_and_no_other(match, matching, other):
    rules = routing((match, "remote-vip"))
    assert choose_team(rules, matching).team == "remote-vip"
    assert choose_team(rules, other) == TeamChoice(None, None, "no rule matched and no default team")


def test_a_rule_matches_only_when_every_key_it_gives_holds():
    rules = routing(({"kind": "complaint", "vip": True}, "remote-vip"))
    assert choose_team(rules, case(customer={"vip": True})).team == "remote-vip"
    assert choose_team(rules, case("feedback", customer={"vip": True})).team is None
    assert choose_team(rules, case(customer={"vip": False})).team is None


def test_the_first_matching_rule_wins_and_the_reason_names_it():
    rules = routing(
        ({"kind": "feedback"}, "hq-feedback"),
        ({"vip": True, "kind": "complaint"}, "remote-vip"),
        ({"kind": "complaint"}, "hq-complaints"),
    )
    assert choose_team(rules, case(customer={"vip": True})) == TeamChoice("remote-vip", 1, "rule 1 (kind=complaint, vip=true)")
    assert choose_team(rules, case()) == TeamChoice("hq-complaints", 2, "rule 2 (kind=complaint)")


def test_an_empty_match_catches_every_case():
    rules = routing(({"channel": "wechat"}, "night"), ({}, "hq-complaints"))
    assert choose_team(rules, case("incident", channel=None, customer=None)) == TeamChoice("hq-complaints", 1, "rule 1 (every case)")


def test_a_case_no_rule_matches_goes_to_the_default_team():
    rules = routing(({"kind": "feedback"}, "hq-feedback"), default_team="hq-complaints")
    assert choose_team(rules, case()) == TeamChoice("hq-complaints", None, "no rule matched: the default team")


def test_without_a_matching_rule_or_default_team_the_case_stays_unrouted():
    assert choose_team(Routing(), case()) == TeamChoice(None, None, "no rule matched and no default team")


# --- reading PUT /routing -------------------------------------------------------------------------


def test_routing_reads_back_as_the_data_it_was_given_in_matcher_order():
    data = {"rules": [{"match": {"vip": True, "kind": "complaint", "channel": "400 hotline"}, "team": "remote-vip"}], "default_team": "hq-complaints"}
    parsed = parse_routing(data, TEAMS)
    assert parsed.rules == (RoutingRule({"kind": "complaint", "channel": "400 hotline", "vip": True}, "remote-vip"),)
    assert parsed.as_data() == data and list(parsed.as_data()["rules"][0]["match"]) == ["kind", "channel", "vip"]
    assert parse_routing({"rules": []}, TEAMS).as_data() == {"rules": [], "default_team": None}


def test_two_hundred_rules_are_taken():
    assert len(parse_routing({"rules": [{"match": {}, "team": "night"}] * MAX_RULES}, TEAMS).rules) == MAX_RULES


def refusal(data: Any) -> tuple[str, str]:
    with pytest.raises(InvalidData) as refused:
        parse_routing(data, TEAMS)
    return refused.value.field, refused.value.code


def with_rule(rule: Any) -> dict[str, Any]:
    fine = {"match": {}, "team": "night"}
    return {"rules": [fine, fine, rule]}


WRONG_TYPE, MISSING, INVALID = RefusalCode.WRONG_TYPE, RefusalCode.MISSING_FIELD, RefusalCode.INVALID_VALUE


@pytest.mark.parametrize(
    ("data", "field", "code"),
    [
        (["rules"], "body", WRONG_TYPE),
        ({}, "rules", MISSING),
        ({"rules": {"match": {}, "team": "night"}}, "rules", WRONG_TYPE),
        ({"rules": [{"match": {}, "team": "night"}] * (MAX_RULES + 1)}, "rules", INVALID),
        ({"rules": [], "colour": "red"}, "colour", INVALID),
        ({"rules": [], "default_team": "day"}, "default_team", INVALID),
        ({"rules": [], "default_team": 3}, "default_team", WRONG_TYPE),
        (with_rule("night"), "rules[2]", WRONG_TYPE),
        (with_rule({"team": "night"}), "rules[2].match", MISSING),
        (with_rule({"match": {}}), "rules[2].team", MISSING),
        (with_rule({"match": {}, "team": "night", "stop": True}), "rules[2].stop", INVALID),
        (with_rule({"match": ["kind"], "team": "night"}), "rules[2].match", WRONG_TYPE),
        (with_rule({"match": {"kind": "ticket"}, "team": "night"}), "rules[2].match.kind", INVALID),
        (with_rule({"match": {"priority": "asap"}, "team": "night"}), "rules[2].match.priority", INVALID),
        (with_rule({"match": {"category": "weather"}, "team": "night"}), "rules[2].match.category", INVALID),
        (with_rule({"match": {"vip": "yes"}, "team": "night"}), "rules[2].match.vip", WRONG_TYPE),
        (with_rule({"match": {"channel": "  "}, "team": "night"}), "rules[2].match.channel", MISSING),
        (with_rule({"match": {"channel": "x" * 101}, "team": "night"}), "rules[2].match.channel", INVALID),
        (with_rule({"match": {"channel": 400}, "team": "night"}), "rules[2].match.channel", WRONG_TYPE),
        (with_rule({"match": {"kind": "complaint", "colour": "red"}, "team": "night"}), "rules[2].match.colour", INVALID),
        (with_rule({"match": {}, "team": "day"}), "rules[2].team", INVALID),
        (with_rule({"match": {}, "team": None}), "rules[2].team", WRONG_TYPE),
        (with_rule({"match": {"channel": "a\x00b"}, "team": "night"}), "rules[2].match.channel", RefusalCode.INVALID_TEXT),
    ],
)
def test_each_refusal_names_its_exact_path(data, field, code):
    assert refusal(data) == (field, code)


def test_a_channel_of_a_hundred_characters_is_taken():
    assert parse_routing(with_rule({"match": {"channel": "x" * 100}, "team": "night"}), TEAMS).rules[2].match == {"channel": "x" * 100}


# --- choosing the agent ---------------------------------------------------------------------------


def member(name: str, open_cases: int = 0, on_shift: bool = True, away: bool = False) -> Candidate:
    return Candidate(name, open_cases, on_shift, away)


TEAM = [member("cai"), member("ann"), member("bo")]


def test_round_robin_takes_the_next_name_after_the_last_assigned_and_wraps():
    assert choose_agent(AssignmentMethod.ROUND_ROBIN, TEAM, "ann") == AgentChoice("bo", "round robin after ann")
    assert choose_agent(AssignmentMethod.ROUND_ROBIN, TEAM, "bo").agent == "cai"
    assert choose_agent(AssignmentMethod.ROUND_ROBIN, TEAM, "cai") == AgentChoice("ann", "round robin after cai")


def test_round_robin_starts_from_the_first_name_when_nobody_or_a_stranger_was_last():
    assert choose_agent(AssignmentMethod.ROUND_ROBIN, TEAM, None).agent == "ann"
    assert choose_agent(AssignmentMethod.ROUND_ROBIN, TEAM, "zoe").agent == "ann"


def test_round_robin_skips_members_away_or_off_shift():
    team = [member("ann"), member("bo", away=True), member("cai", on_shift=False), member("dan")]
    assert choose_agent(AssignmentMethod.ROUND_ROBIN, team, "ann").agent == "dan"
    assert choose_agent(AssignmentMethod.ROUND_ROBIN, team, "dan").agent == "ann"
    assert choose_agent(AssignmentMethod.ROUND_ROBIN, team, "bo").agent == "dan"


def test_least_open_cases_takes_the_member_with_fewest_and_ties_go_by_name():
    team = [member("dan", 3), member("cai", 3), member("bo", 5), member("ann", 1, away=True)]
    assert choose_agent(AssignmentMethod.LEAST_OPEN_CASES, team, "dan") == AgentChoice("cai", "fewest open cases (3)")
    team.append(member("eve", 2))
    assert choose_agent(AssignmentMethod.LEAST_OPEN_CASES, team, None).agent == "eve"


def test_method_none_never_picks_an_agent():
    assert choose_agent(AssignmentMethod.NONE, TEAM, "ann") == AgentChoice(None, "assignment method none: stays in the team's queue")


@pytest.mark.parametrize("method", [AssignmentMethod.ROUND_ROBIN, AssignmentMethod.LEAST_OPEN_CASES])
def test_with_no_member_on_shift_and_present_the_case_stays_in_the_queue(method):
    team = [member("ann", away=True), member("bo", on_shift=False)]
    expected = AgentChoice(None, "no member on shift and present: stays in the team's queue")
    assert choose_agent(method, team, "ann") == expected
    assert choose_agent(method, [], None) == expected
