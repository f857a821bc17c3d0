"""Operators see the service: Prometheus metrics, request ids, JSON logs with request and case ids."""

import json
import logging
import re

from service.observability import JsonFormatter, case_id_var, request_id_var
from tests.conftest import auth


def metric(text: str, name: str, **labels: str) -> float:
    selector = ",".join(f'{key}="{value}"' for key, value in sorted(labels.items()))
    pattern = rf"^{re.escape(name)}(?:\{{{re.escape(selector)}\}})? ([0-9.e+-]+)$" if labels else rf"^{re.escape(name)} ([0-9.e+-]+)$"
    found = re.search(pattern, text, re.M)
    return float(found.group(1)) if found else 0.0


async def scrape(http) -> str:
    response = await http.get("/metrics", headers=auth("auditor"))
    assert response.status_code == 200
    return response.text


async def test_metrics_need_a_token(http):
    assert (await http.get("/metrics")).status_code == 401


async def test_transitions_rejections_and_read_model_writes_are_counted(http, api):
    before = await scrape(http)
    case = await api.open()
    await api.act(case["id"], "acknowledge")
    await api.act(case["id"], "dismiss", role="supervisor", data={"reason": "x"}, status=409)
    after = await scrape(http)
    counted = lambda text, name, **labels: metric(text, name, **labels)  # noqa: E731
    assert (
        counted(after, "casework_transitions_total", kind="complaint", action="acknowledge")
        == counted(before, "casework_transitions_total", kind="complaint", action="acknowledge") + 1
    )
    assert counted(after, "casework_transitions_total", kind="complaint", action="report") >= 1
    assert (
        counted(after, "casework_transitions_rejected_total", reason="ActionNotAllowed")
        == counted(before, "casework_transitions_rejected_total", reason="ActionNotAllowed") + 1
    )
    assert counted(after, "casework_read_model_write_seconds_count") >= counted(before, "casework_read_model_write_seconds_count") + 2
    assert 'path="/cases/{case_id}/transitions"' in after  # request latency by route, not by case


async def test_every_response_carries_a_request_id(http):
    first = await http.get("/health")
    second = await http.get("/health")
    assert len(first.headers["x-request-id"]) == 32 and first.headers["x-request-id"] != second.headers["x-request-id"]


def test_json_log_lines_carry_the_request_and_the_case():
    record = logging.LogRecord("casework", logging.INFO, __file__, 1, "moved %s", ("c1",), None)
    tokens = request_id_var.set("r1"), case_id_var.set("c1")
    try:
        line = json.loads(JsonFormatter().format(record))
    finally:
        request_id_var.reset(tokens[0])
        case_id_var.reset(tokens[1])
    assert line["message"] == "moved c1" and line["request_id"] == "r1" and line["case_id"] == "c1" and line["level"] == "info"
