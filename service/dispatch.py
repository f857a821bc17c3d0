"""Routing a new case: the department's rules pick the team, the team's method picks the agent.

The API calls this for a case reported through it, before it sends the report (service/cases.py;
since case workflow v12 the report carries the decision); the worker, from the case's workflow
(workflows/activities.py `project_report`), for a case escalated or opened by another case or a
timer. The decision is plain data the workflow records as the case's `dispatch` event
(states/machine.py), so the history says who got the case and why.
"""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from service.teams import Department
from states.case import CaseState
from states.holidays import NO_HOLIDAYS, HolidayCalendar
from states.machine import spec_for
from states.routing import Candidate, choose_agent, choose_team
from states.shifts import parse_shifts
from workflows.inputs import Dispatch


class Dispatcher:
    def __init__(self, department: Department, timezone: str, holidays: HolidayCalendar = NO_HOLIDAYS):
        self._department = department
        self._zone = ZoneInfo(timezone)
        self._holidays = holidays

    async def dispatch(self, case: CaseState) -> Dispatch | None:
        """Where the case goes; None when the department has no routing at all (nothing to record)."""
        if not spec_for(case.kind).routed:
            return None
        routing = await self._department.routing()
        if not routing.rules and routing.default_team is None:
            return None
        choice = choose_team(routing, case)
        if choice.team is None:
            return Dispatch(team=None, owner=case.owner, rule=None, reason=choice.reason)
        team = await self._department.team(choice.team)
        if team is None:  # teams are never removed by Casework; one removed from the database by hand: leave it for a supervisor
            return Dispatch(team=None, owner=case.owner, rule=choice.rule, reason=f"{choice.reason}, but team {choice.team!r} is gone")
        now = datetime.now(UTC)
        agents = await self._department.agents_of(team.name, now)
        open_cases = await self._department.open_cases_by_owner(agent.name for agent in agents)
        candidates = [
            Candidate(agent.name, open_cases.get(agent.name, 0), self._on_shift(agent.shifts or team.shifts, now), agent.away) for agent in agents
        ]
        picked = choose_agent(team.assignment, candidates, team.last_assigned)
        if picked.agent is not None:
            await self._department.note_assigned(team.name, picked.agent)
        reason = f"{choice.reason}; {picked.reason}"
        return Dispatch(team.name, picked.agent, choice.rule, reason, team.assignment, team.sla_policy)

    def _on_shift(self, shifts: dict | None, now: datetime) -> bool:
        """Whether these shifts (an agent's own, else their team's; none: always) cover now."""
        return shifts is None or parse_shifts(shifts, "shifts").covers(now, self._zone, self._holidays)
