"""The department in the console over HTTP: team queues and 认领, the managers' pages for users,
teams, routing and handover — who may open them, CSRF, and refusals shown beside the field."""

from __future__ import annotations

import dataclasses
import re
import secrets
from collections.abc import Callable
from urllib.parse import quote

import pytest

from service.directory import Directory
from service.teams import Department
from states.vocabulary import HEAD_OFFICE, AssignmentMethod, Role
from tests.api.console_client import Browser
from tests.conftest import serving
from tests.support import eventually

PASSWORD = "department-test-password"


@pytest.fixture
def person(read_model) -> Callable:
    """`await person(Role.MANAGER)`: a new directory user of that role; returns their name."""

    async def add(role: Role) -> str:
        name = f"{role}-{secrets.token_hex(4)}"
        await Directory(read_model).add(name, role, PASSWORD)
        return name

    return add


async def signed_in(browser, name: str) -> Browser:
    someone = browser()
    answer = await someone.sign_in(name, PASSWORD)
    assert answer.status_code == 303, answer.text[:500]
    return someone


def unique(prefix: str) -> str:
    return f"{prefix}-{secrets.token_hex(4)}"


MANAGER_PAGES = ("/ui/department/users", "/ui/department/teams/new", "/ui/department/routing", "/ui/department/handover")
CHANGES = (
    ("/ui/department/users", {"name": "x-nobody", "role": "agent", "password": "long-enough-password"}),
    ("/ui/department/teams/new", {"name": "x-team", "site": "总部", "assignment": "none"}),
    ("/ui/department/routing", {"rule_count": "0"}),
    ("/ui/department/handover", {"user": "ann", "to_team": "x"}),
)


async def test_agents_and_auditors_are_refused_every_managers_page_and_change(browser, person, read_model):
    agent, auditor = await signed_in(browser, await person(Role.AGENT)), await signed_in(browser, await person(Role.AUDITOR))
    for someone in (agent, auditor):
        for path in (*MANAGER_PAGES, "/ui/department/teams"):
            answer = await someone.get(path)
            assert answer.status_code == 403, path
            assert '<form method="post" action="/ui/department' not in answer.text
        for path, data in (*CHANGES, ("/ui/queues/x-team/claim", {"case_id": "x", "request_id": "c1"})):
            assert (await someone.post(path, data)).status_code == 403, path
    assert await Directory(read_model).person("x-nobody") is None
    assert await Department(read_model).team("x-team") is None


async def test_a_supervisor_reads_the_teams_but_changes_nothing(browser, person, read_model):
    team = unique("读组")
    await Department(read_model).add_team("test", {"name": team, "site": HEAD_OFFICE, "assignment": AssignmentMethod.NONE})
    supervisor = await signed_in(browser, await person(Role.SUPERVISOR))
    teams = await supervisor.get("/ui/department/teams")
    assert teams.status_code == 200 and team in teams.text
    assert "站点：总部" in teams.text  # the head office by its name
    assert "/ui/department/teams/new" not in teams.text  # no button to add one
    for path in MANAGER_PAGES:
        assert (await supervisor.get(path)).status_code == 403, path
    for path, data in CHANGES:
        assert (await supervisor.post(path, data)).status_code == 403, path


async def test_a_change_without_the_csrf_token_is_refused_and_changes_nothing(browser, person, read_model):
    manager = await signed_in(browser, await person(Role.MANAGER))
    name = unique("无令牌")
    answer = await manager.post("/ui/department/teams/new", {"name": name, "site": "总部", "assignment": "none"}, csrf=False)
    assert answer.status_code == 403
    assert await Department(read_model).team(name) is None
    user = unique("nocsrf")
    answer = await manager.post("/ui/department/users", {"name": user, "role": "agent", "password": PASSWORD}, csrf=False)
    assert answer.status_code == 403 and await Directory(read_model).person(user) is None


