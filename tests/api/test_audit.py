"""An audit trail an auditor can trust: verification catches tampering; exports hold exactly the events."""

import csv
import io
import json
import os
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import delete, insert, update

from service.audit import Audit
from service.cases import WorkflowConfig
from service.directory import Directory
from service.tables import events
from service.teams import Department
from states.case import parse_time
from states.chain import GENESIS, event_hash
from tests.api.test_quality import closed_case, sample
from tests.conftest import auth
from tests.support import COMPLAINT_WALK, eventually
from tests.workflows.walking import walk_case

CASEWORK = Path(sys.executable).parent / "casework"


async def walked_complaint(api) -> str:
    case = await api.open()
    await api.take(case["id"], COMPLAINT_WALK[:6], note=lambda step: f"{step.action} 备注")
    return case["id"]


def spreadsheet_rows(response) -> list[dict[str, str]]:
    """A CSV export for a person: a BOM first (for Excel), then a header row of labels."""
    assert response.content.startswith(b"\xef\xbb\xbf")
    return list(csv.DictReader(io.StringIO(response.content.decode("utf-8-sig"))))


async def verify(http, case_id: str, role: str = "auditor") -> dict:
    response = await http.get(f"/cases/{case_id}/history/verify", headers=auth(role))
    assert response.status_code == 200, response.text
    return response.json()


async def test_an_untouched_case_verifies_and_its_events_form_a_hash_chain(api, http):
    case_id = await walked_complaint(api)
    result = await verify(http, case_id)
    assert result | {"case_id": None} == {
        "case_id": None, "ok": True, "events": 7, "temporal": "checked", "runs": 1, "seq": None, "problem": None, "detail": None,
    }  # fmt: skip
    history = await api.history(case_id)
    assert history[0]["prev_hash"] == GENESIS
    assert all(later["prev_hash"] == earlier["hash"] for earlier, later in zip(history, history[1:]))


async def test_changing_a_stored_field_is_caught_at_its_seq(api, http, read_model):
    case_id = await walked_complaint(api)
    async with read_model.engine.begin() as connection:
        await connection.execute(update(events).where(events.c.case_id == case_id, events.c.seq == 4).values(note="edited later"))
    result = await verify(http, case_id)
    assert (result["ok"], result["seq"], result["problem"]) == (False, 4, "changed field")


async def test_deleting_a_stored_event_is_caught_at_its_seq(api, http, read_model):
    case_id = await walked_complaint(api)
    async with read_model.engine.begin() as connection:
        await connection.execute(delete(events).where(events.c.case_id == case_id, events.c.seq == 5))
    result = await verify(http, case_id)
    assert (result["ok"], result["seq"], result["problem"]) == (False, 5, "missing event")


async def test_inserting_an_event_is_caught_even_with_a_valid_looking_chain(api, http, read_model):
    case_id = await walked_complaint(api)
    history = await api.history(case_id)
    forged = dict(history[-1], seq=8, prev_hash=history[-1]["hash"], action="comment", note="forged")
    forged["hash"] = event_hash(forged)
    async with read_model.engine.begin() as connection:
        await connection.execute(
            insert(events).values(
                case_id=case_id, seq=8, action="comment", from_state=forged["from_state"], to_state=forged["to_state"],
                actor_name=forged["actor"]["name"], actor_role=forged["actor"]["role"], at=parse_time(forged["at"]), note="forged", data=forged["data"],
                request_id=forged["request_id"], prev_hash=forged["prev_hash"], hash=forged["hash"],
            )
        )  # fmt: skip
    result = await verify(http, case_id)
    assert (result["ok"], result["seq"], result["problem"]) == (False, 8, "extra event")


async def test_swapping_two_stored_events_is_caught_at_the_first(api, http, read_model):
    case_id = await walked_complaint(api)
    async with read_model.engine.begin() as connection:
        for old, new in [(3, 99), (4, 3), (99, 4)]:
            await connection.execute(update(events).where(events.c.case_id == case_id, events.c.seq == old).values(seq=new))
    result = await verify(http, case_id)
    assert (result["ok"], result["seq"]) == (False, 3)
    assert result["problem"] in ("changed field", "broken link")


