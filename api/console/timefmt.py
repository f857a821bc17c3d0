"""Times and durations as the department reads them: in its time zone, in the user's language."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from api.labels import label
from states.case import parse_time


@dataclass(frozen=True)
class Clock:
    """How one user sees times: the department's zone and the user's language."""

    zone: ZoneInfo
    language: str

    def local(self, moment: datetime | str | None) -> datetime | None:
        if moment is None or moment == "":
            return None
        instant = parse_time(moment) if isinstance(moment, str) else moment
        if instant.tzinfo is None:
            instant = instant.replace(tzinfo=UTC)
        return instant.astimezone(self.zone)

    def when(self, moment: datetime | str | None) -> str:
        """`2026-12-02 17:30`."""
        local = self.local(moment)
        return "" if local is None else local.strftime("%Y-%m-%d %H:%M")

    def local_input(self, moment: datetime | str | None) -> str:
        """What a datetime-local input shows: the department's wall time, `2026-12-02T17:30`."""
        local = self.local(moment)
        return "" if local is None else local.strftime("%Y-%m-%dT%H:%M")

    def iso(self, moment: datetime | str | None) -> str:
        local = self.local(moment)
        return "" if local is None else local.isoformat(timespec="seconds")

    def duration(self, seconds: float | None) -> str:
        """「2小时15分」 / "2 h 15 min"; days beyond a day, minutes under an hour."""
        if seconds is None:
            return ""
        minutes = int(abs(seconds) // 60)
        days, rest = divmod(minutes, 24 * 60)
        hours, minutes = divmod(rest, 60)
        parts = []
        if days:
            parts.append(self._unit("days", days))
        if hours:
            parts.append(self._unit("hours", hours))
        if minutes or not parts:
            parts.append(self._unit("minutes", minutes))
        if len(parts) == 1:
            return parts[0]
        return self._word("duration_pair").format(first=parts[0], second=parts[1])

    def ago(self, moment: datetime | str | None, now: datetime | None = None) -> str:
        """「3分钟前」 / "3 min ago"; 「刚刚」 under a minute."""
        local = self.local(moment)
        if local is None:
            return ""
        seconds = ((now or datetime.now(UTC)) - local).total_seconds()
        if seconds < 60:
            return self._word("just_now")
        return self._word("ago").format(duration=self.duration(seconds))

    def left(self, seconds: float | None) -> str:
        """「剩余 45分」 / "45 min left"; 「超时 10分」 / "10 min over" once past."""
        if seconds is None:
            return ""
        template = self._word("time_left") if seconds >= 0 else self._word("time_over")
        return template.format(duration=self.duration(seconds))

    def _unit(self, unit: str, count: int) -> str:
        return self._word(f"unit_{unit}").format(count=count)

    def _word(self, key: str) -> str:
        return label(self.language, "console", key)
