"""Quality checks (质检) in the console, what review found: the check's own scorecard, refusals beside
their fields (never a 500, never cut text), people by their names and checks by their cases' titles,
the decision form's items only when the score changes, pre-filled."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from service.directory import Directory
from service.quality import QualityChecks, QualityConfig
from states.case import Actor, format_time
from states.scorecard import MAX_TEXT
from states.vocabulary import SYSTEM, Role
from tests.api.test_quality_console import FULL, REVIEWER, REVIEWER_PASSWORD, scored_check, signed_in
from tests.conftest import Api, auth

MANAGER, MANAGER_PASSWORD = "mona-console", "mona-console-password"
RUBRIC = {
    "items": [{"id": "accuracy", "zh": "准确性", "en": "Accuracy", "max": 60}, {"id": "tone", "zh": "语气", "en": "Tone", "max": 40}],
    "automatic": {"item": "tone"},
}


async def closed_case_of_ann(api: Api) -> dict:
    case = await api.open(title="另一评分表")
    await api.act(case["id"], "acknowledge")
    await api.act(case["id"], "assign", role="supervisor", data={"owner": "ann"})
    for action, data in [("start_analysis", None), ("propose_remedy", {"solution": "退款"}), ("complete_remedy", {"resolution": "已退款"})]:
        await api.act(case["id"], action, data=data)
    return await api.act(case["id"], "record_satisfaction", data={"satisfied": True, "score": 5})


async def test_a_check_is_scored_on_the_scorecard_it_was_sampled_with(browser, api: Api, read_model, temporal_env, stack_settings):
    await scored_check(api, read_model)  # the quality reviewer in the directory
    start = datetime.now(UTC) - timedelta(seconds=1)
    case = await closed_case_of_ann(api)
    earlier = QualityChecks(temporal_env.client, read_model, QualityConfig(stack_settings.task_queue, rubric=RUBRIC))
    made = await earlier.sample(start, datetime.now(UTC) + timedelta(seconds=1), Actor(SYSTEM))
    (check,) = [check for check in made if check["case_id"] == case["id"]]

    sam = await signed_in(browser, "sam")
    page = (await sam.get(f"/ui/quality/checks/{check['id']}")).text
    assert "准确性" in page and "业务知识" not in page
    scored = await sam.post(f"/ui/quality/checks/{check['id']}/score", {"items.accuracy": "60", "items.tone": "30", "comment": "语气平淡"})
    assert scored.status_code == 303, scored.text[:2000]
    after = (await api.client.get(f"/quality/checks/{check['id']}", headers=auth("auditor"))).json()
    assert after["items"] == {"accuracy": 60, "tone": 30} and after["deductions"][0]["reason"] == "语气平淡"


async def test_the_sample_form_names_a_far_date_and_too_long_a_period_beside_the_field(browser, api: Api):
    sam = await signed_in(browser, "sam")
    for period in (
        {"from": "9999-12-31", "to": "9999-12-31"},
        {"from": "2026-01-01", "to": "9999-12-31"},
        {"from": "2026-01-01", "to": "2026-04-03"},
    ):
        refused = await sam.post("/ui/quality/samples", period)
        assert refused.status_code == 422, period
        assert 'id="sample-to-error"' in refused.text and f'value="{period["to"]}"' in refused.text
    assert "一次抽取最多覆盖 92 天。" in refused.text
    taken = await sam.post("/ui/quality/samples", {"from": "2026-01-01", "to": "2026-04-02"})  # 92 days, the last one whole
    assert taken.status_code == 303


async def test_sampling_a_period_again_says_what_was_sampled_already_and_keeps_the_dates(browser, api: Api, read_model):
    await scored_check(api, read_model)  # a check of a case closed today
    day = datetime.now(ZoneInfo("Asia/Shanghai")).date().isoformat()
    sam = await signed_in(browser, "sam")
    again = await sam.post("/ui/quality/samples", {"from": day, "to": day})
    assert again.status_code == 303
    page = (await sam.get(again.headers["location"].removeprefix(str(sam.client.base_url)))).text
    # Other tests share this stack: cases they closed today may be drawn now; this one's is not again.
    already = re.search(r"此期间已有 (\d+) 条抽取过，不再重复抽取。", page)
    assert re.search(r"已抽取 \d+ 条质检。", page) and already and int(already.group(1)) >= 1 and f'value="{day}"' in page


async def test_too_long_a_text_is_refused_beside_its_field_not_cut(browser, api: Api, read_model):
    check = await scored_check(api, read_model)
    ann = await signed_in(browser, "ann")
    too_long = "长" * (MAX_TEXT + 1)
    refused = await ann.post(f"/ui/quality/checks/{check['id']}/appeal", {"reason": too_long})
    assert refused.status_code == 422 and "最多 2000 个字。" in refused.text and too_long in refused.text
    assert (await api.client.get(f"/quality/checks/{check['id']}", headers=auth("agent"))).json()["status"] == "scored"


async def test_quality_pages_name_people_as_the_forms_do_and_list_checks_by_case_title(browser, api: Api, read_model):
    check = await scored_check(api, read_model)
    quinn = await signed_in(browser, REVIEWER, REVIEWER_PASSWORD)
    queue = (await quinn.get("/ui/quality", all="1")).text
    assert "控制台质检" in queue and "Ann (ann)" in queue
    page = (await quinn.get(f"/ui/quality/checks/{check['id']}")).text
    assert "Ann (ann)" in page and "Sam (sam)" in page  # the agent, and who scored it in the check's history


async def test_the_decision_form_prefills_the_score_and_reasons_and_a_changed_score_keeps_unchanged_reasons(browser, api: Api, read_model):
    if await Directory(read_model).person(MANAGER) is None:
        await Directory(read_model).add(MANAGER, Role.MANAGER, MANAGER_PASSWORD)
    start = datetime.now(UTC) - timedelta(seconds=1)
    case = await closed_case_of_ann(api)
    period = {"from": format_time(start), "to": format_time(datetime.now(UTC) + timedelta(seconds=1))}
    made = (await api.client.post("/quality/samples", json=period, headers=auth("supervisor"))).json()["items"]
    (check,) = [check for check in made if check["case_id"] == case["id"]]
    path = f"/ui/quality/checks/{check['id']}"
    sam = await signed_in(browser, "sam")
    refused = await sam.post(
        f"{path}/score", {**{f"items.{item}": str(points) for item, points in FULL.items()}, "items.knowledge": "x", "items.attitude": "y"}
    )
    assert refused.status_code == 422 and 'id="score-knowledge-error"' in refused.text and 'id="score-attitude-error"' in refused.text
    reasons = {"communication": "打断客户", "attitude": "语气生硬"}
    scored = await api.client.post(
        f"/quality/checks/{check['id']}/score",
        json={"items": {**FULL, "communication": 20, "attitude": 12}, "reasons": reasons},
        headers=auth("supervisor"),
    )
    assert scored.status_code == 200, scored.text
    ann = await signed_in(browser, "ann")
    assert (await ann.post(f"{path}/appeal", {"reason": "客户先挂断"})).status_code == 303

    manager = await signed_in(browser, MANAGER, MANAGER_PASSWORD)
    page = (await manager.get(path)).text
    assert 'class="decide-items"' in page and 'name="items.communication" type="number" min="0" max="25" step="1" value="20"' in page
    assert 'name="reasons.attitude" value="语气生硬"' in page
    form = {f"items.{item}": str(points) for item, points in {**FULL, "communication": 20, "attitude": 14}.items()}
    form |= {f"reasons.{item}": reason for item, reason in reasons.items()} | {"upheld": "false", "comment": "部分成立"}
    decided = await manager.post(f"{path}/decide", form)
    assert decided.status_code == 303, decided.text[:2000]
    after = (await api.client.get(f"/quality/checks/{check['id']}", headers=auth("auditor"))).json()
    manual = {d["item"]: (d["points"], d["reason"]) for d in after["deductions"] if not d["automatic"]}
    assert manual == {"communication": (5, "打断客户"), "attitude": (1, "部分成立")}