async def test_a_case_that_continued_as_new_verifies_across_its_runs(temporal_env, read_model, worker, stack_settings):
    policy = WorkflowConfig(stack_settings.task_queue, reopen_window_seconds=3600, events_per_run=3)
    case_id = await walk_case(temporal_env.client, read_model, policy, "complaint")
    result = await Audit(temporal_env.client, read_model).verify(case_id)
    assert result.ok, result
    assert result.runs >= 3 and result.events == len(COMPLAINT_WALK) + 1


async def test_a_case_whose_temporal_history_is_gone_is_checked_by_its_chain(api, http, temporal_env):
    from temporalio.api.common.v1 import WorkflowExecution
    from temporalio.api.workflowservice.v1 import DeleteWorkflowExecutionRequest

    case_id = await walked_complaint(api)
    await temporal_env.client.workflow_service.delete_workflow_execution(
        DeleteWorkflowExecutionRequest(namespace="default", workflow_execution=WorkflowExecution(workflow_id=case_id))
    )

    async def gone():
        result = await verify(http, case_id)
        return result if result["temporal"] == "gone" else None

    result = await eventually(gone, what="history reported gone")
    assert (result["ok"], result["temporal"], result["events"]) == (True, "gone", 7)
    assert (await api.get(case_id))["version"] == 7


async def test_temporal_raw_history_shows_every_run_with_payloads_decoded(api, http):
    case_id = await walked_complaint(api)
    response = await http.get(f"/cases/{case_id}/history/temporal", headers=auth("supervisor"))
    assert response.status_code == 200
    runs = response.json()["runs"]
    assert len(runs) == 1
    text = json.dumps(runs, ensure_ascii=False)
    assert "record_findings 备注" in text and "WORKFLOW_EXECUTION_STARTED" in text


async def test_the_export_holds_exactly_the_events_of_the_cases_in_its_window(api, http):
    since = datetime.now(UTC).isoformat()
    case_ids = [await walked_complaint(api) for _ in range(3)]
    expected = {(case_id, seq) for case_id in case_ids for seq in range(1, 8)}

    jsonl = await http.get("/audit/events", params={"since": since}, headers=auth("auditor"))
    assert jsonl.status_code == 200 and jsonl.headers["content-type"].startswith("application/x-ndjson")
    lines = [json.loads(line) for line in jsonl.text.splitlines()]
    assert {(line["case_id"], line["seq"]) for line in lines} == expected and len(lines) == len(expected)
    assert lines == sorted(lines, key=lambda line: (line["at"], line["case_id"], line["seq"]))

    as_csv = await http.get("/audit/events", params={"since": since}, headers={**auth("auditor"), "Accept": "text/csv", "Accept-Language": "en"})
    rows = spreadsheet_rows(as_csv)
    assert {(row["Case"], int(row["No."])) for row in rows} == expected
    assert any("备注" in row["Note"] for row in rows)

    resumed = await http.get("/audit/events", params={"since": since, "cursor": lines[9]["cursor"]}, headers=auth("auditor"))
    assert [json.loads(line)["seq"] for line in resumed.text.splitlines()] == [line["seq"] for line in lines[10:]]
    only_ann = await http.get("/audit/events", params={"since": since, "actor": "sam"}, headers=auth("auditor"))
    assert {json.loads(line)["action"] for line in only_ann.text.splitlines()} == {"assign"}

    formula = '=HYPERLINK("http://example.com/x","click")'
    await api.act(case_ids[0], "comment", note=formula)
    exported = await http.get("/audit/events", params={"since": since, "actor": "ann"}, headers=auth("auditor"))
    assert formula in [json.loads(line)["note"] for line in exported.text.splitlines()]  # JSON Lines: exact
    as_csv = await http.get("/audit/events", params={"since": since, "actor": "ann", "format": "csv", "lang": "en"}, headers=auth("auditor"))
    notes = [row["Note"] for row in spreadsheet_rows(as_csv)]
    assert "'" + formula in notes and formula not in notes  # CSV: shown as text, never run


async def test_agents_may_not_audit(http, api):
    case = await api.open()
    for path in [f"/cases/{case['id']}/history/verify", f"/cases/{case['id']}/history/temporal", "/audit/events"]:
        assert (await http.get(path, headers=auth("agent"))).status_code == 403


# A value for each query parameter an operation requires.
REQUIRED_QUERY = {"group_by": "phase"}


