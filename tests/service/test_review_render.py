"""Reviews rendered as Markdown and as an HTML page with SVG charts, from plain review documents."""

from __future__ import annotations

import copy
import re
from dataclasses import dataclass, field
from datetime import UTC
from html.parser import HTMLParser

import pytest

from service.review_charts import PLOT_HEIGHT
from service.review_render import (
    change_direction,
    format_change,
    format_count,
    format_duration,
    format_rate,
    format_score,
    format_value,
    period_label,
    to_html,
    to_markdown,
)

HOSTILE = "<script>alert(1)</script>\"'&"
ESCAPED_HOSTILE = "&lt;script&gt;alert(1)&lt;/script&gt;&quot;&#x27;&amp;"
VOID_ELEMENTS = {"meta", "br", "hr", "img", "input", "link", "col", "area", "base", "wbr", "source", "track", "embed"}


def kpis(**changes):
    figures = {
        "volume": 12,
        "first_responses": 10,
        "first_response_mean_seconds": 1800.0,
        "first_response_p50_seconds": 1200.0,
        "first_response_p90_seconds": 3600.0,
        "first_response_on_time_rate": 0.8,
        "handled": 7,
        "handling_mean_seconds": 86400.0,
        "handling_p50_seconds": 72000.0,
        "handling_p90_seconds": 172800.0,
        "resolution_rate": 0.6,
        "satisfaction_responses": 5,
        "satisfaction_mean_score": 4.2,
        "satisfied_share": 0.8,
        "reopen_rate": 0.1,
        "breach_rate": 0.25,
        "volume_by_kind": {"complaint": 8, "feedback": 4},
        "volume_by_category": {"account": 2, "logistics": 5, "none": 5},
    }
    return {**figures, **changes}


def case(**changes):
    return {"id": "c_abc", "kind": "complaint", "title": "Parcel lost", "priority": "high", "owner": "alice", "state": "remediate", **changes}


def review(current=None, previous=None, **changes):
    current = current or kpis()
    previous = previous or kpis(
        volume=10,
        first_response_mean_seconds=2400.0,
        first_response_on_time_rate=0.7,
        resolution_rate=0.5,
        breach_rate=0.2,
        handling_p90_seconds=None,
    )
    deltas = {}
    for name, now in current.items():
        if not name.startswith("volume_by"):
            before = previous.get(name)
            deltas[name] = {"current": now, "previous": before, "delta": None if now is None or before is None else now - before}
    document = {
        "id": "rev_weekly_2026-11-16",
        "cadence": "weekly",
        "period": {"from": "2026-11-16T00:00:00.000000Z", "to": "2026-11-23T00:00:00.000000Z"},
        "previous_period": {"from": "2026-11-09T00:00:00.000000Z", "to": "2026-11-16T00:00:00.000000Z"},
        "created_at": "2026-11-23T06:00:00.000000Z",
        "created_by": "schedule",
        "kpis": current,
        "previous_kpis": previous,
        "deltas": deltas,
        "top_categories": [{"category": "logistics", "count": 5, "share": 0.4167}, {"category": "account", "count": 2, "share": 0.1667}],
        "breached_cases": [case()],
        "open_incidents": [case(id="c_inc", kind="incident", title="Warehouse outage", state="investigate")],
        "open_improvement_plans": [],
    }
    return {**document, **changes}


# --- a small DOM, so the tests read the page the way a browser would ------------------------------


@dataclass
class Element:
    tag: str
    attrs: dict[str, str]
    children: list[Element] = field(default_factory=list)
    text: str = ""

    def all(self, tag: str) -> list[Element]:
        found = []
        for child in self.children:
            found += ([child] if child.tag == tag else []) + child.all(tag)
        return found

    def all_text(self) -> str:
        return self.text + "".join(child.all_text() for child in self.children)

    def classes(self) -> set[str]:
        return set(self.attrs.get("class", "").split())


