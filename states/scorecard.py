"""The scorecard (评分表) a quality check (质检) is scored on, and how a score adds up.

The rubric is a TOML document (CASEWORK_RUBRIC); the default is seed 002 §3(3)'s five items:

    [[items]]
    id = "knowledge"
    zh = "业务知识"
    en = "Product knowledge"
    max = 30

    [automatic]
    item = "efficiency"      # the item automatic deductions are taken from
    per_breach = 1           # points per service-level breach of the case
    per_reopen = 1           # points per reopen of the case

A reviewer gives each item 0..max points; an item given less than its max is a deduction and needs
a written reason (its own, or else the score's comment). The total is the items' sum minus the automatic deductions, never below 0.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from states.errors import InvalidData
from states.policy_error import PolicyError

DEFAULT_RUBRIC_DATA: dict[str, Any] = {
    "items": [
        {"id": "knowledge", "zh": "业务知识", "en": "Product knowledge", "max": 30},
        {"id": "communication", "zh": "沟通能力", "en": "Communication", "max": 25},
        {"id": "problem_solving", "zh": "问题解决", "en": "Problem solving", "max": 25},
        {"id": "attitude", "zh": "服务态度", "en": "Attitude", "max": 15},
        {"id": "efficiency", "zh": "工作效率", "en": "Efficiency", "max": 5},
    ],
    "automatic": {"item": "efficiency", "per_breach": 1, "per_reopen": 1},
}
# Longest written text a check takes (a reason, a comment): events copy it into Temporal's payloads.
MAX_TEXT = 2000
# What an automatic deduction is for: the case's own record.
BREACH = "breach"
REOPEN = "reopen"


@dataclass(frozen=True)
class RubricItem:
    id: str
    zh: str
    en: str
    max: int

    def label(self, language: str) -> str:
        return self.en if language == "en" else self.zh


@dataclass(frozen=True)
class Rubric:
    items: tuple[RubricItem, ...]
    deduct_from: str
    per_breach: float
    per_reopen: float

    @property
    def by_id(self) -> dict[str, RubricItem]:
        return {item.id: item for item in self.items}

    @property
    def max_total(self) -> int:
        return sum(item.max for item in self.items)

    def describe(self) -> dict[str, Any]:
        return {
            "items": [{"id": item.id, "zh": item.zh, "en": item.en, "max": item.max} for item in self.items],
            "automatic": {"item": self.deduct_from, "per_breach": self.per_breach, "per_reopen": self.per_reopen},
            "max_total": self.max_total,
        }


def parse_rubric(data: Mapping[str, Any]) -> Rubric:
    """The rubric a TOML document describes; PolicyError naming the bad entry."""
    raw_items = data.get("items")
    if not isinstance(raw_items, list) or not raw_items:
        raise PolicyError("items", "list at least one item ([[items]] with id, zh, en, max)")
    items = []
    for index, raw in enumerate(raw_items):
        where = f"items[{index}]"
        if not isinstance(raw, Mapping):
            raise PolicyError(where, "a table with id, zh, en, max")
        item_id, zh, en, most = raw.get("id"), raw.get("zh"), raw.get("en"), raw.get("max")
        if not isinstance(item_id, str) or not item_id.isidentifier():
            raise PolicyError(f"{where}.id", "a name of letters, digits and underscores")
        if not isinstance(zh, str) or not zh or not isinstance(en, str) or not en:
            raise PolicyError(where, "zh and en labels are required")
        if not isinstance(most, int) or isinstance(most, bool) or most <= 0:
            raise PolicyError(f"{where}.max", "a whole number of points above 0")
        items.append(RubricItem(item_id, zh, en, most))
    if len({item.id for item in items}) != len(items):
        raise PolicyError("items", "each id once")
    automatic = data.get("automatic", {})
    if not isinstance(automatic, Mapping):
        raise PolicyError("automatic", "a table with item, per_breach, per_reopen")
    deduct_from = automatic.get("item", items[-1].id)
    if deduct_from not in {item.id for item in items}:
        raise PolicyError("automatic.item", f"one of the items' ids, not {deduct_from!r}")
    points = {}
    for name in ("per_breach", "per_reopen"):
        value = automatic.get(name, 1)
        if not isinstance(value, (int, float)) or isinstance(value, bool) or value < 0:
            raise PolicyError(f"automatic.{name}", "points, 0 or more")
        points[name] = float(value)
    return Rubric(tuple(items), deduct_from, points["per_breach"], points["per_reopen"])


DEFAULT_RUBRIC = parse_rubric(DEFAULT_RUBRIC_DATA)


def automatic_deductions(rubric: Rubric, breaches: int, reopens: int) -> list[dict[str, Any]]:
    """What the case's own record takes off: each service-level breach and each reopen."""
    deductions = []
    for cause, count, points in ((BREACH, breaches, rubric.per_breach), (REOPEN, reopens, rubric.per_reopen)):
        if count and points:
            deductions.append({"item": rubric.deduct_from, "points": count * points, "reason": cause, "automatic": True, "count": count})
    return deductions


def bounded_text(field: str, text: Any) -> Any:
    """The text as given; InvalidData naming the field when it is longer than MAX_TEXT."""
    if isinstance(text, str) and len(text) > MAX_TEXT:
        raise InvalidData(field, f"at most {MAX_TEXT} characters")
    return text


def scored(
    rubric: Rubric, items: Any, reasons: Any, automatic: list[dict[str, Any]], comment: Any = None
) -> tuple[dict[str, int], list[dict[str, Any]], float]:
    """A reviewer's points per item checked against the rubric: (items, deductions, total).

    InvalidData names the field: every item once, 0..max, a reason for each item below its max (its
    own, or else the comment)."""
    if not isinstance(items, Mapping):
        raise InvalidData("items", "an object of item id to points")
    reasons = reasons if isinstance(reasons, Mapping) else {}
    for item_id, reason in reasons.items():
        bounded_text(f"reasons.{item_id}", reason)
    fallback = comment.strip() if isinstance(comment, str) else ""
    unknown = sorted(set(items) - set(rubric.by_id))
    if unknown:
        raise InvalidData(f"items.{unknown[0]}", f"not an item of the scorecard; its items: {', '.join(rubric.by_id)}")
    given: dict[str, int] = {}
    deductions: list[dict[str, Any]] = []
    for item in rubric.items:
        points = items.get(item.id)
        if points is None:
            raise InvalidData(f"items.{item.id}", f"give 0 to {item.max} points")
        if not isinstance(points, int) or isinstance(points, bool) or not 0 <= points <= item.max:
            raise InvalidData(f"items.{item.id}", f"a whole number from 0 to {item.max}")
        given[item.id] = points
        if points < item.max:
            reason = reasons.get(item.id)
            reason = reason.strip() if isinstance(reason, str) else ""
            if not (reason or fallback):
                raise InvalidData(f"reasons.{item.id}", "a deduction needs a written reason (its own, or the comment)")
            deductions.append({"item": item.id, "points": item.max - points, "reason": reason or fallback, "automatic": False})
    taken = sum(deduction["points"] for deduction in automatic)
    total = max(0.0, float(sum(given.values())) - taken)
    return given, deductions + list(automatic), total