async def test_an_auditor_walks_every_route_and_no_mutating_route_answers_2xx(http, api, read_model):
    case = await api.open()
    review = (await http.post("/reviews", json={}, headers=auth("supervisor"))).json()
    checked = await closed_case(api, breach=False, reopen=False)
    check = next(each for each in await sample(api, parse_time(checked["created_at"])) if each["case_id"] == checked["id"])
    team = (await Department(read_model).add_team("tests", {"name": f"walked-{case['id']}", "site": "总部"})).name
    user = (await Directory(read_model).add(f"walked-{case['id']}", "agent", None)).name
    made = await http.post("/assessments", json={"period": "monthly", "from": checked["created_at"], "agents": [user]}, headers=auth("manager"))
    assert made.status_code == 201, made.text
    assessment = made.json()["items"][0]
    spec = (await http.get("/schema/openapi.json")).json()
    walked = 0
    for path, methods in spec["paths"].items():
        concrete = path.replace("{case_id}", case["id"]).replace("{kind}", "complaint").replace("{review_id}", review["id"])
        concrete = concrete.replace("/teams/{name}", f"/teams/{team}").replace("/users/{name}", f"/users/{user}")
        concrete = concrete.replace("{check_id}", check["id"]).replace("{assessment_id}", assessment["id"])
        for method in methods:
            if method not in ("get", "post", "put", "patch", "delete"):
                continue
            body = {"kind": "complaint", "title": "t", "action": "comment"} if method != "get" else None
            parameters = methods[method].get("parameters", [])
            query = {each["name"]: REQUIRED_QUERY[each["name"]] for each in parameters if each.get("in") == "query" and each.get("required")}
            # The status alone: the live stream (GET /events/live) never ends by itself.
            async with http.stream(method.upper(), concrete, json=body, params=query, headers=auth("auditor")) as response:
                walked += 1
                expected = 200 if method == "get" else 403
                if path.startswith("/codec/"):
                    # The codec protocol POSTs but reads (decrypts) only; without CASEWORK_PAYLOAD_KEYS, as here,
                    # it says there is nothing to decrypt (tests/api/test_payload_encryption.py: auditors decode).
                    expected = 403 if path == "/codec/encode" else 404
                if path == "/inbox/{item_id}/read":
                    # Their own read marks are the one thing auditors change (docs/notification-rules.md);
                    # a message that is not theirs is not found.
                    expected = 404
                if response.status_code != expected:
                    await response.aread()
                assert response.status_code == expected, (method, path, response.status_code, response.text)
    assert walked >= 10
    assert (await api.get(case["id"]))["version"] == 1
    assert (await http.get(f"/quality/checks/{check['id']}", headers=auth("auditor"))).json()["status"] == check["status"]


def run_cli(stack_settings, *arguments: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "CASEWORK_TEMPORAL_ADDRESS": stack_settings.temporal_address, "CASEWORK_DATABASE_URL": stack_settings.database_url}
    return subprocess.run([str(CASEWORK), "audit", *arguments], capture_output=True, text=True, timeout=120, env=env)


async def test_the_command_line_exports_csv_and_verifies_every_case(api, stack_settings, read_model, tmp_path):
    since = datetime.now(UTC).isoformat()
    case_id = await walked_complaint(api)
    output = tmp_path / "events.csv"
    exported = run_cli(stack_settings, "export", "--since", since, "--format", "csv", "-o", str(output))
    assert exported.returncode == 0, exported.stderr
    rows = list(csv.DictReader(output.open(encoding="utf-8")))
    assert [(row["case_id"], int(row["seq"])) for row in rows] == [(case_id, seq) for seq in range(1, 8)]

    checked = run_cli(stack_settings, "verify", "--case", case_id)
    assert checked.returncode == 0 and "1 ok, 0 failed" in checked.stdout, checked.stdout + checked.stderr
    async with read_model.engine.begin() as connection:
        await connection.execute(update(events).where(events.c.case_id == case_id, events.c.seq == 2).values(note="x"))
    everything = run_cli(stack_settings, "verify", "--all")
    assert everything.returncode == 1
    assert f"FAILED {case_id} at seq 2: changed field" in everything.stderr
    assert "failed" in everything.stdout.splitlines()[-1]


async def test_each_event_records_the_request_that_caused_it(http, api):
    case = await api.open()
    response = await http.post(f"/cases/{case['id']}/transitions", json={"action": "acknowledge"}, headers=auth("agent"))
    history = await api.history(case["id"])
    assert history[1]["request_id"] == response.headers["x-request-id"]
    assert history[0]["request_id"] and history[0]["request_id"] != history[1]["request_id"]
