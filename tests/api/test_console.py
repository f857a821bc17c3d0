"""The console over HTTP: sign-in, its security, and every change going through the same rules as the API."""

from __future__ import annotations

import dataclasses
import re

from service.directory import Directory
from tests.api.console_client import PASSWORDS, Browser, ensure_people, hidden_fields
from tests.conftest import Api, serving
from tests.support import eventually

HOSTILE_TITLE = "<img src=x onerror=alert(1)> 物流延误"


async def signed_in(browser, name: str) -> Browser:
    person = browser()
    answer = await person.sign_in(name)
    assert answer.status_code == 303, answer.text[:500]
    return person


async def test_root_sends_a_stranger_to_sign_in_and_a_signed_in_user_home(browser):
    stranger = browser()
    assert (await stranger.get("/")).headers["location"] == "/ui/login"
    assert (await stranger.get("/ui/cases")).headers["location"].startswith("/ui/login?next=")
    ann = await signed_in(browser, "ann")
    assert (await ann.get("/")).headers["location"] == "/ui/cases/mine"
    ada = await signed_in(browser, "ada")
    assert (await ada.get("/")).headers["location"] == "/ui/cases"


async def test_a_wrong_name_and_a_wrong_password_get_the_same_message(browser):
    wrong_password = await browser().sign_in("ann", "not-her-password")
    wrong_name = await browser().sign_in("nobody-here", "not-her-password")
    assert wrong_password.status_code == wrong_name.status_code == 401
    message = re.compile(r'<p class="error" role="alert" id="sign-in-error">([^<]+)</p>')
    shown = [message.findall(answer.text) for answer in (wrong_password, wrong_name)]
    assert shown == [["用户名或密码错误"], ["用户名或密码错误"]]
    assert 'value="nobody-here"' in wrong_name.text  # the name typed is kept, the password is not
    assert "not-her-password" not in wrong_name.text


async def test_the_session_cookie_is_http_only_and_same_site(browser):
    answer = await browser().sign_in("ann")
    cookie = next(value for value in answer.headers.get_list("set-cookie") if value.startswith("casework_session="))
    assert "HttpOnly" in cookie and "SameSite=lax" in cookie
    assert "Secure" not in cookie  # served over plain HTTP here; CASEWORK_SECURE_COOKIES=on adds it


async def test_sign_in_without_the_forms_token_is_refused(browser):
    person = browser()
    await person.get("/ui/login")
    refused = await person.post("/ui/login", {"name": "ann", "password": "ann-console-password"}, csrf=False)
    assert refused.status_code == 403
    assert "casework_session" not in refused.headers.get("set-cookie", "")


async def test_a_change_without_the_csrf_token_is_refused_and_changes_nothing(browser, api: Api):
    case = await api.open(title="CSRF 测试")
    sam = await signed_in(browser, "sam")
    form = await sam.form(f"/ui/cases/{case['id']}/act/comment")
    body = {"note": "不应记录", "expected_version": form["expected_version"], "request_id": form["request_id"]}
    assert (await sam.post(f"/ui/cases/{case['id']}/act/comment", body, csrf=False)).status_code == 403
    forged = await sam.post(f"/ui/cases/{case['id']}/act/comment", {**body, "csrf_token": "0" * 64}, csrf=False)
    assert forged.status_code == 403
    assert (await sam.post("/ui/cases/new", {"kind": "complaint", "title": "x", "description": "y"}, csrf=False)).status_code == 403
    assert (await sam.post("/ui/logout", {}, csrf=False)).status_code == 403
    assert (await api.get(case["id"]))["version"] == case["version"]


async def test_every_console_page_carries_a_strict_content_security_policy(browser, api: Api):
    case = await api.open(title="CSP 测试")
    sam = await signed_in(browser, "sam")
    for path in ("/ui/login", "/ui/cases", "/ui/cases/mine", "/ui/cases/new", f"/ui/cases/{case['id']}", f"/ui/cases/{case['id']}/act/comment"):
        policy = (await sam.get(path)).headers["content-security-policy"]
        directives = dict(part.strip().split(" ", 1) for part in policy.split(";"))
        assert directives["script-src"] == "'self'", path
        assert "unsafe-inline" not in policy and "unsafe-eval" not in policy
        assert directives["frame-ancestors"] == "'none'"


