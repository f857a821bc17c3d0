"""The targets the department sets for its KPIs (001 §5(1): "on-time response ≥ X%, resolution ≥ X%,
satisfaction ≥ X%, average response ≤ X min, average handling ≤ X min"), and whether a figure met one.

The policy is a TOML document (CASEWORK_TARGETS): a `[department]` table of targets, and optional
`[teams.<name>]` tables whose targets replace the department's for that team, KPI by KPI:

    [department]
    first_response_on_time_rate = { at_least = 0.95 }
    handling_mean_seconds = { at_most = 172800 }

    [teams.north]
    satisfied_share = { at_least = 0.92 }

Other top-level tables belong to other parts of the same policy (the assessment's weights) and are
left to them. The seeds leave every figure as "X": DEFAULT_TARGETS are ours, documented in docs/kpis.md.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from states.policy_error import PolicyError

AT_LEAST = "at_least"
AT_MOST = "at_most"
TARGET_TABLES = ("department", "teams")


@dataclass(frozen=True)
class Target:
    """A KPI's target: met when the figure is at least (or at most) `value`, the boundary included."""

    kpi: str
    bound: str  # AT_LEAST or AT_MOST
    value: float

    def met(self, figure: float | None) -> bool | None:
        """None when there is no figure to judge (nothing measured in the period)."""
        if figure is None:
            return None
        return figure >= self.value if self.bound == AT_LEAST else figure <= self.value

    def describe(self) -> dict[str, Any]:
        return {"kpi": self.kpi, self.bound: self.value}


@dataclass(frozen=True)
class Targets:
    department: Mapping[str, Target]
    teams: Mapping[str, Mapping[str, Target]] = field(default_factory=dict)

    def for_team(self, team: str | None) -> dict[str, Target]:
        """The targets in force for a team: the department's, with the team's own in their place."""
        return {**self.department, **(self.teams.get(team, {}) if team else {})}

    def judge(self, figures: Mapping[str, Any], team: str | None = None) -> dict[str, dict[str, Any]]:
        """Each targeted KPI's target, figure and verdict: `{kpi: {"target", "value", "met"}}`."""
        return {
            kpi: {"target": target.describe(), "value": figures.get(kpi), "met": target.met(figures.get(kpi))}
            for kpi, target in self.for_team(team).items()
        }


DEFAULT_TARGETS_DATA: dict[str, Any] = {
    "department": {
        "first_response_on_time_rate": {AT_LEAST: 0.95},
        "resolution_rate": {AT_LEAST: 0.90},
        "satisfied_share": {AT_LEAST: 0.90},
        "response_mean_seconds": {AT_MOST: 30 * 60},
        "handling_mean_seconds": {AT_MOST: 48 * 3600},
    }
}


def parse_targets(data: Mapping[str, Any], known_kpis: Iterable[str]) -> Targets:
    """The `[department]` and `[teams.*]` tables of a targets policy; raises PolicyError naming the key."""
    known = tuple(known_kpis)
    department = _target_table(data.get("department", {}), "department", known)
    teams_data = data.get("teams", {})
    if not isinstance(teams_data, Mapping):
        raise PolicyError("teams", "must be a table of teams")
    teams = {str(name): _target_table(table, f"teams.{name}", known) for name, table in teams_data.items()}
    return Targets(department=department, teams=teams)


def _target_table(table: Any, path: str, known: tuple[str, ...]) -> dict[str, Target]:
    if not isinstance(table, Mapping):
        raise PolicyError(path, "must be a table of KPI targets")
    targets = {}
    for kpi, bound in table.items():
        where = f"{path}.{kpi}"
        if kpi not in known:
            raise PolicyError(where, f"not a KPI; KPIs are {', '.join(known)}")
        if not isinstance(bound, Mapping) or len(bound) != 1 or next(iter(bound)) not in (AT_LEAST, AT_MOST):
            raise PolicyError(where, f"must be {{ {AT_LEAST} = number }} or {{ {AT_MOST} = number }}")
        ((kind, value),) = bound.items()
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) or value < 0:
            raise PolicyError(f"{where}.{kind}", "must be a number, 0 or more")
        targets[kpi] = Target(kpi, kind, float(value))
    return targets
