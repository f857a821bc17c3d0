"""Exports a person opens in Excel: CSV with a BOM and XLSX, labelled in their language, times in the
department's zone, text kept as text; and the case list's export holds exactly what the list shows."""

from __future__ import annotations

import csv
import dataclasses
import io
import json
import re
import tempfile
import uuid
import zipfile
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any
from xml.etree import ElementTree
from zoneinfo import ZoneInfo

import pytest

from api.labels import LANGUAGES, has_label, label
from service import export
from service.export import CASES, EVENTS, Presentation
from service.spreadsheet import chunks, xlsx_file
from states.case import parse_time
from tests.api.conftest import DATABASES, stack_on
from tests.api.test_audit import walked_complaint
from tests.conftest import auth, serving

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
MAIN = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
SHANGHAI = ZoneInfo("Asia/Shanghai")
EXCEL_EPOCH = datetime(1899, 12, 30)
FORMULA = '=HYPERLINK("http://example.com/x","点我")'


def read_xlsx(content: bytes) -> dict[str, list[list[Any]]]:
    """Each sheet's rows as the file stores them: text as str, numbers as float; fails on any formula."""
    book = zipfile.ZipFile(io.BytesIO(content))
    assert book.testzip() is None
    shared = []
    if "xl/sharedStrings.xml" in book.namelist():
        shared = ["".join(t.text or "" for t in item.iter(f"{MAIN}t")) for item in ElementTree.fromstring(book.read("xl/sharedStrings.xml"))]
    names = [sheet.get("name", "") for sheet in ElementTree.fromstring(book.read("xl/workbook.xml")).iter(f"{MAIN}sheet")]
    sheets = {}
    for number, name in enumerate(names, start=1):
        root = ElementTree.fromstring(book.read(f"xl/worksheets/sheet{number}.xml"))
        assert not list(root.iter(f"{MAIN}f")), "no cell holds a formula"
        rows = []
        for row in root.iter(f"{MAIN}row"):
            cells: list[Any] = []
            for cell in row.iter(f"{MAIN}c"):
                column = _column_index(cell.get("r", ""))
                cells += [None] * (column - len(cells))
                cells.append(_cell_value(cell, shared))
            rows.append(cells)
        sheets[name] = rows
    return sheets


def _column_index(reference: str) -> int:
    index = 0
    for letter in re.match(r"[A-Z]+", reference).group():  # type: ignore[union-attr]
        index = index * 26 + ord(letter) - ord("A") + 1
    return index - 1


def _cell_value(cell: ElementTree.Element, shared: list[str]) -> Any:
    kind = cell.get("t")
    if kind == "inlineStr":
        return "".join(t.text or "" for t in cell.iter(f"{MAIN}t"))
    value = cell.find(f"{MAIN}v")
    assert value is not None and value.text is not None
    return shared[int(value.text)] if kind == "s" else float(value.text)


def excel_time(moment: str, zone: ZoneInfo = SHANGHAI) -> float:
    """How Excel stores an RFC 3339 time shown in `zone`: days since 1899-12-30, wall-clock time."""
    local = parse_time(moment).astimezone(zone).replace(tzinfo=None)
    return (local - EXCEL_EPOCH) / timedelta(days=1)


def shown_time(moment: str, zone: ZoneInfo = SHANGHAI) -> str:
    return parse_time(moment).astimezone(zone).strftime("%Y-%m-%d %H:%M:%S")


def headers(role: str = "auditor", **more: str) -> dict[str, str]:
    return {**auth(role), **more}


def csv_rows(content: bytes) -> list[dict[str, str]]:
    assert content.startswith(b"\xef\xbb\xbf"), "a UTF-8 BOM, so Excel on Chinese Windows reads UTF-8"
    return list(csv.DictReader(io.StringIO(content.decode("utf-8-sig"))))


def column(language: str, name: str) -> str:
    return label(language, "column", name)


