"""A desk's week on paper: each day as the calendar decides it, each slot free or booked.

Pure: it joins what mediation answers (the dates of the calendar, the desk's free slots,
its booked sessions with their cases) into the rows the page shows. A slot with a free
place comes from the free slots; a full one, or one already past, only from its bookings.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any

from services.common.clock import STATION_TZ

AWAITING_OUTCOME = ("session_scheduled", "joint_meeting")


@dataclass
class WeekSlot:
    starts_at: datetime
    ends_at: datetime
    capacity: int
    remaining: int | None  # None: not known (the slot has begun, no place can be booked)
    bookings: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class WeekDay:
    date: date
    working: bool
    kind: str
    holiday: str | None
    holiday_zh: str | None
    note: str
    slots: list[WeekSlot] = field(default_factory=list)


def monday_of(day: date) -> date:
    return day - timedelta(days=day.isoweekday() - 1)


def week_bounds(monday: date) -> tuple[datetime, datetime]:
    """The week from Monday 00:00 to the next Monday 00:00 at the station."""
    start = datetime.combine(monday, time(), STATION_TZ)
    return start, start + timedelta(days=7)


def build_week(
    *,
    days: list[dict[str, Any]],
    free: list[dict[str, Any]],
    booked: list[dict[str, Any]],
    capacity: int,
) -> list[WeekDay]:
    """The week's days, each with its slots in order (station dates)."""
    week = {
        date.fromisoformat(d["date"]): WeekDay(
            date=date.fromisoformat(d["date"]),
            working=bool(d["working"]),
            kind=str(d["kind"]),
            holiday=d.get("holiday"),
            holiday_zh=d.get("holiday_zh"),
            note=d.get("note") or "",
        )
        for d in days
    }
    slots: dict[datetime, WeekSlot] = {}
    for s in free:
        starts = datetime.fromisoformat(s["starts_at"])
        slots[starts] = WeekSlot(
            starts, datetime.fromisoformat(s["ends_at"]), int(s["capacity"]), int(s["remaining"])
        )
    for b in booked:
        starts = datetime.fromisoformat(b["starts_at"])
        slot = slots.get(starts)
        if slot is None:  # full, or begun: not among the free slots
            slot = slots[starts] = WeekSlot(
                starts, datetime.fromisoformat(b["ends_at"]), capacity, None
            )
        slot.bookings.append(b)
    for starts in sorted(slots):
        day = week.get(starts.astimezone(STATION_TZ).date())
        if day is not None:
            day.slots.append(slots[starts])
    return [week[d] for d in sorted(week)]


def awaits_outcome(booking: dict[str, Any], *, now: datetime) -> bool:
    """Whether the desk can record this session's outcome now (the case page's form): it
    has begun, has none yet, and its case still waits at the desk."""
    return (
        booking.get("outcome") is None
        and booking.get("case_status") in AWAITING_OUTCOME
        and datetime.fromisoformat(booking["starts_at"]) <= now
    )
