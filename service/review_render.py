"""A review (service/reviews.py) as Markdown, and as a self-contained HTML page with charts for the meeting screen.

Pure: a review document in, text out. Both outputs are drawn from the same rows (`header`,
`kpi_rows`, `tables`), so they always agree; each output escapes every piece of text as it writes
it, because case titles, owners and categories are typed by customers and agents.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta, tzinfo
from html import escape
from typing import Any
from zoneinfo import ZoneInfo

from service.review_charts import Series, bar_chart
from states.case import parse_time

NO_DATA = "—"
MINUTE, HOUR, DAY = 60, 3600, 86400


@dataclass(frozen=True)
class Kpi:
    name: str
    label: str
    unit: str  # "count", "duration", "rate" or "score"
    better: int  # +1 when a rise is good news, -1 when a fall is, 0 when neither (volumes)


# In the order service/kpis.py reports them; a KPI the document lacks is left out.
KPIS = (
    Kpi("volume", "Cases reported", "count", 0),
    Kpi("first_responses", "First responses", "count", 0),
    Kpi("first_response_mean_seconds", "First response time, mean", "duration", -1),
    Kpi("first_response_p50_seconds", "First response time, p50", "duration", -1),
    Kpi("first_response_p90_seconds", "First response time, p90", "duration", -1),
    Kpi("first_response_on_time_rate", "First response on time", "rate", +1),
    Kpi("responses", "Responses", "count", 0),
    Kpi("response_mean_seconds", "Response time, mean", "duration", -1),
    Kpi("handled", "Cases handled", "count", 0),
    Kpi("handling_mean_seconds", "Handling time, mean", "duration", -1),
    Kpi("handling_p50_seconds", "Handling time, p50", "duration", -1),
    Kpi("handling_p90_seconds", "Handling time, p90", "duration", -1),
    Kpi("dismissed", "Dismissed", "count", 0),
    Kpi("resolution_rate", "Resolution rate", "rate", +1),
    Kpi("satisfaction_responses", "Satisfaction responses", "count", 0),
    Kpi("satisfaction_mean_score", "Satisfaction, mean score", "score", +1),
    Kpi("satisfied_share", "Satisfied share", "rate", +1),
    Kpi("reopen_rate", "Reopen rate", "rate", -1),
    Kpi("breach_rate", "SLA breach rate", "rate", -1),
)
KPI_LABELS = {kpi.name: kpi.label for kpi in KPIS}
RATE_CHART = {
    "first_response_on_time_rate": "On-time response",
    "resolution_rate": "Resolution",
    "satisfied_share": "Satisfied",
    "reopen_rate": "Reopen",
    "breach_rate": "SLA breach",
}
TIME_CHART = {
    "first_response_p50_seconds": "First response p50",
    "first_response_p90_seconds": "First response p90",
    "handling_p50_seconds": "Handling p50",
    "handling_p90_seconds": "Handling p90",
}
# The per-team table's figures (service/reviews.py stores every KPI of each team).
TEAM_KPIS = ("volume", "first_response_on_time_rate", "resolution_rate", "satisfied_share", "breach_rate", "handling_mean_seconds")
NO_TEAM = "No team"
BOUNDS = {"at_least": "≥", "at_most": "≤"}
RESULTS = {True: "met", False: "missed", None: NO_DATA}
# The agents table (service/review_agents.py): each field, its heading and unit.
AGENT_COLUMNS = (
    ("cases", "Cases served", "count"),
    ("solved", "Solved", "count"),
    ("complaints_handled", "Complaints handled", "count"),
    ("first_response_mean_seconds", "First response, mean", "duration"),
    ("response_mean_seconds", "Response, mean", "duration"),
    ("handling_mean_seconds", "Handling, mean", "duration"),
    ("satisfaction_mean_score", "Satisfaction, mean score", "score"),
    ("satisfied_share", "Satisfied share", "rate"),
    ("quality_mean_score", "Quality score, mean", "score"),
)
CASE_COLUMNS = {"id": "Case", "kind": "Kind", "title": "Title", "priority": "Priority", "owner": "Owner", "state": "State"}
CASE_LISTS = {"breached_cases": "Breached cases", "open_incidents": "Open incidents", "open_improvement_plans": "Open improvement plans"}


def format_duration(seconds: float) -> str:
    """ "45 s", "30 min", "1.5 h", "2.0 d"; the unit is chosen after rounding, so 3,590 s reads "1.0 h", not "60 min"."""
    if seconds < MINUTE:
        return f"{round(seconds)} s"
    if round(seconds / MINUTE) < 60:
        return f"{round(seconds / MINUTE)} min"
    if round(seconds / HOUR, 1) < 24:
        return f"{seconds / HOUR:.1f} h"
    return f"{seconds / DAY:.1f} d"


def format_rate(rate: float) -> str:
    return f"{rate * 100:.1f} %"


def format_score(score: float) -> str:
    return f"{score:.1f}"


def format_count(count: float) -> str:
    return f"{round(count):,}"


FORMATS = {"count": format_count, "duration": format_duration, "rate": format_rate, "score": format_score}


def format_value(unit: str, value: float | None) -> str:
    return NO_DATA if value is None else FORMATS[unit](value)


def format_change(unit: str, delta: float | None) -> str:
    """Signed, with an arrow: "▲ +10.0 pp" (rates move in percentage points), "▼ -30 min", "no change"."""
    if delta is None:
        return NO_DATA
    direction = change_direction(unit, delta)
    return "no change" if direction == 0 else f"{'▲ +' if direction > 0 else '▼ -'}{_change_magnitude(unit, delta)}"


def change_direction(unit: str, delta: float | None) -> int:
    """+1, -1, or 0 when there is no delta or it rounds to nothing at the precision shown."""
    if delta is None or not re.search(r"[1-9]", _change_magnitude(unit, delta)):
        return 0
    return 1 if delta > 0 else -1


def _change_magnitude(unit: str, delta: float) -> str:
    return f"{abs(delta) * 100:.1f} pp" if unit == "rate" else FORMATS[unit](abs(delta))


def period_label(period: dict[str, str], zone: tzinfo) -> str:
    """First and last day included, in `zone`; `to` is exclusive, so a week ending Monday 00:00 ends on Sunday."""
    first = parse_time(period["from"]).astimezone(zone).date()
    last = (parse_time(period["to"]) - timedelta(microseconds=1)).astimezone(zone).date()
    return f"{first:%Y-%m-%d}" if last <= first else f"{first:%Y-%m-%d} – {last:%Y-%m-%d}"


@dataclass(frozen=True)
class Header:
    title: str
    details: list[str]


@dataclass(frozen=True)
class KpiRow:
    label: str
    current: str
    previous: str
    change: str
    verdict: str | None  # "better", "worse", or None when unchanged, unknown or neither is good news
    target: str = NO_DATA  # "≥ 95.0 %"; none when the KPI has no target
    result: str = NO_DATA  # "met", "missed", or none (no target, or no figure)


@dataclass(frozen=True)
class Table:
    heading: str
    columns: Sequence[str]
    rows: list[list[str]]
    numeric: frozenset[int] = frozenset()  # column indexes aligned right


def review_zone(review: dict[str, Any]) -> ZoneInfo:
    """Where the review's weeks and months were cut; reviews made before it was recorded were cut in UTC."""
    return ZoneInfo(review.get("timezone") or "UTC")


