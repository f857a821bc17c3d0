"""Handover (seed 004 §4(2)2: an agent going on leave hands over their cases first): every open
case of a user goes to another user, or back to a team's queue, in one supervisor's action. Each
case is its own `assign` (its own rules, history and refusal) with the handover as its reason."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from service.bulk import MAX_CASES, Outcome, act_on_each
from service.cases import Cases
from service.read_model import CaseFilter
from service.teams import Department
from states.case import Actor
from states.common import ASSIGN
from states.errors import ActionForbidden, InvalidData
from states.vocabulary import RefusalCode, Role

PAGE = 500
# Cases handed over at once: each is an update of its own workflow, so they need not wait in line.
PARALLEL = 4
HANDING_ROLES: list[str] = [Role.SUPERVISOR, Role.MANAGER]


@dataclass(frozen=True)
class Handover:
    """Who hands over whose cases, to whom: exactly one of `to_user` and `to_team` (its queue)."""

    user: str
    to_user: str | None = None
    to_team: str | None = None

    @property
    def reason(self) -> str:
        return f"handover: {self.user} → {self.to_user or self.to_team}"

    @property
    def assignment(self) -> dict[str, str | None]:
        if self.to_team is not None:
            return {"team": self.to_team, "owner": None, "reason": self.reason}
        return {"owner": self.to_user, "reason": self.reason}


async def hand_over(cases: Cases, department: Department, actor: Actor, handover: Handover, request_id: str) -> list[Outcome]:
    """Assign each open case `handover.user` owns as the handover says; an outcome per case. The
    same `request_id` again changes nothing twice: each case's update id is derived from it."""
    await _check(cases, department, actor, handover)
    owned = await _open_cases_of(cases, handover.user)
    size = max(1, min(MAX_CASES, -(-len(owned) // PARALLEL)))
    chunks = [owned[start : start + size] for start in range(0, len(owned), size)]
    done = await asyncio.gather(*(act_on_each(cases, chunk, ASSIGN.name, actor, None, handover.assignment, request_id) for chunk in chunks))
    return [outcome for outcomes in done for outcome in outcomes]


async def _check(cases: Cases, department: Department, actor: Actor, handover: Handover) -> None:
    """Refusals of the whole request: the user unknown (LookupError), the target, the actor."""
    if not await cases.knows(handover.user):
        raise LookupError(f"no user {handover.user}")
    if (handover.to_user is None) == (handover.to_team is None):
        raise InvalidData("to_user", "give to_user, or to_team to put the cases in that team's queue", RefusalCode.MISSING_FIELD)
    if handover.to_user is not None:
        if handover.to_user == handover.user:
            raise InvalidData("to_user", "must be someone other than the user handing over")
        problem = await cases.person_problem(handover.to_user)
        if problem:
            raise InvalidData("to_user", f"{handover.to_user!r} {problem}")
    if handover.to_team is not None and await department.team(handover.to_team) is None:
        raise InvalidData("to_team", f"{handover.to_team!r} is no team of the department")
    if actor.role == Role.MANAGER:
        return
    if actor.role != Role.SUPERVISOR:
        raise ActionForbidden("handover", actor.role or "", HANDING_ROLES)
    # A supervisor hands over the members of the teams they lead (a user in no team: any supervisor,
    # as a department without teams works); the cases themselves are checked one by one.
    their_teams = (await department.membership(handover.user)).teams
    leads = (await department.membership(actor.name)).leads
    if their_teams and not set(their_teams) & set(leads):
        reason = f"{handover.user} is in {', '.join(their_teams)}: only supervisors of those teams and managers hand over their cases"
        raise ActionForbidden("handover", actor.role, HANDING_ROLES, reason, RefusalCode.NOT_IN_TEAM)


async def _open_cases_of(cases: Cases, user: str) -> list[str]:
    """Every open case the user owns, every page, taken before any is moved."""
    where = CaseFilter(owner=user, open=True)
    found: list[str] = []
    cursor = None
    while True:
        page = await cases.find(where, PAGE, cursor)
        found.extend(case["id"] for case in page.items)
        if page.next_cursor is None:
            return found
        cursor = page.next_cursor
