"""Which closed cases a period's quality checks (质检) look at, and who reviews each.

Every reopened, breached or dissatisfied case is mandatory; each agent's sample is then filled up to
N with a random share of their other cases. The draw is seeded by the seed and the period, so the
same inputs always give the same sample. Reviewers take turns (round-robin) over the sample in
case order, skipping the agent who handled the case: nobody checks their own work.
"""

from __future__ import annotations

import hashlib
import random
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

REOPENED = "reopened"
BREACHED = "breached"
DISSATISFIED = "dissatisfied"
RANDOM = "random"


@dataclass(frozen=True)
class ClosedCase:
    case_id: str
    agent: str  # its owner when it closed
    closed_at: str
    reopened: bool = False
    breached: bool = False
    dissatisfied: bool = False

    @property
    def flags(self) -> list[str]:
        return [name for name, flag in ((REOPENED, self.reopened), (BREACHED, self.breached), (DISSATISFIED, self.dissatisfied)) if flag]


@dataclass(frozen=True)
class Chosen:
    case: ClosedCase
    reviewer: str | None  # None: no reviewer but the agent themself
    sampled_because: tuple[str, ...]  # the case's flags, or ("random",)


def sample(
    cases: Iterable[ClosedCase], per_agent: int, seed: str, period: str, reviewers: Sequence[str], drawn: Mapping[str, int] | None = None
) -> list[Chosen]:
    """The checks of a period: mandatory cases, then a seeded random share up to `per_agent` per agent,
    less the random checks `drawn` for them already (by an earlier sample overlapping the period)."""
    drawn = drawn or {}
    by_agent: dict[str, list[ClosedCase]] = {}
    for case in sorted(cases, key=lambda case: case.case_id):
        by_agent.setdefault(case.agent, []).append(case)
    chosen: list[tuple[ClosedCase, tuple[str, ...]]] = []
    for agent in sorted(by_agent):
        theirs = by_agent[agent]
        mandatory = [case for case in theirs if case.flags]
        others = [case for case in theirs if not case.flags]
        draw = random.Random(_seed(seed, period, agent))
        share = draw.sample(others, min(len(others), max(0, per_agent - len(mandatory) - drawn.get(agent, 0))))
        chosen += [(case, tuple(case.flags)) for case in mandatory]
        chosen += [(case, (RANDOM,)) for case in sorted(share, key=lambda case: case.case_id)]
    return _assign(sorted(chosen, key=lambda pick: pick[0].case_id), sorted(set(reviewers)))


def _seed(seed: str, period: str, agent: str) -> int:
    return int.from_bytes(hashlib.sha256(f"{seed}|{period}|{agent}".encode()).digest()[:8], "big")


def _assign(chosen: list[tuple[ClosedCase, tuple[str, ...]]], reviewers: list[str]) -> list[Chosen]:
    result = []
    turn = 0
    for case, because in chosen:
        eligible = [reviewer for reviewer in reviewers if reviewer != case.agent]
        reviewer = None
        if eligible:
            # Take the next in turn among all reviewers, passing over the agent themself.
            while reviewers[turn % len(reviewers)] == case.agent:
                turn += 1
            reviewer = reviewers[turn % len(reviewers)]
            turn += 1
        result.append(Chosen(case, reviewer, because))
    return result


def week_before(moment: datetime, zone: ZoneInfo) -> tuple[datetime, datetime]:
    """The whole week (Monday to Monday, in the department's time zone) before the one `moment` is in."""
    local = moment.astimezone(zone).date()
    monday = local - timedelta(days=local.weekday())
    return datetime.combine(monday - timedelta(days=7), time(), zone), datetime.combine(monday, time(), zone)
