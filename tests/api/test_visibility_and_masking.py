"""Who sees which cases (CASEWORK_VISIBILITY) and whose customer contacts show whole, through the
real stack: agents outside a case's team read its phone and email masked everywhere a case shows,
exports are masked for all but managers and auditors, and with visibility "team" an agent's lists,
counts, reads, history, actions and live feed hold their own and their teams' cases alone."""

from __future__ import annotations

import dataclasses
import json
import secrets
from contextlib import asynccontextmanager

import pytest

from states.vocabulary import RefusalCode, Role
from tests.api.department_people import People, Person
from tests.conftest import auth, serving
from tests.sse import live

PHONE, EMAIL = "13812345678", "zhang.san@example.com"
MASKED = {"phone": "138****5678", "email": "z***@example.com"}
WHOLE = {"phone": PHONE, "email": EMAIL}


@dataclasses.dataclass
class Scene:
    people: People
    owner: Person
    teammate: Person
    outsider: Person
    manager: Person
    case: dict
    customer_id: str


async def _scene(people: People) -> Scene:
    owner, teammate = await people.person(Role.AGENT, "owner"), await people.person(Role.AGENT, "teammate")
    outsider, manager = await people.person(Role.AGENT, "outsider"), await people.person(Role.MANAGER, "boss")
    team = await people.team("华东组", [], [owner, teammate])
    await people.team("华南组", [], [outsider])
    customer_id = f"C-{secrets.token_hex(4)}"
    customer = {"id": customer_id, "name": "张三", "phone": PHONE, "email": EMAIL}
    case = await people.in_queue(manager, owner, team, owner=owner, customer=customer)
    return Scene(people, owner, teammate, outsider, manager, case, customer_id)


@pytest.fixture
def people(read_model, http) -> People:
    return People(read_model, http)


def _contacts(holder: dict) -> dict:
    """The customer's phone and email in a case, or in a report event's data."""
    return {key: holder["customer"][key] for key in ("phone", "email")}


async def _read(scene: Scene, headers: dict) -> dict:
    response = await scene.people.http.get(f"/cases/{scene.case['id']}", headers=headers)
    assert response.status_code == 200, response.text
    return response.json()


async def _listed(scene: Scene, headers: dict) -> list[dict]:
    response = await scene.people.http.get("/cases", params={"customer_id": scene.customer_id}, headers=headers)
    assert response.status_code == 200, response.text
    return response.json()["items"]


async def _report_event(scene: Scene, headers: dict) -> dict:
    response = await scene.people.http.get(f"/cases/{scene.case['id']}/history", headers=headers)
    assert response.status_code == 200, response.text
    return response.json()["items"][0]


async def test_an_agent_outside_the_cases_team_reads_its_customers_contacts_masked(people):
    scene = await _scene(people)
    outsider = scene.outsider.headers

    assert _contacts(await _read(scene, outsider)) == MASKED
    assert [_contacts(case) for case in await _listed(scene, outsider)] == [MASKED]
    reported = (await _report_event(scene, outsider))["data"]
    assert (_contacts(reported), reported["customer"]["name"]) == (MASKED, "张三"), "the report in the history too"
    commented = await people.act(scene.outsider, scene.case["id"], "comment")  # anyone may comment
    assert _contacts(commented) == MASKED
    assert (await _read(scene, outsider))["customer"]["name"] == "张三", "only the contacts are masked"


async def test_the_owner_the_team_and_those_above_read_the_contacts_whole(people):
    scene = await _scene(people)
    for headers in (scene.owner.headers, scene.teammate.headers, scene.manager.headers, auth("supervisor"), auth("auditor")):
        assert _contacts(await _read(scene, headers)) == WHOLE
        assert [_contacts(case) for case in await _listed(scene, headers)] == [WHOLE]
        assert _contacts((await _report_event(scene, headers))["data"]) == WHOLE


