"""Health, the OpenAPI document and the machines as data need no case."""

import gc

from states.machine import KINDS, SPECS
from tests.conftest import auth, serving


async def test_health_answers_without_a_token(http):
    response = await http.get("/health")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "temporal": "ok", "read_model": "ok", "alerts": []}


async def test_the_openapi_document_is_public_and_lists_every_route(http):
    response = await http.get("/schema/openapi.json")
    assert response.status_code == 200
    paths = response.json()["paths"]
    for path in [
        "/cases",
        "/cases/counts",
        "/cases/{case_id}",
        "/cases/{case_id}/transitions",
        "/cases/{case_id}/history",
        "/machines",
        "/machines/{kind}",
        "/health",
    ]:
        assert path in paths, path


async def test_each_machine_is_served_as_data_with_a_mermaid_diagram(http):
    listed = (await http.get("/machines", headers=auth("auditor"))).json()["items"]
    assert [machine["kind"] for machine in listed] == KINDS
    for kind in KINDS:
        machine = (await http.get(f"/machines/{kind}", headers=auth("agent"))).json()
        assert [action["name"] for action in machine["actions"]] == [action.name for action in SPECS[kind].actions]
        assert machine["mermaid"].startswith("stateDiagram-v2")
    complaint = (await http.get("/machines/complaint", headers=auth("agent"))).json()
    assert "follow_up --> remediate: record_satisfaction [not satisfied]" in complaint["mermaid"]


async def test_an_unknown_kind_of_machine_is_a_404(http):
    response = await http.get("/machines/ticket", headers=auth("agent"))
    assert response.status_code == 404
    assert response.headers["content-type"].startswith("application/problem+json")


async def test_what_start_up_made_is_left_out_of_the_collectors_full_passes(worker, stack_settings):
    # A full pass over every object the API holds took ~0.1 s, the p99 of GET /kpis (docs/benchmarks.md).
    # An app of its own: the tests' other apps unfreeze everything as they stop (a test process goes on).
    gc.unfreeze()
    async with serving(stack_settings) as http:
        assert (await http.get("/health")).status_code == 200
        assert gc.get_freeze_count() > 0