def header(review: dict[str, Any]) -> Header:
    zone = review_zone(review)
    title = f"{str(review['cadence']).capitalize()} review: {period_label(review['period'], zone)}"
    made = f"{parse_time(review['created_at']).astimezone(zone):%Y-%m-%d %H:%M} {zone.key} by {_text(review.get('created_by'))}"
    return Header(title, [f"Compared with {period_label(review['previous_period'], zone)}", f"Made {made}", f"Review {_text(review.get('id'))}"])


def kpi_rows(review: dict[str, Any]) -> list[KpiRow]:
    current, previous = review.get("kpis") or {}, review.get("previous_kpis") or {}
    deltas, targets = review.get("deltas") or {}, review.get("targets") or {}
    rows = []
    for kpi in KPIS:
        if kpi.name not in current and kpi.name not in deltas:
            continue
        delta = (deltas.get(kpi.name) or {}).get("delta")
        direction = change_direction(kpi.unit, delta) * kpi.better
        verdict = "better" if direction > 0 else "worse" if direction < 0 else None
        values = (format_value(kpi.unit, current.get(kpi.name)), format_value(kpi.unit, previous.get(kpi.name)))
        rows.append(KpiRow(kpi.label, *values, format_change(kpi.unit, delta), verdict, *_judged(kpi, targets.get(kpi.name))))
    return rows