async def test_text_users_typed_is_shown_as_text(browser):
    ann = await signed_in(browser, "ann")
    form = await ann.form("/ui/cases/new?kind=complaint")
    answer = await ann.post(
        "/ui/cases/new", {"kind": "complaint", "request_id": form["request_id"], "title": HOSTILE_TITLE, "description": HOSTILE_TITLE}
    )
    assert answer.status_code == 303
    for path in (answer.headers["location"], "/ui/cases/mine"):
        page = (await ann.get(path)).text
        assert "&lt;img src=x onerror=alert(1)&gt; 物流延误" in page
        assert "<img src=x" not in page


async def test_an_auditor_can_change_nothing_through_the_console(browser, api: Api):
    case = await api.open(title="审计员只读")
    ada = await signed_in(browser, "ada")
    page = (await ada.get(f"/ui/cases/{case['id']}")).text
    assert "/act/" not in page  # no action button at all
    assert "校验" in page
    assert (await ada.get("/ui/cases/new")).status_code == 403
    assert (await ada.get(f"/ui/cases/{case['id']}/act/comment")).status_code == 403
    attempts = [
        (f"/ui/cases/{case['id']}/act/comment", {"note": "审计员的备注", "request_id": "a1"}),
        (f"/ui/cases/{case['id']}/act/acknowledge", {"request_id": "a2"}),
        ("/ui/cases/new", {"kind": "complaint", "title": "审计员新建", "description": "x", "request_id": "a3"}),
        ("/ui/cases/bulk", {"action": "comment", "case_ids": case["id"], "note": "批量", "request_id": "a4"}),
    ]
    for path, body in attempts:
        assert (await ada.post(path, body)).status_code == 403, path
    assert (await api.get(case["id"]))["version"] == case["version"]


async def test_a_disabled_user_is_signed_out_on_the_next_request(browser, read_model):
    directory = Directory(read_model)
    await directory.add("temp-agent", "agent", "temp-agent-password")
    person = browser()
    assert (await person.sign_in("temp-agent", "temp-agent-password")).status_code == 303
    assert (await person.get("/ui/cases/mine")).status_code == 200
    await directory.disable("temp-agent")
    assert (await person.get("/ui/cases/mine")).headers["location"].startswith("/ui/login")


async def test_sign_out_ends_the_session(browser):
    ann = await signed_in(browser, "ann")
    assert (await ann.post("/ui/logout", {})).headers["location"] == "/ui/login"
    assert (await ann.get("/ui/cases/mine")).headers["location"].startswith("/ui/login")


async def test_the_language_switch_is_remembered_for_the_user(browser):
    sam = await signed_in(browser, "sam")
    try:
        assert "我的案件" in (await sam.get("/ui/cases/mine")).text
        assert (await sam.post("/ui/language", {"language": "en", "back": "/ui/cases"})).headers["location"] == "/ui/cases"
        again = await signed_in(browser, "sam")  # another browser of the same user
        page = (await again.get("/ui/cases/mine")).text
        assert "My cases" in page and "我的案件" not in page
    finally:
        await sam.post("/ui/language", {"language": "zh-CN"})


async def test_a_refused_form_says_why_beside_the_field_and_keeps_what_was_typed(browser, api: Api):
    case = await api.open(title="缺少字段")
    await api.act(case["id"], "start_analysis")
    ann = await signed_in(browser, "ann")
    form = await ann.form(f"/ui/cases/{case['id']}/act/propose_remedy")
    answer = await ann.post(
        f"/ui/cases/{case['id']}/act/propose_remedy",
        {"solution": "   ", "note": "先记下的备注", "expected_version": form["expected_version"], "request_id": form["request_id"]},
        htmx=True,
    )
    assert answer.status_code == 422
    assert 'id="act-propose_remedy-solution-error"' in answer.text and "缺少必填项" in answer.text
    assert "先记下的备注" in answer.text
    assert (await api.get(case["id"]))["state"] == "analyse"


async def test_a_stale_form_is_answered_with_the_new_state(browser, api: Api):
    case = await api.open(title="过期表单")
    ann = await signed_in(browser, "ann")
    form = await ann.form(f"/ui/cases/{case['id']}/act/comment")
    await api.act(case["id"], "start_analysis")  # someone else moves the case meanwhile
    answer = await ann.post(
        f"/ui/cases/{case['id']}/act/comment",
        {"note": "我的备注", "expected_version": form["expected_version"], "request_id": form["request_id"]},
        htmx=True,
    )
    assert answer.status_code == 409
    assert "已被他人更新" in answer.text and "分析" in answer.text and "我的备注" in answer.text
    assert hidden_fields(answer.text)["expected_version"] == form["expected_version"]  # sending it again stays refused