async def chinese_cases(api, tag: str) -> list[dict[str, Any]]:
    first = await api.open(title="客户反映物流延误三天", description="包裹在中转站滞留", customer={"id": tag, "name": "王小明", "vip": True})
    second = await api.open("feedback", title=FORMULA, priority="urgent", customer={"id": tag, "name": "李华"})
    await api.act(second["id"], "classify", data={"category": "logistics"})
    third = await api.open(title="-1 退款未到账", priority="urgent", customer={"id": tag})
    return [first, second, third]


@pytest.mark.parametrize("language", list(LANGUAGES))
def test_every_column_sheet_and_answer_has_a_label(language):
    terms = [("column", column.name) for table in (EVENTS, CASES) for column in table.columns]
    terms += [("export", table.name) for table in (EVENTS, CASES)] + [("answer", "yes"), ("answer", "no")]
    assert [term for term in terms if not has_label(language, *term)] == []


async def test_events_as_csv_start_with_a_bom_and_show_labels_and_local_times(api, http):
    since = datetime.now(UTC).isoformat()
    case_id = await walked_complaint(api)
    history = await api.history(case_id)

    response = await http.get("/audit/events", params={"since": since, "format": "csv"}, headers=headers())
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/csv")
    assert response.headers["content-language"] == "zh-CN"
    day = datetime.now(SHANGHAI).strftime("%Y%m%d")
    assert response.headers["content-disposition"] == f'attachment; filename="casework-events-{day}.csv"'
    rows = csv_rows(response.content)
    assert list(rows[0]) == [column("zh-CN", item.name) for item in EVENTS.columns]
    assert list(rows[0])[:4] == ["案件编号", "序号", "类型", "操作"]
    mine = [row for row in rows if row["案件编号"] == case_id]
    assert [row["操作"] for row in mine] == ["登记", "受理", "备注", "指派", "开始分析", "记录调查结果", "提出解决方案"]
    assert {row["类型"] for row in mine} == {"投诉"} and mine[4]["新阶段"] == "分析" and mine[0]["原阶段"] == ""
    assert mine[1]["备注"] == "acknowledge 备注" and mine[1]["操作人角色"] == "客服专员"
    assert [row["时间"] for row in mine] == [shown_time(event["at"]) for event in history]

    english = await http.get("/audit/events", params={"since": since, "format": "csv", "lang": "en"}, headers=headers(**{"Accept-Language": "zh"}))
    assert english.headers["content-language"] == "en"
    rows = [row for row in csv_rows(english.content) if row["Case"] == case_id]
    assert [row["Action"] for row in rows][:3] == ["Report", "Acknowledge", "Comment"] and rows[0]["Kind"] == "Complaint"
    by_header = await http.get("/audit/events", params={"since": since}, headers=headers(Accept="text/csv", **{"Accept-Language": "en-GB,en"}))
    assert by_header.headers["content-type"].startswith("text/csv") and by_header.content == english.content


async def test_events_as_xlsx_hold_every_event_as_text_and_excel_times(api, http):
    since = datetime.now(UTC).isoformat()
    case_id = await walked_complaint(api)
    await api.act(case_id, "comment", note=FORMULA)
    history = await api.history(case_id)

    response = await http.get("/audit/events", params={"since": since, "actor": "ann", "format": "xlsx"}, headers=headers("supervisor"))
    assert response.status_code == 200 and response.headers["content-type"] == XLSX
    assert response.headers["content-disposition"].endswith('.xlsx"') and int(response.headers["content-length"]) == len(response.content)
    sheets = read_xlsx(response.content)
    assert list(sheets) == ["处理记录"]
    header, *rows = sheets["处理记录"]
    assert header == [column("zh-CN", item.name) for item in EVENTS.columns]
    mine = [dict(zip(header, row)) for row in rows if row[0] == case_id]
    by_ann = [event for event in history if event["actor"]["name"] == "ann"]
    assert [row["序号"] for row in mine] == [float(event["seq"]) for event in by_ann]
    assert [row["时间"] for row in mine] == pytest.approx([excel_time(event["at"]) for event in by_ann], abs=1e-8)
    assert mine[-1]["备注"] == FORMULA, "a formula-looking note is the text it is"
    assert mine[1]["备注"] == "acknowledge 备注" and mine[1]["操作"] == "受理"