async def test_a_team_naming_an_unknown_member_is_refused_beside_members_with_the_input_kept(browser, person, read_model):
    manager = await signed_in(browser, await person(Role.MANAGER))
    agent = await person(Role.AGENT)
    name = unique("华东一组")
    form = {"name": name, "site": "杭州", "assignment": "round_robin", "shifts": "workdays 08:30-17:30"}
    answer = await manager.client.post("/ui/department/teams/new", data={"csrf_token": manager.csrf, **form, "members": [agent, "no-such-person"]})
    assert answer.status_code == 422
    error = re.search(r'<p class="field-error" id="team-members-error">([^<]+)</p>', answer.text)
    assert error and "no-such-person" in error.group(1) and "字段值无效" in error.group(1)
    assert f'value="{name}"' in answer.text and "workdays 08:30-17:30" in answer.text  # kept
    assert await Department(read_model).team(name) is None

    bad_shift = {**form, "shifts": "mon 25:00-26:00"}
    answer = await manager.post("/ui/department/teams/new", bad_shift)
    assert answer.status_code == 422 and 'id="team-shifts-error"' in answer.text

    answer = await manager.client.post("/ui/department/teams/new", data={"csrf_token": manager.csrf, **form, "members": [agent]})
    assert answer.status_code == 303
    team = await Department(read_model).team(name)
    assert team is not None and team.members == (agent,) and team.shifts == {"workdays": "08:30-17:30"}

    editing = await manager.get(f"/ui/department/teams/{quote(name)}")
    assert f'<option value="{agent}" selected>' in editing.text and "workdays 08:30-17:30" in editing.text
    changed = {"site": "杭州", "assignment": "least_open_cases", "shifts": "", "members": [agent]}
    answer = await manager.client.post(f"/ui/department/teams/{quote(name)}", data={"csrf_token": manager.csrf, **changed})
    assert answer.status_code == 303
    team = await Department(read_model).team(name)
    assert team is not None and (team.assignment, team.shifts, team.members) == ("least_open_cases", None, (agent,))


async def test_a_manager_adds_a_user_into_a_team_and_marks_them_away_and_back(browser, person, read_model):
    manager_name = await person(Role.MANAGER)
    manager = await signed_in(browser, manager_name)
    department = Department(read_model)
    team = unique("客服二组")
    await department.add_team(manager_name, {"name": team, "site": "总部", "assignment": AssignmentMethod.NONE})
    user = unique("new-agent")
    short = await manager.post("/ui/department/users", {"name": user, "role": "agent", "password": "short"})
    assert short.status_code == 422 and 'id="add-user-password-error"' in short.text and f'value="{user}"' in short.text
    answer = await manager.client.post(
        "/ui/department/users", data={"csrf_token": manager.csrf, "name": user, "role": "agent", "password": PASSWORD, "teams": [team]}
    )
    assert answer.status_code == 303
    assert (await department.membership(user)).teams == (team,)

    wrong = await manager.post(f"/ui/department/users/{user}/away", {"away_from": "2030-02-01T09:00", "away_to": "2030-01-01T09:00"})
    assert wrong.status_code == 422 and 'id="away-away_to-error"' in wrong.text
    assert (
        await manager.post(f"/ui/department/users/{user}/away", {"away_from": "2030-01-01T09:00", "away_to": "2030-01-08T18:00"})
    ).status_code == 303
    away = await Directory(read_model).person(user)
    assert away is not None
    away_from, away_to = away.away_from, away.away_to
    assert away_from is not None and away_to is not None  # typed in Shanghai time:
    assert (away_from.isoformat(), away_to.isoformat()) == ("2030-01-01T01:00:00+00:00", "2030-01-08T10:00:00+00:00")
    page = await manager.get("/ui/department/users")
    assert "2030-01-01 09:00" in page.text
    assert (await manager.post(f"/ui/department/users/{user}/away", {"back": "1"})).status_code == 303
    back = await Directory(read_model).person(user)
    assert back is not None and (back.away_from, back.away_to) == (None, None)

    changed = await manager.client.post(f"/ui/department/users/{user}", data={"csrf_token": manager.csrf, "role": "supervisor", "disabled": "1"})
    assert changed.status_code == 303
    changed_person = await Directory(read_model).person(user)
    assert changed_person is not None and changed_person.role == Role.SUPERVISOR and changed_person.disabled
    assert (await department.membership(user)).teams == ()  # no team was ticked
    logged = [change for change in await department.changes(50) if change["name"] == user]
    assert {"role": "supervisor", "disabled": True} in [change["change"] for change in logged] and any(
        "away" in change["change"] for change in logged
    )


