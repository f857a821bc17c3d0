"""The KPI targets in force (CASEWORK_TARGETS, states/targets.py), as `GET /targets` shows them."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from states.targets import Target, Targets


def in_force(targets: Targets) -> dict[str, Any]:
    """The department's targets, and for each team that overrides any, its targets merged with them."""
    return {
        "department": _bounds(targets.department),
        "teams": {team: _bounds(targets.for_team(team)) for team in sorted(targets.teams)},
    }


def _bounds(targets: Mapping[str, Target]) -> dict[str, dict[str, float]]:
    return {kpi: {target.bound: target.value} for kpi, target in targets.items()}