async def test_the_case_list_exports_with_the_lists_filters_in_every_format(api, http, monkeypatch):
    monkeypatch.setattr(export, "BATCH", 2)  # five cases: three batches through the list's cursor
    tag = f"cust-{uuid.uuid4().hex[:8]}"
    opened = await chinese_cases(api, tag) + [await api.open(customer={"id": tag}) for _ in range(2)]
    other = await api.open(title="客户反映物流延误三天")
    listed = (await api.list(customer_id=tag, limit=50))["items"]
    assert [case["id"] for case in listed] == [case["id"] for case in opened[::-1]]

    jsonl = await http.get("/audit/cases", params={"customer_id": tag}, headers=headers())
    assert jsonl.status_code == 200 and jsonl.headers["content-type"].startswith("application/x-ndjson")
    exported = [json.loads(line) for line in jsonl.text.splitlines()]
    assert [case["id"] for case in exported] == [case["id"] for case in listed]
    assert [{**case, "sla": None} for case in exported] == [{**case, "sla": None} for case in listed]

    as_csv = await http.get("/audit/cases", params={"customer_id": tag, "format": "csv"}, headers=headers())
    rows = csv_rows(as_csv.content)
    assert as_csv.headers["content-disposition"].startswith('attachment; filename="casework-cases-')
    assert [row["案件编号"] for row in rows] == [case["id"] for case in listed] and other["id"] not in as_csv.text
    first = rows[-1]
    assert (first["标题"], first["描述"], first["客户"], first["重要客户"]) == ("客户反映物流延误三天", "包裹在中转站滞留", "王小明", "是")
    assert (first["类型"], first["阶段"], first["优先级"], first["登记时间"]) == ("投诉", "登记", "普通", shown_time(opened[0]["created_at"]))
    assert rows[-2]["标题"] == "'" + FORMULA and rows[-2]["阶段"] == "分析" and rows[-3]["标题"] == "'-1 退款未到账"

    urgent = await http.get("/audit/cases", params={"customer_id": tag, "priority": "urgent", "format": "xlsx", "lang": "en"}, headers=headers())
    (name, (header, *cells)), *more = read_xlsx(urgent.content).items()
    assert (name, more, urgent.headers["content-language"]) == ("Cases", [], "en")
    assert header == [column("en", item.name) for item in CASES.columns]
    table = [dict(zip(header, row)) for row in cells]
    assert [row["Case"] for row in table] == [opened[2]["id"], opened[1]["id"]]
    assert [row["Title"] for row in table] == ["-1 退款未到账", FORMULA] and table[1]["Kind"] == "Feedback"
    assert table[1]["Reported at"] == pytest.approx(excel_time(opened[1]["created_at"]), abs=1e-8) and table[1]["Priority"] == "Urgent"

    in_analysis = await http.get("/audit/cases", params={"customer_id": tag, "state": "analyse", "format": "csv"}, headers=headers())
    assert [row["案件编号"] for row in csv_rows(in_analysis.content)] == [opened[1]["id"]]
    nothing = await http.get("/audit/cases", params={"customer_id": "nobody-" + tag, "format": "xlsx"}, headers=headers())
    assert read_xlsx(nothing.content)["案件"] == [[column("zh-CN", item.name) for item in CASES.columns]]


