"""Directory users with tokens and teams, made on the session's read model for one test: unique
names, so tests sharing the stack never meet each other's people."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import Any

import httpx

from service.directory import Directory
from service.read_model import ReadModel
from service.teams import Department
from states.vocabulary import AssignmentMethod

PASSWORD = "a long password for tests"


@dataclass(frozen=True)
class Person:
    name: str
    role: str
    headers: dict[str, str]


class People:
    """Makes people and teams, and calls the API as one of them."""

    def __init__(self, read_model: ReadModel, http: httpx.AsyncClient):
        self.read_model = read_model
        self.http = http
        self.department = Department(read_model)
        self._tag = secrets.token_hex(3)

    async def person(self, role: str, name: str) -> Person:
        full_name = f"{name}-{self._tag}"
        directory = Directory(self.read_model)
        await directory.add(full_name, role, PASSWORD)
        token = (await directory.issue_token(full_name)).token
        return Person(full_name, role, {"Authorization": f"Bearer {token}"})

    async def team(self, name: str, supervisors: list[Person], members: list[Person], assignment: str = AssignmentMethod.NONE, **fields: Any) -> str:
        full_name = f"{name}-{self._tag}"
        data = {
            "name": full_name,
            "site": "总部",
            "supervisors": [person.name for person in supervisors],
            "members": [person.name for person in members],
            "assignment": assignment,
            **fields,
        }
        await self.department.add_team("sam", data)
        return full_name

    async def open(self, reporter: Person, **body: Any) -> dict[str, Any]:
        body = {"kind": "complaint", "title": "快递破损", "description": "箱子压坏了", **body}
        response = await self.http.post("/cases", json=body, headers=reporter.headers)
        assert response.status_code == 201, response.text
        return response.json()

    async def act(self, who: Person, case_id: str, action: str, data: dict[str, Any] | None = None, status: int = 200) -> dict[str, Any]:
        body: dict[str, Any] = {"action": action, **({"data": data} if data is not None else {})}
        response = await self.http.post(f"/cases/{case_id}/transitions", json=body, headers=who.headers)
        assert response.status_code == status, response.text
        return response.json()

    async def in_queue(self, manager: Person, reporter: Person, team: str, owner: Person | None = None, **body: Any) -> dict[str, Any]:
        """A new case in the team's queue (a manager assigns it there), owned by `owner` if given."""
        case = await self.open(reporter, **body)
        data = {"team": team, **({"owner": owner.name} if owner else {})}
        return await self.act(manager, case["id"], "assign", data)