async def test_a_form_sent_twice_changes_the_case_once(browser, api: Api):
    case = await api.open(title="重复提交")
    ann = await signed_in(browser, "ann")
    form = await ann.form(f"/ui/cases/{case['id']}/act/comment")
    body = {"note": "只记一次", "request_id": form["request_id"]}
    for _ in range(2):
        assert (await ann.post(f"/ui/cases/{case['id']}/act/comment", body)).status_code == 303
    comments = [event for event in await api.history(case["id"]) if event["action"] == "comment"]
    assert len(comments) == 1


async def test_a_complaint_walks_from_report_to_closed_through_the_console_with_an_unsatisfied_customer(browser, api: Api):
    ann = await signed_in(browser, "ann")
    form = await ann.form("/ui/cases/new?kind=complaint")
    opened = await ann.post(
        "/ui/cases/new",
        {"kind": "complaint", "request_id": form["request_id"], "title": "快递丢件", "description": "客户说包裹未送达", "priority": "high",
         "customer_name": "李四", "customer_id": "C-42", "customer_vip": "true", "order_ref": "SO-7788"},
    )  # fmt: skip
    assert opened.status_code == 303
    case_id = opened.headers["location"].rsplit("/", 1)[1]
    steps = [
        ("acknowledge", {}),
        ("start_analysis", {}),
        ("record_findings", {"findings": "承运商遗失"}),
        ("propose_remedy", {"solution": "补发并赔偿运费"}),
        ("complete_remedy", {"resolution": "已补发"}),
        ("record_satisfaction", {"satisfied": "false", "note": "补发太慢"}),
        ("complete_remedy", {"resolution": "加急补发已签收"}),
        ("record_satisfaction", {"satisfied": "true", "score": "5"}),
    ]
    for action, data in steps:
        form = await ann.form(f"/ui/cases/{case_id}/act/{action}")
        answer = await ann.post(
            f"/ui/cases/{case_id}/act/{action}", {**data, "expected_version": form["expected_version"], "request_id": form["request_id"]}
        )
        assert answer.status_code == 303, (action, answer.text)
    case = await api.get(case_id)
    assert case["state"] == "closed" and case["customer"] == {"id": "C-42", "name": "李四", "vip": True, "phone": None, "email": None}
    assert case["data"]["order_ref"] == "SO-7788"
    page = (await ann.get(f"/ui/cases/{case_id}")).text
    assert "已结案" in page and "重要客户" in page and "回访" in page and "补发太慢" in page
    actions = [event["action"] for event in await api.history(case_id)]
    assert actions.count("record_satisfaction") == 2 and actions[-1] == "record_satisfaction"


async def test_a_supervisor_assigns_several_cases_at_once_with_a_result_for_each(browser, api: Api):
    first, second = await api.open(title="批量一"), await api.open(title="批量二")
    closed = await api.open(title="已驳回的")
    await api.act(closed["id"], "start_analysis")
    await api.act(closed["id"], "dismiss", role="supervisor", data={"reason": "重复投诉"})
    sam = await signed_in(browser, "sam")
    queue = await sam.form("/ui/cases")
    answer = await sam.post(
        "/ui/cases/bulk",
        {"action": "assign", "owner": "ann", "request_id": queue["request_id"], "case_ids": [first["id"], second["id"], closed["id"], "nosuchcase"]},
        htmx=True,
    )
    assert answer.status_code == 200, answer.text
    assert "2/4 件成功" in answer.text and "案件不存在" in answer.text and "当前阶段不能执行此操作" in answer.text
    assert (await api.get(first["id"]))["owner"] == (await api.get(second["id"]))["owner"] == "ann"