def _judged(kpi: Kpi, judged: dict[str, Any] | None) -> tuple[str, str]:
    """A KPI's target ("≥ 95.0 %") and result ("met", "missed"), or none when it has no target."""
    if judged is None:
        return NO_DATA, NO_DATA
    bound = next(name for name in BOUNDS if name in judged["target"])
    return f"{BOUNDS[bound]} {format_value(kpi.unit, judged['target'][bound])}", RESULTS[judged["met"]]


def tables(review: dict[str, Any]) -> list[Table]:
    """Top categories, each team's figures (reviews made before teams have none), then the case lists;
    a table with no rows is shown as "none"."""
    categories = [
        [_text(item.get("category")), format_value("count", item.get("count")), format_value("rate", item.get("share"))]
        for item in review.get("top_categories") or []
    ]
    case_tables = [
        Table(heading, tuple(CASE_COLUMNS.values()), [[_text(item.get(field)) for field in CASE_COLUMNS] for item in review.get(key) or []])
        for key, heading in CASE_LISTS.items()
    ]
    team_tables = [team_table(review["teams"])] if "teams" in review else []
    if any(item.get("targets") for item in review.get("teams") or []):
        team_tables.append(team_targets_table(review["teams"]))
    agent_tables = [agent_table(review["agents"])] if "agents" in review else []
    assessment_tables = assessment_table(review["assessments"]) if "assessments" in review else []
    return [
        Table("Top categories", ("Category", "Cases", "Share"), categories, frozenset({1, 2})),
        *team_tables,
        *agent_tables,
        *assessment_tables,
        *case_tables,
    ]


def team_targets_table(teams: list[dict[str, Any]]) -> Table:
    """Each team's targeted KPIs: target, figure, met or missed."""
    by_name = {kpi.name: kpi for kpi in KPIS}
    rows = []
    for item in teams:
        team = NO_TEAM if item.get("team") is None else str(item["team"])
        for name, judged in (item.get("targets") or {}).items():
            if name in by_name:
                target, result = _judged(by_name[name], judged)
                rows.append([team, by_name[name].label, target, format_value(by_name[name].unit, judged.get("value")), result])
    return Table("Targets by team", ("Team", "KPI", "Target", "Value", "Result"), rows, frozenset({2, 3}))


def agent_table(agents: list[dict[str, Any]]) -> Table:
    rows = [
        [_text(item.get("name"))]
        + [format_value(unit, item.get(name)) for name, _, unit in AGENT_COLUMNS]
        + [", ".join(KPI_LABELS.get(name, name) for name in item.get("missed") or [])]
        for item in agents
    ]
    headings = ("Agent", *(heading for _, heading, _ in AGENT_COLUMNS), "Targets missed")
    return Table("By agent", headings, rows, frozenset(range(1, 1 + len(AGENT_COLUMNS))))


def assessment_table(summary: dict[str, Any]) -> list[Table]:
    """The month's assessments (monthly reviews only), then who is below target: missed at least one."""
    rows = [
        [
            _text(row.get("agent_name")),
            _text(row.get("team")),
            format_value("score", row.get("total")),
            _text(row.get("grade")),
            ", ".join(row["met"]),
            ", ".join(row["missed"]),
        ]
        for row in summary.get("agents") or []
    ]
    below = [[_text(name)] for name in summary.get("below_target") or []]
    return [
        Table("Assessments", ("Agent", "Team", "Total", "Grade", "Targets met", "Targets missed"), rows, frozenset({2})),
        Table("Below target", ("Agent",), below),
    ]