async def test_routing_refusal_is_shown_beside_the_rules_team_and_rules_are_reordered(browser, person, read_model):
    manager_name = await person(Role.MANAGER)
    manager = await signed_in(browser, manager_name)
    department = Department(read_model)
    first, second = unique("路由甲"), unique("路由乙")
    for team in (first, second):
        await department.add_team(manager_name, {"name": team, "site": "总部", "assignment": AssignmentMethod.NONE})
    try:
        refused = await manager.post(
            "/ui/department/routing",
            {
                "rule_count": "2",
                "rules-0-order": "1",
                "rules-0-kind": "complaint",
                "rules-0-team": first,
                "rules-1-order": "2",
                "rules-1-vip": "true",
                "rules-1-team": "no-such-team",
            },
        )
        assert refused.status_code == 422
        assert re.search(r'id="rules-1-team-error">字段值无效<', refused.text), refused.text[-3000:]
        assert 'value="complaint" selected' in refused.text  # what was typed is kept
        assert (await department.routing()).rules == ()

        saved = await manager.post(
            "/ui/department/routing",
            {
                "rule_count": "3",
                "rules-0-order": "2", "rules-0-kind": "complaint", "rules-0-team": first,
                "rules-1-order": "1", "rules-1-vip": "true", "rules-1-team": second,
                "rules-2-order": "3", "rules-2-priority": "urgent", "rules-2-team": second, "rules-2-remove": "1",
                "default_team": first,
            },
        )  # fmt: skip
        assert saved.status_code == 303
        routing = await department.routing()
        assert [(rule.match, rule.team) for rule in routing.rules] == [({"vip": True}, second), ({"kind": "complaint"}, first)]
        assert routing.default_team == first
    finally:
        await department.set_routing("test", {"rules": []})


async def test_an_agent_claims_an_unassigned_case_of_their_team_and_another_team_is_refused(browser, person, read_model, api):
    department = Department(read_model)
    agent_name, outsider_name = await person(Role.AGENT), await person(Role.AGENT)
    team, other = unique("认领组"), unique("别的组")
    await department.add_team("test", {"name": team, "site": "总部", "assignment": AssignmentMethod.NONE, "members": [agent_name]})
    await department.add_team("test", {"name": other, "site": "总部", "assignment": AssignmentMethod.NONE, "members": [outsider_name]})
    case = await api.open(title="待认领的投诉")
    await api.act(case["id"], "assign", role="supervisor", data={"team": team})

    async def unassigned():
        current = await api.get(case["id"])
        return current if current["team"] == team and current["owner"] is None else None

    await eventually(unassigned, 10, "the case in the team's queue")
    agent = await signed_in(browser, agent_name)
    queue = await agent.get(f"/ui/queues/{team}")
    assert queue.status_code == 200 and "待认领的投诉" in queue.text and "认领" in queue.text
    assert f'href="/ui/queues/{quote(team)}"' in queue.text  # the nav's entry for the team
    outsider = await signed_in(browser, outsider_name)
    assert (await outsider.get(f"/ui/queues/{team}")).status_code == 403
    assert (await outsider.post(f"/ui/queues/{team}/claim", {"case_id": case["id"], "request_id": "x1"})).status_code == 403

    without_token = await agent.post(f"/ui/queues/{team}/claim", {"case_id": case["id"], "request_id": "x2"}, csrf=False)
    assert without_token.status_code == 403 and (await api.get(case["id"]))["owner"] is None
    claimed = await agent.post(f"/ui/queues/{team}/claim", {"case_id": case["id"], "request_id": "claim1"})
    assert claimed.status_code == 303 and claimed.headers["location"] == f"/ui/cases/{case['id']}"
    assert (await api.get(case["id"]))["owner"] == agent_name
    again = await agent.post(f"/ui/queues/{team}/claim", {"case_id": case["id"], "request_id": "claim2"})
    assert again.status_code == 409 and 'role="alert"' in again.text


PHONE, EMAIL = "13812345678", "zhang.san@example.com"