async def test_a_masked_number_is_not_found_by_searching_for_it(people):
    scene = await _scene(people)
    for headers in (scene.outsider.headers, scene.owner.headers):
        response = await people.http.get("/cases", params={"q": PHONE}, headers=headers)
        assert scene.case["id"] not in [case["id"] for case in response.json()["items"]], "phone and email are not searched"


async def test_exports_show_contacts_whole_to_managers_and_auditors_alone(people):
    scene = await _scene(people)
    for headers, contacts in ((auth("supervisor"), MASKED), (scene.manager.headers, WHOLE), (auth("auditor"), WHOLE)):
        exported = await people.http.get("/audit/cases", params={"customer_id": scene.customer_id, "format": "jsonl"}, headers=headers)
        assert exported.status_code == 200, exported.text
        [line] = exported.text.splitlines()
        assert _contacts(json.loads(line)) == contacts
        events = await people.http.get("/audit/events", params={"actor": scene.owner.name, "format": "jsonl"}, headers=headers)
        report = json.loads(events.text.splitlines()[0])
        assert report["action"] == "report" and _contacts(report["data"]) == contacts
    spreadsheet = await people.http.get("/audit/events", params={"actor": scene.owner.name, "format": "csv"}, headers=auth("supervisor"))
    assert MASKED["phone"] in spreadsheet.text and PHONE not in spreadsheet.text and EMAIL not in spreadsheet.text


@asynccontextmanager
async def _team_only(stack_settings):
    async with serving(dataclasses.replace(stack_settings, visibility="team")) as client:
        yield client


async def test_with_team_visibility_an_agent_sees_only_their_own_and_their_teams_cases(people, stack_settings):
    scene = await _scene(people)
    hidden = scene.case["id"]
    async with _team_only(stack_settings) as client:
        outsider, teammate = scene.outsider.headers, scene.teammate.headers
        for path in (f"/cases/{hidden}", f"/cases/{hidden}/history"):
            response = await client.get(path, headers=outsider)
            assert (response.status_code, response.json()["code"]) == (404, RefusalCode.UNKNOWN_CASE), path
        comment = await client.post(f"/cases/{hidden}/transitions", json={"action": "comment"}, headers=outsider)
        assert comment.status_code == 404, comment.text
        listed = await client.get("/cases", params={"customer_id": scene.customer_id}, headers=outsider)
        assert listed.json()["items"] == []
        counted = await client.get("/cases/counts", params={"customer_id": scene.customer_id, "group_by": "phase"}, headers=outsider)
        assert counted.json()["total"] == 0

        for headers in (teammate, auth("supervisor"), auth("auditor"), scene.manager.headers):
            assert (await client.get(f"/cases/{hidden}", headers=headers)).status_code == 200
            listed = await client.get("/cases", params={"customer_id": scene.customer_id}, headers=headers)
            assert [case["id"] for case in listed.json()["items"]] == [hidden]
        own = (await client.post("/cases", json={"kind": "complaint", "title": "自己的"}, headers=outsider)).json()
        assert (await client.get(f"/cases/{own['id']}", headers=outsider)).status_code == 200, "their own case, in no team"


async def test_with_team_visibility_the_live_feed_carries_only_the_cases_an_agent_may_see(people, stack_settings):
    scene = await _scene(people)
    async with _team_only(stack_settings) as client:
        own = (await client.post("/cases", json={"kind": "complaint", "title": "自己的"}, headers=scene.outsider.headers)).json()
        async with live(client, scene.outsider.headers) as stream:
            await people.act(scene.owner, scene.case["id"], "comment")
            await people.act(scene.outsider, own["id"], "comment")
            [seen] = await stream.changes(1, {scene.case["id"], own["id"]})
        assert seen.json()["case_id"] == own["id"]
        async with live(client, scene.teammate.headers) as stream:
            await people.act(scene.owner, scene.case["id"], "comment")
            [seen] = await stream.changes(1, scene.case["id"])


async def test_with_visibility_for_all_an_agent_reads_another_teams_case(people):
    scene = await _scene(people)
    assert (await _read(scene, scene.outsider.headers))["id"] == scene.case["id"]