async def test_bulk_escalation_puts_every_selected_case_into_one_emergency_meeting(browser, api: Api):
    cases = [await api.open(title=f"同一故障 {number}") for number in range(3)]
    sam = await signed_in(browser, "sam")
    queue = await sam.form("/ui/cases")
    answer = await sam.post(
        "/ui/cases/bulk",
        {"action": "escalate", "reason": "同一系统故障", "request_id": queue["request_id"], "case_ids": [case["id"] for case in cases]},
        htmx=True,
    )
    assert "3/3 件成功" in answer.text
    incidents = {link["case_id"] for case in cases for link in (await api.get(case["id"]))["links"] if link["relation"] == "escalated_to"}
    assert len(incidents) == 1
    incident = incidents.pop()

    async def all_linked():
        linked = {link["case_id"] for link in (await api.get(incident))["links"] if link["relation"] == "escalated_from"}
        return linked == {case["id"] for case in cases}

    await eventually(all_linked)


async def test_times_are_shown_in_the_department_time_zone(browser, api: Api):
    case = await api.open(title="时区")
    ann = await signed_in(browser, "ann")
    page = (await ann.get(f"/ui/cases/{case['id']}")).text
    shown = re.findall(r'<time datetime="([^"]+)"', page)
    assert shown and all(moment.endswith("+08:00") for moment in shown)


async def take(person: Browser, case_id: str, action: str, data: dict[str, str]) -> None:
    form = await person.form(f"/ui/cases/{case_id}/act/{action}")
    answer = await person.post(
        f"/ui/cases/{case_id}/act/{action}", {**data, "expected_version": form["expected_version"], "request_id": form["request_id"]}
    )
    assert answer.status_code == 303, (action, answer.text)


async def open_through_console(person: Browser, kind: str, data: dict[str, str]) -> str:
    form = await person.form(f"/ui/cases/new?kind={kind}")
    answer = await person.post("/ui/cases/new", {"kind": kind, "request_id": form["request_id"], **data})
    assert answer.status_code == 303, answer.text[:800]
    return answer.headers["location"].rsplit("/", 1)[1]


async def test_an_emergency_meeting_runs_its_action_items_through_the_console(browser, api: Api):
    sam = await signed_in(browser, "sam")
    case_id = await open_through_console(
        sam,
        "incident",
        {"title": "支付系统宕机", "description": "全国用户无法付款", "priority": "urgent", "participants": "sam\nann\n", "host": "sam"},
    )
    await take(sam, case_id, "start_analysis", {})
    await take(sam, case_id, "record_cause", {"category": "system", "description": "数据库连接池耗尽"})
    await take(sam, case_id, "add_action_item", {"title": "扩容连接池", "owner": "ann", "due": "2030-01-01T09:00"})
    item_form = (await sam.get(f"/ui/cases/{case_id}/act/complete_action_item")).text
    item_id = re.search(r'<option value="([^"]+)">扩容连接池 · ann</option>', item_form)
    assert item_id, item_form
    await take(sam, case_id, "complete_action_item", {"item_id": item_id.group(1), "outcome": "已扩容"})
    await take(sam, case_id, "plan_measures", {})
    await take(sam, case_id, "measures_done", {})
    await take(sam, case_id, "close", {"effect": "恢复正常", "lessons_learned": "加监控", "minutes": "会议纪要全文"})
    case = await api.get(case_id)
    assert case["state"] == "closed" and case["data"]["participants"] == ["sam", "ann"]
    item = case["action_items"][0]
    assert item["done"] and item["due"].startswith("2030-01-01T01:00:00")  # 09:00 in Shanghai
    page = (await sam.get(f"/ui/cases/{case_id}")).text
    assert "扩容连接池" in page and "已完成" in page and "紧急会议" in page


async def test_an_improvement_plan_measures_itself_through_the_console(browser, api: Api):
    sam = await signed_in(browser, "sam")
    form = (await sam.get("/ui/cases/new?kind=improvement_plan")).text
    assert 'name="metric"' in form and 'name="plan_id"' not in form, form[-3000:]
    case_id = await open_through_console(
        sam, "improvement_plan", {"title": "降低重开率", "description": "重开太多", "problem": "重开率高", "metric": "reopen_rate"}
    )
    opened = await api.get(case_id)
    assert "baseline_measured" in opened["data"]
    await take(sam, case_id, "start_analysis", {})
    await take(sam, case_id, "record_cause", {"category": "training", "description": "新人培训不足"})
    await take(sam, case_id, "plan_measures", {})
    since = await api.open(title="措施后的投诉")  # a case reported after the measures, for the plan to measure
    await api.act(since["id"], "start_analysis")
    await api.act(since["id"], "dismiss", role="supervisor", data={"reason": "已解决"})
    await take(sam, case_id, "evaluate", {})
    assert (await api.get(case_id))["data"]["measured_after_value"] is not None
    await take(sam, case_id, "record_effect", {"effective": "true"})
    case = await api.get(case_id)
    assert case["state"] == "closed"
    effect = next(event for event in await api.history(case_id) if event["action"] == "record_effect")
    assert effect["data"]["after_value"] == case["data"]["measured_after_value"]