async def test_console_pages_mask_contacts_outside_the_team_and_hide_other_teams_cases_when_visibility_is_team(
    browser, person, read_model, api, stack_settings
):
    department = Department(read_model)
    owner, outsider = await person(Role.AGENT), await person(Role.AGENT)
    team, other = unique("保密组"), unique("外组")
    await department.add_team("test", {"name": team, "site": "总部", "assignment": AssignmentMethod.NONE, "members": [owner]})
    await department.add_team("test", {"name": other, "site": "总部", "assignment": AssignmentMethod.NONE, "members": [outsider]})
    title = unique("保密客户的投诉")
    customer = {"id": unique("C-"), "name": "张三", "phone": PHONE, "email": EMAIL}
    case = await api.open(title=title, customer=customer)
    await api.act(case["id"], "assign", role="supervisor", data={"team": team, "owner": owner})

    mine, theirs = await signed_in(browser, owner), await signed_in(browser, outsider)
    whole = (await mine.get(f"/ui/cases/{case['id']}")).text
    assert PHONE in whole and EMAIL in whole
    masked = (await theirs.get(f"/ui/cases/{case['id']}")).text
    assert "138****5678" in masked and "z***@example.com" in masked
    assert PHONE not in masked and EMAIL not in masked  # nor in the history's report

    async with serving(dataclasses.replace(stack_settings, visibility="team")) as team_only:
        outsider_there = Browser(str(team_only.base_url))
        owner_there = Browser(str(team_only.base_url))
        try:
            assert (await outsider_there.sign_in(outsider, PASSWORD)).status_code == 303
            assert (await owner_there.sign_in(owner, PASSWORD)).status_code == 303
            assert case["id"] not in (await outsider_there.get("/ui/cases", q=title)).text
            assert (await outsider_there.get(f"/ui/cases/{case['id']}")).status_code == 404
            assert (await outsider_there.get(f"/ui/cases/{case['id']}/act/comment")).status_code == 404
            assert case["id"] in (await owner_there.get("/ui/cases", q=title)).text
            assert (await owner_there.get(f"/ui/cases/{case['id']}")).status_code == 200
        finally:
            await outsider_there.close()
            await owner_there.close()


async def test_a_handover_without_a_target_is_refused_beside_it_and_one_without_the_token_changes_nothing(browser, person, read_model, api):
    manager = await signed_in(browser, await person(Role.MANAGER))
    leaving, taking = await person(Role.AGENT), await person(Role.AGENT)
    case = await api.open(title=unique("交接前"))
    await api.act(case["id"], "assign", role="supervisor", data={"owner": leaving})

    form = await manager.form(f"/ui/department/handover?user={leaving}")
    refused = await manager.post("/ui/department/handover", {"user": leaving, "request_id": form["request_id"]})
    assert refused.status_code == 422
    assert re.search(r'id="handover-to_user-error">缺少必填项<', refused.text)
    assert f'<option value="{leaving}" selected>' in refused.text  # the user chosen stays chosen
    both = await manager.post("/ui/department/handover", {"user": leaving, "to_user": taking, "to_team": "x", "request_id": form["request_id"]})
    assert both.status_code == 422 and 'id="handover-to_user-error"' in both.text

    without_token = await manager.post("/ui/department/handover", {"user": leaving, "to_user": taking, "request_id": form["request_id"]}, csrf=False)
    assert without_token.status_code == 403 and (await api.get(case["id"]))["owner"] == leaving

    done = await manager.post("/ui/department/handover", {"user": leaving, "to_user": taking, "request_id": form["request_id"]})
    assert done.status_code == 200 and "交接结果：1/1 件成功" in done.text
    assert (await api.get(case["id"]))["owner"] == taking
    again = await manager.post("/ui/department/handover", {"user": leaving, "to_user": taking, "request_id": form["request_id"]})
    assert "交接结果：0/0 件成功" in again.text  # nothing of theirs is left to move
    assert [event["action"] for event in await api.history(case["id"])].count("assign") == 2


async def test_the_assign_form_offers_enabled_people_and_the_departments_teams_to_choose(browser, person, read_model, api):
    team = unique("指派组")
    await Department(read_model).add_team("test", {"name": team, "site": HEAD_OFFICE, "assignment": AssignmentMethod.NONE})
    gone = await person(Role.AGENT)
    await Directory(read_model).disable(gone)
    case = await api.open(title=unique("指派表单"))
    supervisor = await signed_in(browser, await person(Role.SUPERVISOR))
    form = (await supervisor.get(f"/ui/cases/{case['id']}/act/assign")).text
    owners = re.search(r'<select id="act-assign-owner" name="owner".*?</select>', form, re.S)
    teams = re.search(r'<select id="act-assign-team" name="team".*?</select>', form, re.S)
    assert owners and teams, form
    assert '<option value="ann">Ann (ann)</option>' in owners.group(0)
    assert 'value="ada"' not in owners.group(0) and f'value="{gone}"' not in owners.group(0)  # an auditor, a disabled user
    assert f'<option value="{team}">{team}</option>' in teams.group(0)
