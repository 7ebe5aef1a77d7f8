"""Desks' reads and writes: slots, booking, releasing, hours and the loaded calendar dates.

Functions take the session and never commit; the caller owns the transaction. Booking
and releasing lock the desk's row first, so two cases racing for the last place of a slot
are served one after the other: one gets it, the other the next free slot.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from services.common.clock import STATION_TZ, to_station_time
from services.common.errors import DomainError, NotFound
from services.mediation.calendar import OpeningHours, WorkingCalendar, session_starts
from services.mediation.desks.models import CalendarDay, Desk, DeskSession

log = logging.getLogger(__name__)

# How far ahead the next free slot is looked for, and in what steps.
BOOKING_HORIZON = timedelta(days=366)
_SEARCH_STEP = timedelta(days=14)
# The years a station is about to book into, for the "calendar unknown" warning.
LOOKAHEAD = timedelta(days=60)

HOURS_FIELDS = ("calendar", "weekdays", "opens", "closes", "session_minutes", "parallel")


@dataclass(frozen=True)
class Slot:
    """One session slot of a desk and how many of its places are still free."""

    desk_code: str
    starts_at: datetime
    ends_at: datetime
    capacity: int
    remaining: int


def list_desks(session: Session) -> list[Desk]:
    """Every desk, by code."""
    return list(session.scalars(select(Desk).order_by(Desk.code)))


def get_desk(session: Session, code: str) -> Desk:
    """The desk with `code`, else a 404."""
    desk = session.get(Desk, code)
    if desk is None:
        raise NotFound(f"no desk {code!r}")
    return desk


def _lock_desk(session: Session, code: str) -> Desk:
    """The desk's row, locked until the transaction ends (bookings of one desk queue here)."""
    if session.get_bind().dialect.name == "sqlite":
        # SQLite has no row locks: a write takes the database's write lock now, before
        # the reads below, so they cannot be stale when the booking is written.
        session.execute(
            update(Desk)
            .where(Desk.code == code)
            .values(code=Desk.code)
            .execution_options(synchronize_session=False)
        )
    desk = session.scalar(
        select(Desk)
        .where(Desk.code == code)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    if desk is None:
        raise NotFound(f"no desk {code!r}")
    return desk


def working_calendar(session: Session) -> WorkingCalendar:
    """The official calendar with the dates staff loaded."""
    days = list(session.scalars(select(CalendarDay)))
    return WorkingCalendar(
        extra_working_days=[d.date for d in days if d.working],
        extra_holidays=[d.date for d in days if not d.working],
    )


def _active_sessions(
    session: Session, *, desk_code: str, start: datetime, end: datetime
) -> list[DeskSession]:
    """The desk's sessions that are not cancelled and overlap [start, end)."""
    return list(
        session.scalars(
            select(DeskSession).where(
                DeskSession.desk_code == desk_code,
                DeskSession.cancelled_at.is_(None),
                DeskSession.starts_at < end,
                DeskSession.ends_at > start,
            )
        )
    )


def _slots(
    session: Session,
    *,
    desk: Desk,
    hours: OpeningHours,
    start: datetime,
    end: datetime,
    calendar: WorkingCalendar,
    case_id: uuid.UUID | None = None,
) -> Iterator[Slot]:
    """Every slot starting in [start, end) with its free places (0 if the case is in it)."""
    starts = list(session_starts(hours, after=start, until=end, calendar=calendar))
    if not starts:
        return
    booked = _active_sessions(session, desk_code=desk.code, start=starts[0][0], end=starts[-1][1])
    for starts_at, ends_at in starts:
        overlapping = [b for b in booked if b.starts_at < ends_at and b.ends_at > starts_at]
        remaining = max(hours.parallel - len(overlapping), 0)
        if case_id is not None and any(b.case_id == case_id for b in overlapping):
            remaining = 0  # one case holds one place of a slot
        yield Slot(desk.code, starts_at, ends_at, hours.parallel, remaining)


def free_slots(
    session: Session,
    *,
    desk_code: str,
    start: datetime,
    end: datetime,
    calendar: WorkingCalendar | None = None,
) -> list[Slot]:
    """The desk's slots starting in [start, end) that have a free place."""
    desk = get_desk(session, desk_code)
    calendar = calendar or working_calendar(session)
    slots = _slots(session, desk=desk, hours=desk.hours, start=start, end=end, calendar=calendar)
    return [slot for slot in slots if slot.remaining > 0]


def _next_free_slot(
    session: Session,
    *,
    desk: Desk,
    hours: OpeningHours,
    case_id: uuid.UUID,
    now: datetime,
    calendar: WorkingCalendar,
) -> Slot:
    start = now
    while start < now + BOOKING_HORIZON:
        end = min(start + _SEARCH_STEP, now + BOOKING_HORIZON)
        slots = _slots(
            session,
            desk=desk,
            hours=hours,
            start=start,
            end=end,
            calendar=calendar,
            case_id=case_id,
        )
        for slot in slots:
            if slot.remaining > 0:
                return slot
        start = end
    raise DomainError(f"{desk.name} has no free slot in the next {BOOKING_HORIZON.days} days")


def _requested_slot(
    session: Session,
    *,
    desk: Desk,
    hours: OpeningHours,
    case_id: uuid.UUID,
    starts_at: datetime,
    now: datetime,
    calendar: WorkingCalendar,
) -> Slot:
    if starts_at.tzinfo is None:
        raise DomainError("starts_at needs a timezone", status=422)
    when = to_station_time(starts_at)
    if starts_at < now:
        raise DomainError(f"starts_at {when} is in the past", status=422)
    slots = _slots(
        session,
        desk=desk,
        hours=hours,
        start=starts_at,
        end=starts_at + timedelta(seconds=1),
        calendar=calendar,
        case_id=case_id,
    )
    slot = next(slots, None)
    if slot is None or slot.starts_at != starts_at:
        raise DomainError(
            f"{desk.name} holds no session starting at {when} (station time): "
            f"{describe_hours(hours)}",
            status=422,
        )
    if slot.remaining == 0:
        raise DomainError(f"{desk.name} is full at {when} (station time), or the case is in it")
    return slot


def book_session(
    session: Session,
    *,
    desk_code: str,
    case_id: uuid.UUID,
    starts_at: datetime | None = None,
    now: datetime,
    calendar: WorkingCalendar | None = None,
) -> DeskSession:
    """Book the case a place at `starts_at`, or at the desk's next free slot from `now` on.

    404 for an unknown desk; 422 when `starts_at` is in the past or not one of the desk's
    slots; 409 when that slot is full (or already holds the case), or nothing is free
    within a year.
    """
    desk = _lock_desk(session, desk_code)
    hours = desk.hours
    calendar = calendar or working_calendar(session)
    if starts_at is None:
        slot = _next_free_slot(
            session, desk=desk, hours=hours, case_id=case_id, now=now, calendar=calendar
        )
    else:
        slot = _requested_slot(
            session,
            desk=desk,
            hours=hours,
            case_id=case_id,
            starts_at=starts_at,
            now=now,
            calendar=calendar,
        )
    booking = DeskSession(
        id=uuid.uuid4(),
        desk_code=desk.code,
        case_id=case_id,
        starts_at=slot.starts_at,
        ends_at=slot.ends_at,
        created_at=now,
    )
    session.add(booking)
    session.flush()
    year = slot.starts_at.astimezone(STATION_TZ).year
    if not calendar.knows(year):
        log.warning(
            "booked %s on %s: the official calendar of %s is not known; Monday to Friday "
            "and the dates staff loaded decide its working days",
            desk.code,
            to_station_time(slot.starts_at),
            year,
        )
    return booking


def release_session(session: Session, *, desk_session: DeskSession, now: datetime) -> None:
    """Cancel a booked session, which frees its place; releasing twice changes nothing."""
    _lock_desk(session, desk_session.desk_code)
    if desk_session.cancelled_at is None:
        desk_session.cancelled_at = now
        session.flush()


def sessions_of_case(session: Session, case_id: uuid.UUID) -> list[DeskSession]:
    """A case's sessions at every desk (cancelled ones too), oldest first."""
    return list(
        session.scalars(
            select(DeskSession)
            .where(DeskSession.case_id == case_id)
            .order_by(DeskSession.starts_at, DeskSession.created_at)
        )
    )


def describe_hours(hours: OpeningHours) -> str:
    """The hours in words, for error messages and the CLI."""
    days = {
        "working_days": "on working days",
        "daily": "every day",
        "weekdays": "on "
        + ", ".join(
            ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")[d - 1] for d in sorted(hours.weekdays)
        )
        + " when they are working days",
    }[hours.calendar.value]
    return (
        f"{days}, {hours.opens:%H:%M}–{hours.closes:%H:%M}, sessions of {hours.session_minutes} "
        f"minutes, {hours.parallel} at a time"
    )


def check_hours(values: dict[str, Any]) -> OpeningHours:
    """Opening hours from a desk's fields, else a 422 naming what is wrong."""
    try:
        return OpeningHours(
            calendar=values["calendar"],
            weekdays=frozenset(values.get("weekdays") or ()),
            opens=values["opens"],
            closes=values["closes"],
            session_minutes=values["session_minutes"],
            parallel=values["parallel"],
        )
    except (KeyError, ValueError) as exc:
        raise DomainError(f"unusable opening hours: {exc}", status=422) from exc


def _desk_fields(desk: Desk) -> dict[str, Any]:
    return {"name": desk.name, **{name: getattr(desk, name) for name in HOURS_FIELDS}}


def save_desk(session: Session, *, code: str, changes: dict[str, Any]) -> Desk:
    """Create the desk `code` or change some of its fields (hours are checked as a whole).

    Booked sessions stay as they are: staff reschedule them when the hours change.
    """
    desk = session.get(Desk, code)
    values = _desk_fields(desk) if desk is not None else {"weekdays": []}
    values.update(changes)
    if desk is None and "name" not in values:
        raise DomainError(f"a new desk {code!r} needs a name", status=422)
    hours = check_hours(values)
    if hours.calendar.value != "weekdays":
        values["weekdays"] = []
    normalised = {
        "name": values["name"],
        "calendar": hours.calendar.value,
        "weekdays": sorted(hours.weekdays) if values["weekdays"] else [],
        "opens": f"{hours.opens:%H:%M}",
        "closes": f"{hours.closes:%H:%M}",
        "session_minutes": hours.session_minutes,
        "parallel": hours.parallel,
    }
    if desk is None:
        desk = Desk(code=code, **normalised)
        session.add(desk)
    else:
        for name, value in normalised.items():
            setattr(desk, name, value)
    session.flush()
    return desk


def calendar_days(session: Session, *, year: int | None = None) -> list[CalendarDay]:
    """The dates staff loaded, in order; only those of `year` when given."""
    query = select(CalendarDay).order_by(CalendarDay.date)
    if year is not None:
        query = query.where(
            CalendarDay.date >= date(year, 1, 1), CalendarDay.date <= date(year, 12, 31)
        )
    return list(session.scalars(query))


def load_calendar_days(session: Session, *, days: Iterable[dict[str, Any]]) -> list[CalendarDay]:
    """Set each given date as a working day or a holiday (`{date, working, note}`)."""
    loaded = []
    for day in days:
        row = session.get(CalendarDay, day["date"])
        if row is None:
            row = CalendarDay(date=day["date"], working=day["working"], note=day.get("note") or "")
            session.add(row)
        else:
            row.working, row.note = day["working"], day.get("note") or ""
        loaded.append(row)
    session.flush()
    return loaded


def remove_calendar_day(session: Session, *, day: date) -> None:
    """Forget a loaded date (the official calendar, or Mon–Fri, decides it again)."""
    row = session.get(CalendarDay, day)
    if row is None:
        raise NotFound(f"{day} is not a loaded date")
    session.delete(row)
    session.flush()


def unknown_years_in_use(session: Session, *, now: datetime) -> dict[int, int]:
    """Years the station books into whose official calendar is not known → dates loaded.

    The years in use are those from today to `LOOKAHEAD` ahead and those of sessions
    still to come. For each, the number of dates staff loaded says how far they made up
    for it (0: Monday to Friday alone decide).
    """
    calendar = WorkingCalendar()
    first, last = (at.astimezone(STATION_TZ).year for at in (now, now + LOOKAHEAD))
    years = set(range(first, last + 1))
    upcoming = session.scalars(
        select(DeskSession.starts_at).where(
            DeskSession.cancelled_at.is_(None), DeskSession.starts_at >= now
        )
    )
    years.update(at.astimezone(STATION_TZ).year for at in upcoming)
    return {year: len(calendar_days(session, year=year)) for year in calendar.unknown_years(years)}