@pytest.mark.parametrize("database", DATABASES)
async def test_every_batch_is_read_on_each_database(database, temporal_env, stack_settings, tmp_path, monkeypatch):
    monkeypatch.setattr(export, "BATCH", 2)
    async with stack_on(database, temporal_env, stack_settings, tmp_path) as stack:
        opened = [await stack.api.open(title=f"第{number}个投诉：物流延误") for number in range(5)]
        workbook = await stack.api.client.get("/audit/cases", params={"format": "xlsx"}, headers=auth("auditor"))
        events = await stack.api.client.get("/audit/events", params={"format": "csv"}, headers=auth("auditor"))
    rows = read_xlsx(workbook.content)["案件"][1:]
    assert [(row[0], row[2]) for row in rows] == [(case["id"], case["title"]) for case in opened[::-1]]
    assert [(row["案件编号"], row["操作"]) for row in csv_rows(events.content)] == [(case["id"], "登记") for case in opened]


async def test_agents_may_not_export_and_bad_parameters_are_refused(http):
    for path in ("/audit/cases", "/audit/events"):
        for form in ("csv", "xlsx", "jsonl"):
            assert (await http.get(path, params={"format": form}, headers=auth("agent"))).status_code == 403
        unknown = await http.get(path, params={"format": "xls"}, headers=auth("auditor"))
        assert unknown.status_code == 422 and unknown.json()["field"] == "format", unknown.text
    refused = await http.get("/audit/cases", params={"state": "done", "format": "xlsx"}, headers=auth("auditor"))
    assert refused.status_code == 422 and refused.json()["field"] == "state"
    assert (await http.get("/audit/events", params={"cursor": "garbage", "format": "xlsx"}, headers=auth("auditor"))).status_code == 400


async def test_times_follow_the_departments_time_zone(api, worker, stack_settings):
    tag = f"cust-{uuid.uuid4().hex[:8]}"
    async with serving(dataclasses.replace(stack_settings, timezone="America/New_York")) as client:
        case = await api.open(customer={"id": tag})
        response = await client.get("/audit/cases", params={"customer_id": tag, "format": "csv"}, headers=auth("auditor"))
    [row] = csv_rows(response.content)
    new_york = ZoneInfo("America/New_York")
    assert row["登记时间"] == shown_time(case["created_at"], new_york) != shown_time(case["created_at"])


async def test_the_workbook_leaves_no_file_behind(api, http, monkeypatch, tmp_path):
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    tag = f"cust-{uuid.uuid4().hex[:8]}"
    await api.open(customer={"id": tag})
    response = await http.get("/audit/cases", params={"customer_id": tag, "format": "xlsx"}, headers=headers())
    assert response.status_code == 200 and len(read_xlsx(response.content)["案件"]) == 2
    assert list(tmp_path.iterdir()) == []


async def test_a_sheet_that_fills_up_goes_on_in_the_next(tmp_path, monkeypatch):
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    events = [
        {"case_id": "c1", "seq": seq, "kind": "complaint", "action": "comment", "from_state": "report", "to_state": "report",
         "actor": {"name": "ann", "role": "agent"}, "at": "2026-12-02T09:30:05Z", "note": f"第{seq}条", "data": {},
         "request_id": None, "prev_hash": None, "hash": None, "cursor": str(seq)}
        for seq in range(1, 8)
    ]  # fmt: skip

    async def batches() -> AsyncIterator[list[dict[str, Any]]]:
        yield events[:4]
        yield events[4:]

    workbook = await xlsx_file(EVENTS, batches(), Presentation(lambda context, term: f"{context}·{term}", SHANGHAI), sheet_rows=3)
    content = b"".join([chunk async for chunk in chunks(workbook)])
    assert workbook.closed and list(tmp_path.iterdir()) == []
    sheets = read_xlsx(content)
    assert list(sheets) == ["export·events", "export·events 2", "export·events 3", "export·events 4"]
    assert all(rows[0][0] == "column·case_id" for rows in sheets.values())
    assert [row[9] for rows in sheets.values() for row in rows[1:]] == [f"第{seq}条" for seq in range(1, 8)]
    assert sheets["export·events"][1][8] == pytest.approx(excel_time("2026-12-02T17:30:05+08:00"), abs=1e-8)