def team_table(teams: list[dict[str, Any]]) -> Table:
    kpis = [kpi for kpi in KPIS if kpi.name in TEAM_KPIS]
    rows = [
        [NO_TEAM if item.get("team") is None else str(item["team"]), _text(item.get("site"))]
        + [format_value(kpi.unit, (item.get("kpis") or {}).get(kpi.name)) for kpi in kpis]
        for item in teams
    ]
    return Table("By team", ("Team", "Site", *(kpi.label for kpi in kpis)), rows, frozenset(range(2, 2 + len(kpis))))


def _text(value: Any) -> str:
    return NO_DATA if value is None else str(value)


# --- Markdown ---------------------------------------------------------------------------------

# Backslash-escaped, so user text can neither end a table cell nor turn into HTML, links or code.
MARKDOWN_SPECIAL = re.compile(r"([\\`*_\[\]<>&|~])")


def to_markdown(review: dict[str, Any]) -> str:
    head = header(review)
    lines = [f"# {_md(head.title)}", "", " · ".join(_md(detail) for detail in head.details), "", "## Key figures", ""]
    judged = bool(review.get("targets"))  # reviews made before targets have no such columns
    rows = [
        [row.label, row.current, row.previous, row.change + (f" ({row.verdict})" if row.verdict else "")]
        + ([row.target, row.result] if judged else [])
        for row in kpi_rows(review)
    ]
    columns = ("KPI", "This period", "Previous", "Change") + (("Target", "Result") if judged else ())
    lines += _markdown_table(columns, rows, frozenset({1, 2, 3, 4}))
    for table in tables(review):
        lines += ["", f"## {_md(table.heading)}", ""]
        lines += _markdown_table(table.columns, table.rows, table.numeric) if table.rows else ["none"]
    return "\n".join(lines) + "\n"


def _markdown_table(columns: Sequence[str], rows: list[list[str]], numeric: frozenset[int]) -> list[str]:
    rule = ["---:" if index in numeric else "---" for index in range(len(columns))]
    return [_markdown_row(columns), _markdown_row(rule), *(_markdown_row(row) for row in rows)]


def _markdown_row(cells: Sequence[str]) -> str:
    return "| " + " | ".join(_md(cell) for cell in cells) + " |"


def _md(text: str) -> str:
    return MARKDOWN_SPECIAL.sub(r"\\\1", " ".join(text.splitlines()))


# --- HTML -------------------------------------------------------------------------------------

STYLE = """
body { font-family: system-ui, -apple-system, "Segoe UI", sans-serif; font-size: 20px; margin: 2rem 3rem; color: #1f2328; background: #fff; }
h1 { font-size: 2.2rem; margin: 0 0 .3rem; }
h2 { font-size: 1.5rem; margin-top: 2.5rem; border-bottom: 2px solid #d0d7de; }
.details, .none, .legend-note { color: #57606a; }
table { border-collapse: collapse; width: 100%; } th { background: #f6f8fa; }
th, td { padding: .45rem .8rem; border-bottom: 1px solid #d0d7de; text-align: left; }
.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
.change.good { color: #116329; background: #dafbe1; font-weight: 600; }
.change.bad { color: #a40e26; background: #ffebe9; font-weight: 600; }
.verdict { font-size: .75em; margin-left: .4em; }
.result.met { color: #116329; font-weight: 600; } .result.missed { color: #a40e26; font-weight: 600; }
.charts { display: flex; flex-wrap: wrap; gap: 2rem; }
svg { max-width: 100%; height: auto; }
svg text { font-family: inherit; font-size: 14px; fill: #1f2328; }
svg .chart-title { font-size: 18px; font-weight: 600; }
svg .tick, svg .value { font-size: 12px; } svg .no-data { font-size: 12px; fill: #57606a; font-style: italic; }
.current { fill: #0969da; } .previous { fill: #afb8c1; }
.axis { stroke: #57606a; } .grid { stroke: #d0d7de; stroke-dasharray: 4 4; }
"""
VERDICT_CLASSES = {"better": "good", "worse": "bad", None: "neutral"}
RESULT_CLASSES = {"met": "met", "missed": "missed"}


