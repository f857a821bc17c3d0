"""A team's shifts as the console's form takes them: one line a day key, its spans after it,
`workdays 08:30-17:30` or `mon 08:30-12:00, 13:00-17:30`. The department's service checks the
shifts themselves (states/shifts.py); this only turns lines into its data and back."""

from __future__ import annotations

from typing import Any


class ShiftLinesError(ValueError):
    def __init__(self, line: str):
        super().__init__(f"not a day and its spans: {line!r}")
        self.line = line


def shifts_of(text: str) -> dict[str, Any] | None:
    """None: no shifts (the team works whenever)."""
    shifts: dict[str, Any] = {}
    for line in text.splitlines():
        if not line.strip():
            continue
        day, _, spans = line.strip().replace("=", " ", 1).partition(" ")
        listed = [span.strip() for span in spans.replace("，", ",").split(",") if span.strip()]
        if not listed:
            raise ShiftLinesError(line.strip())
        shifts[day.strip()] = listed[0] if len(listed) == 1 else listed
    return shifts or None


def shift_lines(shifts: dict[str, Any] | None) -> str:
    if not shifts:
        return ""
    return "\n".join(f"{day} {value if isinstance(value, str) else ', '.join(value)}" for day, value in shifts.items())