async def test_an_auditor_exports_the_list_she_sees_as_csv_and_xlsx(browser, api: Api):
    case = await api.open(title="导出测试 物流", kind="feedback")
    ada = await signed_in(browser, "ada")
    queue = (await ada.get("/ui/cases", kind="feedback")).text
    assert "/ui/export/cases?kind=feedback&amp;format=csv" in queue
    csv_export = await ada.get("/ui/export/cases", kind="feedback", format="csv")
    assert csv_export.status_code == 200 and csv_export.content.startswith(b"\xef\xbb\xbf")
    text = csv_export.content.decode("utf-8-sig")
    assert "导出测试 物流" in text and "反馈" in text and "投诉" not in text.split("\n", 1)[1]
    xlsx_export = await ada.get("/ui/export/events", format="xlsx")
    assert xlsx_export.status_code == 200 and xlsx_export.content.startswith(b"PK")
    ann = await signed_in(browser, "ann")
    assert (await ann.get("/ui/export/cases", format="csv")).status_code == 403
    assert case["id"] in text


async def test_search_finds_a_chinese_substring_and_the_queues_show_their_counts(browser, api: Api):
    wanted = await api.open(title="顾客投诉冷链物流延误导致变质", data={"order_ref": "SO-冷链-991"})
    await api.open(title="发票抬头开错了")
    ann = await signed_in(browser, "ann")
    found = (await ann.get("/ui/cases", q="冷链物流")).text
    assert wanted["id"] in found and "发票抬头开错了" not in found
    assert wanted["id"] in (await ann.get("/ui/cases", q="SO-冷链")).text  # the order reference
    nothing = (await ann.get("/ui/cases", q="没有这种案件")).text
    assert "没有符合条件的案件" in nothing
    counts = re.findall(r'<span class="count">(\d+)</span>', (await ann.get("/ui/cases/mine")).text)
    assert len(counts) == 2 and int(counts[0]) >= 2 and int(counts[1]) >= int(counts[0])


async def test_the_console_cookies_are_secure_when_the_console_is_served_over_https(stack_settings, read_model):
    await ensure_people(read_model)
    async with serving(dataclasses.replace(stack_settings, secure_cookies=True)) as client:
        form = await client.get("/ui/login")
        token = hidden_fields(form.text)["csrf_token"]
        # A browser sends a Secure cookie back over HTTPS only; this test speaks plain HTTP, so it sends it by hand.
        answer = await client.post(
            "/ui/login", data={"csrf_token": token, "name": "ann", "password": PASSWORDS["ann"]}, headers={"Cookie": f"casework_sign_in={token}"}
        )
    cookies = form.headers.get_list("set-cookie") + answer.headers.get_list("set-cookie")
    for name in ("casework_sign_in=", "casework_session="):
        cookie = next(value for value in cookies if value.startswith(name) and "Max-Age=0" not in value)
        assert "Secure" in cookie and "HttpOnly" in cookie, cookie


async def test_the_comment_form_offers_the_reply_flag(browser, api: Api):
    case = await api.open(title="回复客户")
    ann = await signed_in(browser, "ann")
    form_page = (await ann.get(f"/ui/cases/{case['id']}/act/comment")).text
    assert re.search(r'<input id="[^"]*" name="reply" type="checkbox" value="true"', form_page) and "回复客户" in form_page
    for reply in (False, True):
        form = await ann.form(f"/ui/cases/{case['id']}/act/comment")
        body = {"note": "已电话回复", "expected_version": form["expected_version"], "request_id": form["request_id"]}
        answer = await ann.post(f"/ui/cases/{case['id']}/act/comment", {**body, "reply": "true"} if reply else body)
        assert answer.status_code == 303, answer.text
    comments = [event["data"] for event in await api.history(case["id"]) if event["action"] == "comment"]
    assert [comment["reply"] for comment in comments] == [False, True]