class StrictParser(HTMLParser):
    """Builds the tree and fails on any end tag that does not close the element open at that point."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.root = Element("#document", {})
        self.stack = [self.root]
        self.declarations: list[str] = []

    def handle_decl(self, decl):
        self.declarations.append(decl)

    def handle_starttag(self, tag, attrs):
        element = Element(tag, {name: value or "" for name, value in attrs})
        self.stack[-1].children.append(element)
        if tag not in VOID_ELEMENTS:
            self.stack.append(element)

    def handle_startendtag(self, tag, attrs):
        self.stack[-1].children.append(Element(tag, {name: value or "" for name, value in attrs}))

    def handle_endtag(self, tag):
        assert tag not in VOID_ELEMENTS, f"</{tag}> closes a void element"
        assert self.stack[-1].tag == tag, f"</{tag}> closes <{self.stack[-1].tag}>"
        self.stack.pop()

    def handle_data(self, data):
        self.stack[-1].text += data


def parse(page: str) -> Element:
    parser = StrictParser()
    parser.feed(page)
    parser.close()
    assert [element.tag for element in parser.stack] == ["#document"], "elements left open"
    assert parser.declarations == ["DOCTYPE html"]
    return parser.root


def bars(svg: Element, series: str) -> list[float]:
    return [float(rect.attrs["height"]) for rect in svg.all("rect") if {"bar", series} <= rect.classes()]


def assert_proportional(heights: list[float], values: list[float]) -> None:
    assert len(heights) == len(values)
    per_unit = heights[values.index(max(values))] / max(values)
    assert heights == pytest.approx([value * per_unit for value in values], abs=0.01)


def change_cells(page: Element) -> dict[str, Element]:
    table = next(table for table in page.all("table") if "kpis" in table.classes())
    return {row.all("th")[0].all_text(): row.all("td")[2] for row in table.all("tbody")[0].all("tr")}


def markdown_section(markdown: str, heading: str) -> list[str]:
    after = markdown.split(f"\n## {heading}\n", 1)[1]
    return after.split("\n## ", 1)[0].strip().splitlines()


def unescaped_pipes(line: str) -> int:
    return len(re.findall(r"(?<!\\)\|", line))


# --- units --------------------------------------------------------------------------------------


def test_durations_read_in_minutes_hours_or_days():
    assert format_duration(1800) == "30 min"
    assert format_duration(5400) == "1.5 h"
    assert format_duration(172800) == "2.0 d"
    assert format_duration(45) == "45 s"
    assert format_duration(3590) == "1.0 h"  # not "60 min"
    assert format_duration(86300) == "1.0 d"  # not "24.0 h"


def test_rates_scores_and_counts_have_human_units_and_null_is_a_dash():
    assert format_rate(0.8) == "80.0 %"
    assert format_rate(0.4167) == "41.7 %"
    assert format_score(4.2) == "4.2"
    assert format_count(12) == "12"
    assert format_count(1234) == "1,234"
    for unit in ("count", "duration", "rate", "score"):
        assert format_value(unit, None) == "—"


def test_changes_are_signed_with_an_arrow_and_rates_move_in_percentage_points():
    assert format_change("rate", 0.8 - 0.7) == "▲ +10.0 pp"
    assert format_change("rate", -0.05) == "▼ -5.0 pp"
    assert format_change("duration", -1800.0) == "▼ -30 min"
    assert format_change("count", 2) == "▲ +2"
    assert format_change("score", 0.3) == "▲ +0.3"
    assert format_change("rate", None) == "—"


def test_a_change_too_small_to_show_is_no_change():
    assert format_change("rate", 0.00001) == "no change"
    assert change_direction("rate", 0.00001) == 0
    assert format_change("count", 0) == "no change"


def test_the_exclusive_end_of_a_period_shows_the_last_day_included():
    assert period_label({"from": "2026-11-16T00:00:00.000000Z", "to": "2026-11-23T00:00:00.000000Z"}, UTC) == "2026-11-16 – 2026-11-22"
    assert period_label({"from": "2026-10-01T00:00:00.000000Z", "to": "2026-11-01T00:00:00.000000Z"}, UTC) == "2026-10-01 – 2026-10-31"
    assert period_label({"from": "2026-11-16T00:00:00Z", "to": "2026-11-18T12:00:00Z"}, UTC) == "2026-11-16 – 2026-11-18"
    assert period_label({"from": "2026-11-16T00:00:00Z", "to": "2026-11-17T00:00:00Z"}, UTC) == "2026-11-16"


# --- Markdown -----------------------------------------------------------------------------------


def test_markdown_titles_the_review_with_its_cadence_and_days():
    markdown = to_markdown(review())
    assert markdown.startswith("# Weekly review: 2026-11-16 – 2026-11-22\n")
    assert "Compared with 2026-11-09 – 2026-11-15" in markdown
    assert "2026-11-23" not in markdown.splitlines()[0]


def test_a_review_cut_in_the_departments_zone_names_its_days_and_times_there():
    shanghai_week = {"from": "2026-11-15T16:00:00.000000Z", "to": "2026-11-22T16:00:00.000000Z"}
    before = {"from": "2026-11-08T16:00:00.000000Z", "to": "2026-11-15T16:00:00.000000Z"}
    markdown = to_markdown(review() | {"timezone": "Asia/Shanghai", "period": shanghai_week, "previous_period": before})
    # Monday 00:00 in Shanghai is Sunday 16:00 UTC: read in UTC the week would start on a Sunday.
    assert markdown.startswith("# Weekly review: 2026-11-16 – 2026-11-22\n")
    assert "Compared with 2026-11-09 – 2026-11-15" in markdown
    assert "Made 2026-11-23 14:00 Asia/Shanghai by" in markdown  # created 06:00 UTC


def test_markdown_kpi_table_shows_this_period_previous_and_change_in_human_units():
    table = markdown_section(to_markdown(review()), "Key figures")
    assert table[:2] == ["| KPI | This period | Previous | Change |", "| --- | ---: | ---: | ---: |"]
    for row in (
        "| Cases reported | 12 | 10 | ▲ +2 |",
        "| First response time, mean | 30 min | 40 min | ▼ -10 min (better) |",
        "| First response on time | 80.0 % | 70.0 % | ▲ +10.0 pp (better) |",
        "| Handling time, p90 | 2.0 d | — | — |",
        "| Satisfaction, mean score | 4.2 | 4.2 | no change |",
        "| SLA breach rate | 25.0 % | 20.0 % | ▲ +5.0 pp (worse) |",
    ):
        assert row in table


def test_markdown_lists_top_categories_and_cases():
    markdown = to_markdown(review())
    assert "| logistics | 5 | 41.7 % |" in markdown_section(markdown, "Top categories")
    assert "| c\\_abc | complaint | Parcel lost | high | alice | remediate |" in markdown_section(markdown, "Breached cases")
    assert "| c\\_inc | incident | Warehouse outage | high | alice | investigate |" in markdown_section(markdown, "Open incidents")


def test_empty_lists_read_none_in_markdown():
    markdown = to_markdown(review(top_categories=[], breached_cases=[], open_incidents=[], open_improvement_plans=[]))
    for heading in ("Top categories", "Breached cases", "Open incidents", "Open improvement plans"):
        assert markdown_section(markdown, heading) == ["none"]


def test_hostile_text_stays_inside_its_markdown_table_cell():
    title = f"{HOSTILE} | forged cell\n| forged row |"
    markdown = to_markdown(review(breached_cases=[case(title=title, owner="bob|eve")]))
    rows = markdown_section(markdown, "Breached cases")
    assert len(rows) == 3  # header, rule, one case
    assert all(unescaped_pipes(row) == 7 for row in rows)  # six cells
    assert "alert(1)" in rows[2] and "<script>" not in markdown


# --- HTML ---------------------------------------------------------------------------------------


def test_html_is_a_complete_page_that_parses_with_every_element_closed():
    page = to_html(review())
    root = parse(page)
    assert root.all("title")[0].all_text() == "Weekly review: 2026-11-16 – 2026-11-22"
    assert root.all("style") and not root.all("script")
    assert not re.search(r"<link|\bsrc=|\bhref=|url\(|@import", page)  # nothing loaded from elsewhere


def test_html_shows_the_same_figures_as_the_markdown():
    text = parse(to_html(review())).all_text()
    for figure in ("Cases reported", "80.0 %", "▲ +10.0 pp", "2.0 d", "41.7 %", "Parcel lost", "Warehouse outage", "rev_weekly_2026-11-16"):
        assert figure in text


def test_each_chart_is_an_svg_with_a_title_and_text_labels():
    svgs = parse(to_html(review())).all("svg")
    assert len(svgs) == 3
    for svg in svgs:
        assert svg.children[0].tag == "title" and svg.children[0].all_text()
        assert svg.all("text")
    assert "SLA breach" in svgs[0].all_text() and "logistics" in svgs[1].all_text() and "Handling p90" in svgs[2].all_text()


def test_rate_bars_are_proportional_and_a_missing_rate_is_a_gap_labelled_no_data():
    previous = kpis(first_response_on_time_rate=0.7, resolution_rate=None, breach_rate=0.2)
    rates = parse(to_html(review(previous=previous))).all("svg")[0]
    assert_proportional(bars(rates, "current"), [0.8, 0.6, 0.8, 0.1, 0.25])
    assert_proportional(bars(rates, "previous"), [0.7, 0.8, 0.1, 0.2])  # resolution has no data
    assert_proportional([*bars(rates, "current"), *bars(rates, "previous")], [0.8, 0.6, 0.8, 0.1, 0.25, 0.7, 0.8, 0.1, 0.2])
    assert bars(rates, "current")[0] == pytest.approx(0.8 * PLOT_HEIGHT)  # rates are drawn on a 0-100 % scale
    assert "no data" in rates.all_text()


def test_category_and_time_bars_are_proportional_to_their_values():
    charts = parse(to_html(review(previous=kpis(handling_p90_seconds=None)))).all("svg")
    assert_proportional(bars(charts[1], "current"), [5, 5, 2])  # most cases first
    assert_proportional(bars(charts[2], "current"), [1200.0, 3600.0, 72000.0, 172800.0])
    assert_proportional(bars(charts[2], "previous"), [1200.0, 3600.0, 72000.0])


def test_charts_without_any_data_still_render():
    empty = kpis(volume_by_category={}, **{name: None for name in ("resolution_rate", "breach_rate", "handling_p50_seconds")})
    charts = parse(to_html(review(current=empty))).all("svg")
    assert len(charts) == 3
    assert not bars(charts[1], "current") and "no data" in charts[1].all_text()


def test_every_string_from_the_document_is_escaped_in_the_html():
    hostile_kpis = kpis(volume_by_category={HOSTILE: 3})
    document = review(
        current=hostile_kpis,
        id=HOSTILE,
        created_by=HOSTILE,
        top_categories=[{"category": HOSTILE, "count": 3, "share": 0.25}],
        breached_cases=[case(id=HOSTILE, kind=HOSTILE, title=HOSTILE, priority=HOSTILE, owner=HOSTILE, state=HOSTILE)],
    )
    page = to_html(document)
    assert HOSTILE not in page and "<script" not in page
    assert page.count(ESCAPED_HOSTILE) >= 10
    root = parse(page)
    assert not root.all("script")
    assert HOSTILE in root.all("svg")[1].all_text()  # shown as text, not dropped


def test_breach_rate_rising_is_red_and_resolution_rate_rising_is_green():
    cells = change_cells(parse(to_html(review())))
    assert {"change", "bad"} <= cells["SLA breach rate"].classes()
    assert cells["SLA breach rate"].all_text().startswith("▲ +5.0 pp")
    assert {"change", "good"} <= cells["Resolution rate"].classes()
    assert cells["Resolution rate"].all_text().startswith("▲ +10.0 pp")


def test_falling_breach_rate_and_shorter_times_are_green_and_volume_is_neither():
    better = kpis(breach_rate=0.1, first_response_p90_seconds=1800.0, volume=20)
    cells = change_cells(parse(to_html(review(current=better, previous=kpis()))))
    assert "good" in cells["SLA breach rate"].classes() and cells["SLA breach rate"].all_text().startswith("▼ -15.0 pp")
    assert "good" in cells["First response time, p90"].classes()
    assert {"neutral"} <= cells["Cases reported"].classes() and cells["Cases reported"].all_text() == "▲ +8"
    assert "better" in cells["SLA breach rate"].all_text()  # said in words too, not by colour alone


def test_empty_lists_read_none_in_html():
    document = review(top_categories=[], breached_cases=[], open_incidents=[], open_improvement_plans=[])
    sections = {section.all("h2")[0].all_text(): section for section in parse(to_html(document)).all("section")}
    for heading in ("Top categories", "Breached cases", "Open incidents", "Open improvement plans"):
        assert [p.all_text() for p in sections[heading].all("p")] == ["none"]
        assert not sections[heading].all("table")


def test_rendering_leaves_the_document_unchanged():
    document = review()
    before = copy.deepcopy(document)
    to_markdown(document)
    to_html(document)
    assert document == before


TEAM_RATES_AND_MEANS = ("first_response_on_time_rate", "handling_mean_seconds", "resolution_rate", "satisfied_share", "breach_rate")


def with_teams(**changes):
    teams = [
        {"team": "north", "site": "HQ", "kpis": kpis()},
        {"team": "east", "site": "Chengdu", "kpis": kpis(volume=0, **dict.fromkeys(TEAM_RATES_AND_MEANS))},
        {"team": None, "site": None, "kpis": kpis(volume=3, breach_rate=0.0)},
    ]
    return review(teams=teams, **changes)


def test_markdown_shows_each_teams_main_figures_and_the_cases_in_no_team():
    assert markdown_section(to_markdown(with_teams()), "By team") == [
        "| Team | Site | Cases reported | First response on time | Handling time, mean | Resolution rate | Satisfied share | SLA breach rate |",
        "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |",
        "| north | HQ | 12 | 80.0 % | 1.0 d | 60.0 % | 80.0 % | 25.0 % |",
        "| east | Chengdu | 0 | — | — | — | — | — |",
        "| No team | — | 3 | 80.0 % | 1.0 d | 60.0 % | 80.0 % | 0.0 % |",
    ]


def test_html_shows_the_team_table_with_team_names_escaped():
    hostile = with_teams()
    hostile["teams"][0] = {**hostile["teams"][0], "team": HOSTILE}
    page = to_html(hostile)
    tree = parse(page)
    section = next(section for section in tree.all("section") if section.all("h2")[0].all_text() == "By team")
    rows = [[cell.all_text() for cell in row.all("td")] for row in section.all("tbody")[0].all("tr")]
    assert rows[0][:4] == [HOSTILE, "HQ", "12", "80.0 %"] and rows[2][:3] == ["No team", "—", "3"]
    assert ESCAPED_HOSTILE in page and HOSTILE not in page
    assert unescaped_pipes(next(line for line in to_markdown(hostile).splitlines() if "script" in line)) == 9


def test_a_review_made_before_teams_has_no_team_table_and_one_without_any_reads_none():
    assert "## By team" not in to_markdown(review())
    assert markdown_section(to_markdown(review(teams=[])), "By team") == ["none"]
