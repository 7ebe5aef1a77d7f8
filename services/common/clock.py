"""Time: every "now" comes from a clock that tests can hand in and move."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Protocol
from zoneinfo import ZoneInfo

# The station's zone, for showing times to people and for local rules (quiet hours, desk
# hours); everything is stored and compared in UTC.
STATION_TZ = ZoneInfo("Asia/Shanghai")


class Clock(Protocol):
    def now(self) -> datetime:
        """The current instant, timezone-aware, in UTC."""
        ...


class SystemClock:
    def now(self) -> datetime:
        """The wall clock, in UTC."""
        return datetime.now(UTC)


class FrozenClock:
    """A clock that stands still until a test moves it."""

    def __init__(self, at: datetime) -> None:
        if at.tzinfo is None:
            raise ValueError("FrozenClock needs a timezone-aware datetime")
        self._at = at.astimezone(UTC)

    def now(self) -> datetime:
        return self._at

    def advance(self, delta: timedelta) -> None:
        """Move the clock forward by `delta`."""
        self._at += delta


def to_station_time(at: datetime, tz: ZoneInfo = STATION_TZ) -> str:
    """Render an instant as the station's local time, for people to read."""
    return at.astimezone(tz).strftime("%Y-%m-%d %H:%M")
