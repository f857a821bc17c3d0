"""Vertical bar charts as inline SVG, for review pages shown on a meeting-room screen.

Generic on purpose: the caller says what the bars are, how to write a value and how tall the scale
is; this module only draws. Every piece of text is HTML-escaped here, so callers pass plain strings.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from html import escape

PLOT_HEIGHT = 240
TOP = 76  # room for the visible title, the legend and the tallest bar's value
BOTTOM = 44  # room for the group labels
LEFT = 84  # room for the tick labels
RIGHT = 16
BAR_WIDTH = 48
BAR_GAP = 8
GROUP_PADDING = 36
LABEL_CHAR_WIDTH = 8  # a rough average at the label font size, to know when to shorten a label
EMPTY_PLOT_WIDTH = 320


@dataclass(frozen=True)
class Series:
    name: str  # shown in the legend, e.g. "This period"
    css_class: str  # the page's stylesheet colours bars by this class
    values: Sequence[float | None]  # one per group label; None draws a gap labelled "no data"


def bar_chart(
    title: str,
    labels: Sequence[str],
    series: Sequence[Series],
    format_value: Callable[[float], str],
    scale_max: float | None = None,
    no_data: str = "no data",
) -> str:
    """One group of bars per label, one bar per series; heights are proportional to the values.

    The scale runs from 0 to `scale_max` (a rate chart passes 1.0 so 100 % is always the top), or to
    the largest value when that is bigger or no `scale_max` is given. `no_data` marks a missing value,
    in the page's language."""
    group_width = len(series) * BAR_WIDTH + (len(series) - 1) * BAR_GAP + 2 * GROUP_PADDING
    # At least as wide as an empty plot, so a chart of one or two bars still has room for its title.
    plot_width = max(group_width * len(labels), EMPTY_PLOT_WIDTH)
    width, height = LEFT + plot_width + RIGHT, TOP + PLOT_HEIGHT + BOTTOM
    top = _scale_top(scale_max, [value for one in series for value in one.values])
    baseline = TOP + PLOT_HEIGHT
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" role="img" width="{width}" height="{height}" viewBox="0 0 {width} {height}">',
        f"<title>{escape(title, quote=True)}</title>",
        _text(title, LEFT, 24, "chart-title", "start"),
        *_legend(series),
        *_axes(top, format_value, plot_width),
    ]
    if not labels:
        parts.append(_text(no_data, LEFT + plot_width / 2, baseline - PLOT_HEIGHT / 2, "no-data"))
    for index, label in enumerate(labels):
        left = LEFT + index * group_width + GROUP_PADDING
        for offset, one in enumerate(series):
            x = left + offset * (BAR_WIDTH + BAR_GAP)
            parts.extend(_bar(one, one.values[index], x, baseline, top, format_value, no_data))
        shown = _shorten(label, group_width // LABEL_CHAR_WIDTH)
        parts.append(
            f'<g class="group-label"><title>{escape(label, quote=True)}</title>'
            f"{_text(shown, LEFT + index * group_width + group_width / 2, baseline + 26, 'label')}</g>"
        )
    parts.append("</svg>")
    return "\n".join(parts)


def _scale_top(scale_max: float | None, values: Sequence[float | None]) -> float:
    largest = max((value for value in values if value is not None), default=0)
    top = max(scale_max or 0, largest)
    return top if top > 0 else 1  # all zero or no data: any positive scale draws flat bars


def _bar(one: Series, value: float | None, x: float, baseline: float, top: float, format_value, no_data: str) -> list[str]:
    centre = x + BAR_WIDTH / 2
    if value is None:
        return [_text(no_data, centre, baseline - 8, "no-data")]
    bar_height = value / top * PLOT_HEIGHT
    shown = escape(format_value(value), quote=True)
    return [
        f'<rect class="bar {escape(one.css_class, quote=True)}" x="{x:.2f}" y="{baseline - bar_height:.2f}" '
        f'width="{BAR_WIDTH}" height="{bar_height:.2f}"><title>{escape(one.name, quote=True)}: {shown}</title></rect>',
        _text(format_value(value), centre, baseline - bar_height - 6, "value"),
    ]


def _axes(top: float, format_value, plot_width: float) -> list[str]:
    baseline = TOP + PLOT_HEIGHT
    parts = [
        f'<line class="axis" x1="{LEFT}" y1="{TOP}" x2="{LEFT}" y2="{baseline}" />',
        f'<line class="axis" x1="{LEFT}" y1="{baseline}" x2="{LEFT + plot_width}" y2="{baseline}" />',
    ]
    for fraction in (0.5, 1.0):
        y = baseline - fraction * PLOT_HEIGHT
        parts.append(f'<line class="grid" x1="{LEFT}" y1="{y:.2f}" x2="{LEFT + plot_width}" y2="{y:.2f}" />')
    for fraction in (0.0, 0.5, 1.0):
        y = baseline - fraction * PLOT_HEIGHT
        parts.append(_text(format_value(top * fraction), LEFT - 8, y + 5, "tick", "end"))
    return parts


def _legend(series: Sequence[Series]) -> list[str]:
    if len(series) < 2:
        return []
    parts = []
    for index, one in enumerate(series):
        x = LEFT + index * 170
        parts.append(f'<rect class="swatch {escape(one.css_class, quote=True)}" x="{x}" y="38" width="14" height="14" />')
        parts.append(_text(one.name, x + 20, 50, "legend", "start"))
    return parts


def _text(content: str, x: float, y: float, css_class: str, anchor: str = "middle") -> str:
    return f'<text class="{css_class}" x="{x:.2f}" y="{y:.2f}" text-anchor="{anchor}">{escape(content, quote=True)}</text>'


def _shorten(label: str, limit: int) -> str:
    return label if len(label) <= limit else label[: max(limit - 1, 1)] + "…"
