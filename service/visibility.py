"""What a person may see of cases: which cases (CASEWORK_VISIBILITY: every case, or an agent's own
and their teams' alone) and whether a case's customer contact details show whole or masked
(states/masking.py). Every route that shows cases (the JSON API, exports, the live feed, the
console) asks a `Viewer` made here, so the rule lives in one place.

- Supervisors, managers, auditors and quality reviewers (who sample any team's cases) see every
  case, contacts whole.
- An agent sees contacts whole on cases they own or of their teams; with visibility "team", no
  other case at all (a case they may not see is answered as if it did not exist).
- Exports show contacts whole to managers and auditors alone: a file leaves the system.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from service.cases import CaseNotFound
from service.read_model import CaseFilter
from service.teams import Department, Membership
from states.case import Actor
from states.masking import masked_customer, masked_event_data
from states.vocabulary import SUPERVISING_ROLES, Role

TEAM_ONLY = "team"  # CASEWORK_VISIBILITY: agents see their own and their teams' cases alone
# Quality reviewers read the cases they sample, whichever team handled them.
SEES_ALL = (*SUPERVISING_ROLES, Role.AUDITOR, Role.QUALITY)
EXPORTS_CONTACTS = (Role.MANAGER, Role.AUDITOR)


@dataclass(frozen=True)
class Viewer:
    name: str
    role: str
    teams: tuple[str, ...] = ()
    team_only: bool = False  # sees only cases they own or of their teams
    # Their teams as read for this request, where they had to be (the case rules read them too: once is enough).
    membership: Membership | None = field(default=None, compare=False)

    @property
    def sees_all(self) -> bool:
        return self.role in SEES_ALL

    @property
    def narrows(self) -> bool:
        """Whether some cases are hidden from this viewer (then each case read is checked)."""
        return self.team_only and not self.sees_all

    def narrowed(self, where: CaseFilter) -> CaseFilter:
        """The list's filter, narrowed to the cases this viewer may see."""
        if not self.narrows:
            return where
        return replace(where, seen_by=(self.name, self.teams))

    def may_see(self, case: Mapping[str, Any]) -> bool:
        return not self.narrows or self._close_to(case.get("owner"), case.get("team"))

    def seen(self, case: dict[str, Any]) -> dict[str, Any]:
        """The case as this viewer sees it; CaseNotFound when they may not see it at all."""
        if not self.may_see(case):
            raise CaseNotFound(str(case.get("id")))
        return self.shown(case)

    def shown(self, case: dict[str, Any]) -> dict[str, Any]:
        """A case of a list or a reply, its customer's contacts masked unless this viewer may read them."""
        return case if self.sees_contacts(case) else {**case, "customer": masked_customer(case.get("customer"))}

    def shown_events(self, case: Mapping[str, Any], events: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """A case's history: its report (and any event carrying a customer) masked like the case."""
        if self.sees_contacts(case):
            return events
        return [{**event, "data": masked_event_data(event.get("data") or {})} for event in events]

    def sees_contacts(self, case: Mapping[str, Any]) -> bool:
        return self.sees_all or self._close_to(case.get("owner"), case.get("team"))

    def follows(self, owner: str | None, team: str | None) -> bool:
        """Whether a live change to a case with this owner and team reaches this viewer."""
        return not self.narrows or self._close_to(owner, team)

    def _close_to(self, owner: Any, team: Any) -> bool:
        return owner == self.name or (team is not None and team in self.teams)


def exported_case(case: dict[str, Any], role: str) -> dict[str, Any]:
    """A case in an export file made for someone of `role`."""
    return case if role in EXPORTS_CONTACTS else {**case, "customer": masked_customer(case.get("customer"))}


def exported_event(event: dict[str, Any], role: str) -> dict[str, Any]:
    return event if role in EXPORTS_CONTACTS else {**event, "data": masked_event_data(event.get("data") or {})}


class Visibility:
    """Makes the viewer for the person asking; `setting` is CASEWORK_VISIBILITY (all | team)."""

    def __init__(self, department: Department, setting: str):
        self._department = department
        self._team_only = setting == TEAM_ONLY

    async def viewer(self, actor: Actor) -> Viewer:
        role = actor.role or ""
        if role in SEES_ALL:
            return Viewer(actor.name, role)
        membership = await self._department.membership(actor.name)
        return Viewer(actor.name, role, membership.teams, self._team_only, membership)
