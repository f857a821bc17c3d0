"""The assessment policy (考核): how an agent's parts combine into a total and a grade.

It is the `[assessment]` table of the targets policy (CASEWORK_TARGETS, next to the KPI targets):

    [assessment]
    weights = { kpi = 0.3, quality = 0.3, satisfaction = 0.2, supervisor = 0.2, self = 0, peers = 0 }
    grades = { excellent = 90, good = 80, pass = 60 }

Every part is a score from 0 to 100 (see `part_scores`). A part with no figure (no quality check
scored, no self-assessment given) is left out and the weights of the others renormalised, so an
assessment is never pulled down by what nobody measured. Weights given replace the defaults part by
part; a part missing from `weights` keeps its default.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from states.errors import InvalidData
from states.policy_error import PolicyError
from states.vocabulary import AssessmentPart, Grade

TABLE = "assessment"
DEFAULT_WEIGHTS: dict[str, float] = {
    AssessmentPart.KPI: 0.3,
    AssessmentPart.QUALITY: 0.3,
    AssessmentPart.SATISFACTION: 0.2,
    AssessmentPart.SUPERVISOR: 0.2,
    AssessmentPart.SELF: 0.0,
    AssessmentPart.PEERS: 0.0,
}
# The lowest total of each grade, best first; below the last: Grade.FAIL.
DEFAULT_GRADES: dict[str, float] = {Grade.EXCELLENT: 90, Grade.GOOD: 80, Grade.PASS: 60}
SCORE_RANGE = (0.0, 100.0)


@dataclass(frozen=True)
class AssessmentPolicy:
    weights: Mapping[str, float]
    grades: Mapping[str, float]

    def combine(self, parts: Mapping[str, float | None]) -> dict[str, Any]:
        """The total (0–100, rounded to 0.01) of the parts with a figure and a weight, their
        renormalised weights, and the grade; total and grade None when no weighted part has a figure."""
        known = {part: float(value) for part, value in parts.items() if value is not None}
        counted = {part: weight for part, weight in self.weights.items() if weight > 0 and part in known}
        whole = sum(counted.values())
        if not whole:
            return {"total": None, "grade": None, "weights_used": {}}
        used = {part: weight / whole for part, weight in counted.items()}
        total = round(sum(known[part] * share for part, share in used.items()), 2)
        return {"total": total, "grade": self.grade(total), "weights_used": used}

    def grade(self, total: float) -> Grade:
        for grade, lowest in self.grades.items():
            if total >= lowest:
                return Grade(grade)
        return Grade.FAIL


DEFAULT_POLICY = AssessmentPolicy(DEFAULT_WEIGHTS, DEFAULT_GRADES)


def shown_percentages(shares: Mapping[str, float]) -> dict[str, float]:
    """Shares (adding up to 1) as percentages to one decimal that add up to exactly 100 (largest
    remainder), so a page never reads 37% + 37% + 25% = 99%."""
    if not shares:
        return {}
    tenths = {part: share * 1000 for part, share in shares.items()}
    shown = {part: math.floor(value) for part, value in tenths.items()}
    for part in sorted(tenths, key=lambda part: tenths[part] - shown[part], reverse=True)[: 1000 - sum(shown.values())]:
        shown[part] += 1
    return {part: value / 10 for part, value in shown.items()}


def kpi_score(judged: Mapping[str, Mapping[str, Any]]) -> float | None:
    """The share of targets met among those judged (a KPI without a figure is not judged), as 0–100."""
    verdicts = [verdict["met"] for verdict in judged.values() if verdict.get("met") is not None]
    return 100.0 * sum(verdicts) / len(verdicts) if verdicts else None


def satisfaction_score(satisfied_share: float | None) -> float | None:
    """Customers' satisfied share × 100: every satisfaction answer says satisfied or not, a 1–5 score is optional."""
    return None if satisfied_share is None else 100.0 * satisfied_share


def mean(values: list[float]) -> float | None:
    return sum(values) / len(values) if values else None


def parse_assessment_policy(data: Mapping[str, Any] | None) -> AssessmentPolicy:
    """The `[assessment]` table of a targets policy (defaults for what it leaves out); raises PolicyError naming the key."""
    table = (data or {}).get(TABLE, {})
    if not isinstance(table, Mapping):
        raise PolicyError(TABLE, "must be a table")
    unknown = sorted(set(table) - {"weights", "grades"})
    if unknown:
        raise PolicyError(f"{TABLE}.{unknown[0]}", "unknown key; the keys are weights and grades")
    weights = {**DEFAULT_WEIGHTS, **_numbers(table.get("weights", {}), f"{TABLE}.weights", tuple(AssessmentPart), (0.0, math.inf))}
    if not any(weight > 0 for weight in weights.values()):
        raise PolicyError(f"{TABLE}.weights", "at least one weight must be more than 0")
    grades = {**DEFAULT_GRADES, **_numbers(table.get("grades", {}), f"{TABLE}.grades", tuple(DEFAULT_GRADES), SCORE_RANGE)}
    thresholds = [grades[grade] for grade in DEFAULT_GRADES]
    if thresholds != sorted(thresholds, reverse=True):
        raise PolicyError(f"{TABLE}.grades", "must fall from excellent to good to pass")
    return AssessmentPolicy(weights, grades)


def check_score(value: Any, field: str) -> float:
    """A score someone gives (supervisor, self, peer): a number from 0 to 100."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) or not SCORE_RANGE[0] <= value <= SCORE_RANGE[1]:
        raise InvalidData(field, "must be a number from 0 to 100")
    return float(value)


def _numbers(table: Any, path: str, keys: tuple[str, ...], bounds: tuple[float, float]) -> dict[str, float]:
    if not isinstance(table, Mapping):
        raise PolicyError(path, "must be a table")
    numbers = {}
    for key, value in table.items():
        where = f"{path}.{key}"
        if key not in keys:
            raise PolicyError(where, f"unknown; the keys are {', '.join(keys)}")
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) or not bounds[0] <= value <= bounds[1]:
            raise PolicyError(where, f"must be a number from {bounds[0]:g} to {bounds[1]:g}")
        numbers[key] = float(value)
    return numbers
