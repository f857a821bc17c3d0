"""Quality checks (质检) in the console over HTTP: every word in both catalogs, CSRF, and roles
(auditors change nothing; quality reviewers change no case)."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from api.labels import LANGUAGES, has_label
from service.directory import Directory
from states.case import format_time
from states.quality import CheckAction, CheckStatus
from states.sampling import BREACHED, DISSATISFIED, RANDOM, REOPENED
from states.scorecard import BREACH, REOPEN
from states.vocabulary import Role
from tests.api.console_client import Browser
from tests.conftest import Api, auth

TEMPLATES = Path(__file__).resolve().parents[2] / "api" / "templates"
QUALITY_TEMPLATES = (
    "quality_queue.html",
    "quality_mine.html",
    "quality_check.html",
    "_quality_list.html",
    "_quality_points.html",
    "_nav_quality.html",
)
REVIEWER, REVIEWER_PASSWORD = "quinn-console", "quinn-console-password"
FULL = {"knowledge": 30, "communication": 25, "problem_solving": 25, "attitude": 15, "efficiency": 5}


def terms() -> list[tuple[str, str]]:
    found: list[tuple[str, str]] = [("quality_status", status) for status in CheckStatus] + [("quality_action", action) for action in CheckAction]
    found += [("quality_reason", reason) for reason in (REOPENED, BREACHED, DISSATISFIED, RANDOM)]
    found += [("quality_automatic", cause) for cause in (BREACH, REOPEN)]
    for name in QUALITY_TEMPLATES:
        keys = re.findall(r'ui\("([a-z_]+)"', (TEMPLATES / name).read_text(encoding="utf-8"))
        # A key the template completes (quality_sample_ ~ from / to) is listed whole below.
        found += [("console", key) for key in keys if not key.endswith("_")]
    found += [("console", f"quality_sample_{end}") for end in ("from", "to")]
    return list(dict.fromkeys(found))


@pytest.mark.parametrize("language", list(LANGUAGES))
def test_every_quality_word_has_a_label_in_each_language(language):
    assert [term for term in terms() if not has_label(language, *term)] == []


async def signed_in(browser, name: str, password: str | None = None) -> Browser:
    person = browser()
    answer = await person.sign_in(name, password)
    assert answer.status_code == 303, answer.text[:300]
    return person


async def scored_check(api: Api, read_model) -> dict:
    """A closed complaint of ann's, sampled and scored, with the quality reviewer in the directory."""
    if await Directory(read_model).person(REVIEWER) is None:
        await Directory(read_model).add(REVIEWER, Role.QUALITY, REVIEWER_PASSWORD)
    start = datetime.now(UTC) - timedelta(seconds=1)
    case = await api.open(title="控制台质检")
    await api.act(case["id"], "acknowledge")
    await api.act(case["id"], "assign", role="supervisor", data={"owner": "ann"})
    for action, data in [("start_analysis", None), ("propose_remedy", {"solution": "退款"}), ("complete_remedy", {"resolution": "已退款"})]:
        await api.act(case["id"], action, data=data)
    await api.act(case["id"], "record_satisfaction", data={"satisfied": True, "score": 5})
    period = {"from": format_time(start), "to": format_time(datetime.now(UTC) + timedelta(seconds=1))}
    made = (await api.client.post("/quality/samples", json=period, headers=auth("supervisor"))).json()["items"]
    (check,) = [check for check in made if check["case_id"] == case["id"]]
    scored = await api.client.post(f"/quality/checks/{check['id']}/score", json={"items": FULL}, headers=auth("supervisor"))
    assert scored.status_code == 200, scored.text
    return scored.json()


async def test_an_auditor_reads_checks_and_changes_none_through_the_console(browser, api: Api, read_model):
    check = await scored_check(api, read_model)
    ada = await signed_in(browser, "ada")
    page = (await ada.get(f"/ui/quality/checks/{check['id']}")).text
    assert "评分表" in page and "提交评分" not in page and "提交申诉" not in page
    assert check["case_id"] in (await ada.get("/ui/quality", status="scored", all="1")).text
    for path, body in [
        (f"/ui/quality/checks/{check['id']}/appeal", {"reason": "审计员申诉"}),
        (f"/ui/quality/checks/{check['id']}/decide", {"upheld": "true", "comment": "x"}),
        ("/ui/quality/samples", {"from": "2026-11-01", "to": "2026-11-07"}),
    ]:
        assert (await ada.post(path, body)).status_code == 403, path
    assert (await api.client.get(f"/quality/checks/{check['id']}", headers=auth("auditor"))).json()["version"] == check["version"]


async def test_an_appeal_without_the_forms_token_is_refused_and_a_refused_one_says_why_beside_the_field(browser, api: Api, read_model):
    check = await scored_check(api, read_model)
    ann = await signed_in(browser, "ann")
    path = f"/quality/checks/{check['id']}"
    assert (await ann.post(f"/ui{path}/appeal", {"reason": "没有令牌"}, csrf=False)).status_code == 403
    refused = await ann.post(f"/ui{path}/appeal", {"reason": "  "})
    assert refused.status_code == 422 and "请写明申诉理由。" in refused.text
    assert (await api.client.get(path, headers=auth("agent"))).json()["status"] == "scored"
    assert (await ann.post(f"/ui{path}/appeal", {"reason": "客户先挂断"})).status_code == 303
    assert (await api.client.get(path, headers=auth("agent"))).json()["appeal"]["reason"] == "客户先挂断"


async def test_a_quality_reviewer_has_a_queue_and_no_button_that_changes_a_case(browser, api: Api, read_model):
    check = await scored_check(api, read_model)
    quinn = await signed_in(browser, REVIEWER, REVIEWER_PASSWORD)
    home = (await quinn.get("/ui/quality")).text
    assert "质检队列" in home and "/ui/cases/new" not in home and "我的案件" not in home
    assert (await quinn.get("/ui/cases/new")).status_code == 403
    case_page = (await quinn.get(f"/ui/cases/{check['case_id']}")).text
    assert "/act/" not in case_page
    assert (await quinn.post(f"/ui/cases/{check['case_id']}/act/comment", {"note": "质检员备注", "request_id": "q1"})).status_code == 403


async def test_a_supervisor_samples_a_period_from_the_queue_and_a_bad_date_is_named_beside_its_field(browser, api: Api):
    sam = await signed_in(browser, "sam")
    refused = await sam.post("/ui/quality/samples", {"from": "2026-12-07", "to": "2026-12-01"})
    assert refused.status_code == 422 and "结束日期不能早于开始日期。" in refused.text
    assert 'value="2026-12-07"' in refused.text  # what was typed is kept
    refused = await sam.post("/ui/quality/samples", {"from": "昨天", "to": "2026-12-01"})
    assert refused.status_code == 422 and "请选择日期。" in refused.text
    made = await sam.post("/ui/quality/samples", {"from": "2020-01-06", "to": "2020-01-12"})
    assert made.status_code == 303 and "/ui/quality?made=0&already=0&from=2020-01-06&to=2020-01-12" in made.headers["location"]
    assert "已抽取 0 条质检。" in (await sam.get("/ui/quality", made="0")).text
    ann = await signed_in(browser, "ann")
    assert (await ann.post("/ui/quality/samples", {"from": "2020-01-06", "to": "2020-01-12"})).status_code == 403
    assert (await ann.get("/ui/quality")).status_code == 403  # an agent has 我的质检, not the queue
