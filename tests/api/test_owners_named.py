"""Owners are people of the directory: an assignment or an action item naming no user, a disabled
user or no team is refused with a 422 naming the field, and the case stays as it was."""

from __future__ import annotations

import secrets

from service.directory import Directory
from service.teams import Department


async def test_owners_and_teams_named_in_actions_must_exist_and_be_enabled(api, read_model):
    directory = Directory(read_model)
    gone = f"gone-{secrets.token_hex(3)}"
    await directory.add(gone, "agent", "a long password")
    await directory.disable(gone)
    team = f"队-{secrets.token_hex(3)}"
    await Department(read_model).add_team("test", {"name": team, "site": "head_office"})
    case = await api.open()
    incident = await api.open("incident", role="supervisor")

    refusals = [
        (case["id"], "assign", {"owner": f"nobody-{secrets.token_hex(3)}"}, "data.owner", "is no user of the directory"),
        (case["id"], "assign", {"owner": gone}, "data.owner", "is disabled"),
        (case["id"], "assign", {"team": "no-such-team"}, "data.team", "is no team of the department"),
        (case["id"], "assign", {}, "data.owner", "give an owner, or a team"),
        (incident["id"], "add_action_item", {"title": "复盘", "owner": gone, "due": "2030-01-01T00:00:00Z"}, "data.owner", "is disabled"),
    ]
    for case_id, action, data, field, words in refusals:
        problem = await api.act(case_id, action, role="supervisor", data=data, status=422)
        assert problem["field"] == field and words in problem["detail"], problem
    assert (await api.get(case["id"]))["version"] == case["version"]

    moved = await api.act(case["id"], "assign", role="supervisor", data={"team": team, "reason": "夜班处理"})
    assert (moved["team"], moved["owner"]) == (team, None)
    await directory.add(f"back-{gone}", "agent", "a long password")
    # Now in a team that supervisor leads not: its supervisors and managers assign it (states/ownership.py).
    await api.act(case["id"], "assign", role="supervisor", data={"owner": f"back-{gone}"}, status=403)
    given = await api.act(case["id"], "assign", role="manager", data={"owner": f"back-{gone}"})
    assert (given["team"], given["owner"]) == (team, f"back-{gone}")
