"""Routing: which team a new case goes to (an ordered list of rules, first match wins), and which of
the team's agents gets it (the team's assignment method).

Pure decisions on plain values: the caller says which teams exist, and for each member whether the
team's shifts cover now and whether they are away; the decisions come back with an English reason
for the case's history.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from typing import Any

from states.case import CaseState
from states.errors import InvalidData
from states.spec import CASE_CATEGORIES, Field
from states.text import check_storable
from states.vocabulary import AssignmentMethod, Kind, Priority, RefusalCode

MAX_RULES = 200
# What a rule may match on, each checked as the field it compares with.
MATCHERS = {
    "kind": Field("kind", choices=tuple(Kind)),
    "category": Field("category", choices=CASE_CATEGORIES),
    "channel": Field("channel", max_length=100),
    "priority": Field("priority", choices=tuple(Priority)),
    "vip": Field("vip", "boolean"),
}
MATCH_KEYS = tuple(MATCHERS)
RULE_KEYS = ("match", "team")
ROUTING_KEYS = ("rules", "default_team")


@dataclass(frozen=True)
class RoutingRule:
    match: dict[str, str | bool]  # a subset of MATCH_KEYS, in their order; {} matches every case
    team: str

    def matches(self, facts: dict[str, str | bool | None]) -> bool:
        return all(facts[key] == value for key, value in self.match.items())

    def describe(self) -> str:
        return ", ".join(f"{key}={_json_text(value)}" for key, value in self.match.items()) or "every case"


@dataclass(frozen=True)
class Routing:
    rules: tuple[RoutingRule, ...] = ()
    default_team: str | None = None

    def as_data(self) -> dict[str, Any]:
        """The JSON form, as PUT /routing takes it and GET /routing gives it."""
        return {"rules": [{"match": dict(rule.match), "team": rule.team} for rule in self.rules], "default_team": self.default_team}


@dataclass(frozen=True)
class TeamChoice:
    team: str | None
    rule: int | None  # the index of the rule that matched; None: the default team, or unrouted
    reason: str


@dataclass(frozen=True)
class Candidate:
    name: str
    open_cases: int  # open cases this agent owns now
    on_shift: bool  # the team's shifts cover now
    away: bool  # on leave now


@dataclass(frozen=True)
class AgentChoice:
    agent: str | None
    reason: str


def parse_routing(data: Any, known_teams: Collection[str]) -> Routing:
    """The PUT /routing body; a refusal names the exact path, e.g. `rules[2].match.kind`."""
    if not isinstance(data, dict):
        raise InvalidData("body", "must be an object", RefusalCode.WRONG_TYPE)
    check_storable(data)
    _refuse_unknown_keys(data, ROUTING_KEYS, "")
    if "rules" not in data:
        raise InvalidData("rules", "is required", RefusalCode.MISSING_FIELD)
    rules = data["rules"]
    if not isinstance(rules, list):
        raise InvalidData("rules", "must be a list of rules", RefusalCode.WRONG_TYPE)
    if len(rules) > MAX_RULES:
        raise InvalidData("rules", f"must hold at most {MAX_RULES} rules")
    default_team = data.get("default_team")
    return Routing(
        rules=tuple(_rule(rule, f"rules[{index}]", known_teams) for index, rule in enumerate(rules)),
        default_team=None if default_team is None else _team(default_team, "default_team", known_teams),
    )


def choose_team(routing: Routing, case: CaseState) -> TeamChoice:
    facts: dict[str, str | bool | None] = {
        "kind": case.kind,
        "category": case.data.get("category"),
        "channel": case.channel,
        "priority": case.priority,
        "vip": bool((case.customer or {}).get("vip")),
    }
    for index, rule in enumerate(routing.rules):
        if rule.matches(facts):
            return TeamChoice(rule.team, index, f"rule {index} ({rule.describe()})")
    if routing.default_team is not None:
        return TeamChoice(routing.default_team, None, "no rule matched: the default team")
    return TeamChoice(None, None, "no rule matched and no default team")


def choose_agent(method: str, candidates: Sequence[Candidate], last_assigned: str | None) -> AgentChoice:
    """Only members on shift and not away count; `none` never picks anyone."""
    method = AssignmentMethod(method)
    if method is AssignmentMethod.NONE:
        return AgentChoice(None, f"assignment method {method}: stays in the team's queue")
    eligible = sorted((candidate for candidate in candidates if candidate.on_shift and not candidate.away), key=lambda candidate: candidate.name)
    if not eligible:
        return AgentChoice(None, "no member on shift and present: stays in the team's queue")
    if method is AssignmentMethod.LEAST_OPEN_CASES:
        chosen = min(eligible, key=lambda candidate: (candidate.open_cases, candidate.name))
        return AgentChoice(chosen.name, f"fewest open cases ({chosen.open_cases})")
    if last_assigned is None or last_assigned not in {candidate.name for candidate in candidates}:
        return AgentChoice(eligible[0].name, "round robin from the first by name")
    after = next((candidate for candidate in eligible if candidate.name > last_assigned), eligible[0])
    return AgentChoice(after.name, f"round robin after {last_assigned}")


def _rule(data: Any, path: str, known_teams: Collection[str]) -> RoutingRule:
    if not isinstance(data, dict):
        raise InvalidData(path, "must be an object with match and team", RefusalCode.WRONG_TYPE)
    _refuse_unknown_keys(data, RULE_KEYS, path)
    for key in RULE_KEYS:
        if key not in data:
            raise InvalidData(f"{path}.{key}", "is required", RefusalCode.MISSING_FIELD)
    return RoutingRule(match=_match(data["match"], f"{path}.match"), team=_team(data["team"], f"{path}.team", known_teams))


def _match(data: Any, path: str) -> dict[str, str | bool]:
    if not isinstance(data, dict):
        raise InvalidData(path, "must be an object; {} matches every case", RefusalCode.WRONG_TYPE)
    _refuse_unknown_keys(data, MATCH_KEYS, path)
    return {key: matcher.clean(data[key], f"{path}.{key}") for key, matcher in MATCHERS.items() if key in data}


def _team(value: Any, path: str, known_teams: Collection[str]) -> str:
    if not isinstance(value, str):
        raise InvalidData(path, "must be a team's name", RefusalCode.WRONG_TYPE)
    if value not in known_teams:
        raise InvalidData(path, f"no team is named {value!r}")
    return value


def _refuse_unknown_keys(data: dict[str, Any], known: tuple[str, ...], path: str) -> None:
    for key in data:
        if key not in known:
            raise InvalidData(f"{path}.{key}" if path else key, f"unknown key; keys: {', '.join(known)}")


def _json_text(value: str | bool) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return value