def to_html(review: dict[str, Any]) -> str:
    head = header(review)
    sections = [
        f'<header><h1>{_h(head.title)}</h1><p class="details">{" · ".join(_h(detail) for detail in head.details)}</p></header>',
        _html_kpi_section(kpi_rows(review), judged=bool(review.get("targets"))),
        '<section><h2>Charts</h2><div class="charts">' + "\n".join(charts(review)) + "</div></section>",
        *(_html_table_section(table) for table in tables(review)),
    ]
    page_head = f'<head><meta charset="utf-8"><title>{_h(head.title)}</title><style>{STYLE}</style></head>'
    return "\n".join(['<!DOCTYPE html>\n<html lang="en">', page_head, "<body>", *sections, "</body>\n</html>\n"])


def charts(review: dict[str, Any]) -> list[str]:
    """Rates and times this period beside the previous one, and this period's cases by category."""
    current, previous = review.get("kpis") or {}, review.get("previous_kpis") or {}

    def compared(names: Sequence[str]) -> list[Series]:
        return [
            Series("This period", "current", [current.get(name) for name in names]),
            Series("Previous period", "previous", [previous.get(name) for name in names]),
        ]

    by_category = sorted((current.get("volume_by_category") or {}).items(), key=lambda item: -item[1])
    names, counts = [str(name) for name, _ in by_category], [count for _, count in by_category]
    even_top = max(2, 2 * math.ceil(max(counts, default=0) / 2))  # so the middle tick is a whole number of cases
    return [
        bar_chart("Rates, this period and previous", list(RATE_CHART.values()), compared(list(RATE_CHART)), format_rate, scale_max=1.0),
        bar_chart("Cases reported by category", names, [Series("This period", "current", counts)], format_count, scale_max=even_top),
        bar_chart("Response and handling times, this period and previous", list(TIME_CHART.values()), compared(list(TIME_CHART)), format_duration),
    ]


def _html_kpi_section(rows: list[KpiRow], judged: bool) -> str:
    body = "".join(
        f'<tr><th scope="row">{_h(row.label)}</th><td class="num">{_h(row.current)}</td><td class="num">{_h(row.previous)}</td>'
        f'<td class="num change {VERDICT_CLASSES[row.verdict]}">{_h(row.change)}'
        + (f'<span class="verdict">{_h(row.verdict)}</span>' if row.verdict else "")
        + "</td>"
        + (f'<td class="num">{_h(row.target)}</td><td class="result {RESULT_CLASSES.get(row.result, "")}">{_h(row.result)}</td>' if judged else "")
        + "</tr>\n"
        for row in rows
    )
    target_headings = '<th class="num">Target</th><th>Result</th>' if judged else ""
    return (
        "<section><h2>Key figures</h2>"
        '<table class="kpis"><thead><tr><th>KPI</th><th class="num">This period</th><th class="num">Previous</th>'
        f'<th class="num">Change</th>{target_headings}</tr></thead><tbody>\n{body}</tbody></table>'
        '<p class="legend-note">▲/▼ show which way a figure moved; green is better, red is worse.</p></section>'
    )


def _html_table_section(table: Table) -> str:
    if not table.rows:
        return f'<section><h2>{_h(table.heading)}</h2><p class="none">none</p></section>'

    def cells(values: Sequence[str], tag: str) -> str:
        return "".join(
            f'<{tag} class="num">{_h(value)}</{tag}>' if index in table.numeric else f"<{tag}>{_h(value)}</{tag}>"
            for index, value in enumerate(values)
        )

    rows = "".join(f"<tr>{cells(row, 'td')}</tr>\n" for row in table.rows)
    return (
        f"<section><h2>{_h(table.heading)}</h2><table><thead><tr>{cells(table.columns, 'th')}</tr></thead><tbody>\n{rows}</tbody></table></section>"
    )


def _h(text: str) -> str:
    return escape(text, quote=True)
