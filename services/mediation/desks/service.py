"""Desks' reads and writes: slots, booking, releasing, hours and the loaded calendar dates.

Functions take the session and never commit; the caller owns the transaction. Booking
and releasing lock the desk's row first, so two cases racing for the last place of a slot
are served one after the other: one gets it, the other the next free slot.
"""

from __future__ import annotations

import bisect
import logging
import uuid
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, select, update
from sqlalchemy.orm import Session

from services.common.clock import STATION_TZ, to_station_time
from services.common.errors import DomainError, NotFound
from services.mediation.calendar import (
    CalendarKind,
    DayOfCalendar,
    OpeningHours,
    UnusableHours,
    WorkingCalendar,
    describe_day,
    session_starts,
)
from services.mediation.desks.models import CalendarDay, Desk, DeskSession
from services.mediation.models import Case

log = logging.getLogger(__name__)

# How far ahead the next free slot is looked for, and in what steps.
BOOKING_HORIZON = timedelta(days=366)
_SEARCH_STEP = timedelta(days=14)
# The years a station is about to book into, for the "calendar unknown" warning.
LOOKAHEAD = timedelta(days=60)

SESSION_OUTCOMES = ("resolved", "failed")
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


@dataclass(frozen=True)
class _Booked:
    """The places taken at a desk over a stretch of time, for counting overlaps quickly."""

    starts: list[datetime]  # sorted
    ends: list[datetime]
    cases: list[uuid.UUID]
    longest: timedelta

    @classmethod
    def load(cls, session: Session, *, desk_code: str, start: datetime, end: datetime) -> _Booked:
        """The desk's sessions that are not cancelled and overlap [start, end)."""
        rows = session.execute(
            select(DeskSession.starts_at, DeskSession.ends_at, DeskSession.case_id)
            .where(
                DeskSession.desk_code == desk_code,
                DeskSession.cancelled_at.is_(None),
                DeskSession.starts_at < end,
                DeskSession.ends_at > start,
            )
            .order_by(DeskSession.starts_at)
        ).all()
        longest = max((row.ends_at - row.starts_at for row in rows), default=timedelta(0))
        return cls(
            starts=[row.starts_at for row in rows],
            ends=[row.ends_at for row in rows],
            cases=[row.case_id for row in rows],
            longest=longest,
        )

    def overlapping(self, starts_at: datetime, ends_at: datetime) -> list[int]:
        """Indexes of the sessions that overlap [starts_at, ends_at)."""
        # Only a session starting after (starts_at - the longest session) can reach into it.
        first = bisect.bisect_right(self.starts, starts_at - self.longest)
        last = bisect.bisect_left(self.starts, ends_at)
        return [i for i in range(first, last) if self.ends[i] > starts_at]


@dataclass(frozen=True)
class _Sheet:
    """One desk's booking sheet: its slots between two instants and the places left in each."""

    session: Session
    desk: Desk
    calendar: WorkingCalendar

    @property
    def hours(self) -> OpeningHours:
        return self.desk.hours

    def slots(
        self, *, start: datetime, end: datetime, case_id: uuid.UUID | None = None
    ) -> Iterator[Slot]:
        """Every slot starting in [start, end) with its free places (0 if the case is in it)."""
        hours = self.hours
        starts = list(session_starts(hours, after=start, until=end, calendar=self.calendar))
        if not starts:
            return
        booked = _Booked.load(
            self.session, desk_code=self.desk.code, start=starts[0][0], end=starts[-1][1]
        )
        for starts_at, ends_at in starts:
            overlapping = booked.overlapping(starts_at, ends_at)
            remaining = max(hours.parallel - len(overlapping), 0)
            if case_id is not None and any(booked.cases[i] == case_id for i in overlapping):
                remaining = 0  # one case holds one place of a slot
            yield Slot(self.desk.code, starts_at, ends_at, hours.parallel, remaining)

    def next_free(self, *, case_id: uuid.UUID, now: datetime) -> Slot:
        """The first slot from `now` on with a place for the case (searched step by step)."""
        start, horizon = now, now + BOOKING_HORIZON
        while start < horizon:
            end = min(start + _SEARCH_STEP, horizon)
            for slot in self.slots(start=start, end=end, case_id=case_id):
                if slot.remaining > 0:
                    return slot
            start = end
        raise DomainError(
            f"{self.desk.name} has no free slot in the next {BOOKING_HORIZON.days} days"
        )

    def requested(self, *, case_id: uuid.UUID, starts_at: datetime, now: datetime) -> Slot:
        """The slot starting at `starts_at` if it has a place for the case, else why not."""
        if starts_at.tzinfo is None:
            raise DomainError("starts_at needs a timezone", status=422)
        when = to_station_time(starts_at)
        if starts_at < now:
            raise DomainError(f"starts_at {when} is in the past", status=422)
        end = starts_at + timedelta(seconds=1)
        slot = next(self.slots(start=starts_at, end=end, case_id=case_id), None)
        if slot is None or slot.starts_at != starts_at:
            raise DomainError(
                f"{self.desk.name} holds no session starting at {when} (station time): "
                f"{self.hours.describe()}",
                status=422,
            )
        if slot.remaining == 0:
            raise DomainError(
                f"{self.desk.name} is full at {when} (station time), or the case is in it"
            )
        return slot


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
    sheet = _Sheet(session, desk, calendar or working_calendar(session))
    return [slot for slot in sheet.slots(start=start, end=end) if slot.remaining > 0]


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
    calendar = calendar or working_calendar(session)
    sheet = _Sheet(session, desk, calendar)
    if starts_at is None:
        slot = sheet.next_free(case_id=case_id, now=now)
    else:
        slot = sheet.requested(case_id=case_id, starts_at=starts_at, now=now)
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
    """Cancel a booked session, which frees its place; releasing twice changes nothing.

    A session that has an outcome took place: releasing it is a 409.
    """
    _lock_desk(session, desk_session.desk_code)
    session.refresh(desk_session)  # as it is now that no booking or release runs beside us
    if desk_session.outcome is not None:
        raise DomainError("the session took place (it has an outcome); it cannot be released")
    if desk_session.cancelled_at is None:
        desk_session.cancelled_at = now
        session.flush()


def record_outcome(
    session: Session, *, desk_session: DeskSession, outcome: str, now: datetime
) -> DeskSession:
    """What came of a session that took place: `resolved` or `failed` (409 otherwise)."""
    if outcome not in SESSION_OUTCOMES:
        raise DomainError(f"outcome must be one of {', '.join(SESSION_OUTCOMES)}", status=422)
    _lock_desk(session, desk_session.desk_code)
    session.refresh(desk_session)
    if desk_session.cancelled_at is not None:
        raise DomainError("the session was cancelled; it has no outcome")
    if desk_session.starts_at > now:
        raise DomainError(f"the session starts at {to_station_time(desk_session.starts_at)}")
    if desk_session.outcome is not None and desk_session.outcome != outcome:
        raise DomainError(f"the session's outcome is {desk_session.outcome} already")
    desk_session.outcome = outcome
    session.flush()
    return desk_session


def sessions_of_case(session: Session, case_id: uuid.UUID) -> list[DeskSession]:
    """A case's sessions at every desk (cancelled ones too), oldest first."""
    return list(
        session.scalars(
            select(DeskSession)
            .where(DeskSession.case_id == case_id)
            .order_by(DeskSession.starts_at, DeskSession.created_at)
        )
    )


class HoursRefused(DomainError):
    """Opening hours that cannot hold a session (422); `problems` names each field."""

    status = 422

    def __init__(self, problems: dict[str, list[str]]) -> None:
        flat = "; ".join(f"{name}: {', '.join(found)}" for name, found in problems.items())
        super().__init__(f"unusable opening hours ({flat})")
        self.problems = problems


def check_hours(values: dict[str, Any]) -> OpeningHours:
    """Opening hours from a desk's fields, else a 422 naming each field that is wrong."""
    missing = [name for name in HOURS_FIELDS if name != "weekdays" and name not in values]
    if missing:
        raise HoursRefused({name: ["Missing data for required field."] for name in missing})
    try:
        return OpeningHours(
            calendar=CalendarKind(values["calendar"]),
            weekdays=frozenset(values.get("weekdays") or ()),
            opens=values["opens"],
            closes=values["closes"],
            session_minutes=values["session_minutes"],
            parallel=values["parallel"],
        )
    except UnusableHours as exc:
        raise HoursRefused(exc.problems) from exc
    except ValueError as exc:  # a calendar kind or a clock time that does not parse
        raise HoursRefused({"hours": [str(exc)]}) from exc


def _desk_fields(desk: Desk) -> dict[str, Any]:
    return {"name": desk.name, **{name: getattr(desk, name) for name in HOURS_FIELDS}}


def save_desk(session: Session, *, code: str, changes: dict[str, Any]) -> Desk:
    """Create the desk `code` or change some of its fields (hours are checked as a whole).

    Booked sessions stay as they are: staff reschedule them when the hours change.
    """
    try:
        desk: Desk | None = _lock_desk(session, code)  # no booking runs on the old hours meanwhile
    except NotFound:
        desk = None
    values = _desk_fields(desk) if desk is not None else {"weekdays": []}
    values.update(changes)
    if desk is None and "name" not in values:
        raise DomainError(f"a new desk {code!r} needs a name", status=422)
    hours = check_hours(values)
    normalised = {
        "name": values["name"],
        "calendar": hours.calendar.value,
        # Weekdays mean something on the weekdays calendar only; elsewhere they would mislead.
        "weekdays": sorted(hours.weekdays) if hours.calendar is CalendarKind.WEEKDAYS else [],
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


@dataclass(frozen=True)
class CalendarDate:
    """A date of the calendar as decided, with the note staff loaded for it (if any)."""

    day: DayOfCalendar
    note: str


def calendar_range(session: Session, *, first: date, last: date) -> list[CalendarDate]:
    """Each date from `first` to `last` (both included): working or not, and why."""
    calendar = working_calendar(session)
    loaded = session.scalars(
        select(CalendarDay).where(CalendarDay.date >= first, CalendarDay.date <= last)
    )
    notes = {row.date: row.note for row in loaded}
    days = (first + timedelta(days=n) for n in range((last - first).days + 1))
    return [CalendarDate(describe_day(calendar, d), notes.get(d) or "") for d in days]


@dataclass(frozen=True)
class BookedSession:
    """A place taken at a desk, and the case that holds it."""

    id: uuid.UUID
    case_id: uuid.UUID
    tracking_code: str
    case_status: str
    starts_at: datetime
    ends_at: datetime
    outcome: str | None


def booked_sessions(
    session: Session,
    *,
    desk_code: str,
    start: datetime,
    end: datetime,
    visible: ColumnElement[bool],
) -> list[BookedSession]:
    """The desk's sessions (not cancelled) starting in [start, end), of the cases `visible`
    selects (the caller's: a case one may not see is absent), in order."""
    get_desk(session, desk_code)
    # Its own query (not correlated with the sessions here), as `visible` may itself look
    # at desk sessions.
    visible_cases = select(Case.id).where(visible).correlate(None)
    rows = session.execute(
        select(DeskSession, Case.tracking_code, Case.status)
        .join(Case, Case.id == DeskSession.case_id)
        .where(
            DeskSession.desk_code == desk_code,
            DeskSession.cancelled_at.is_(None),
            DeskSession.starts_at >= start,
            DeskSession.starts_at < end,
            DeskSession.case_id.in_(visible_cases),
        )
        .order_by(DeskSession.starts_at, Case.tracking_code)
    ).all()
    return [
        BookedSession(
            id=row.id,
            case_id=row.case_id,
            tracking_code=code,
            case_status=status,
            starts_at=row.starts_at,
            ends_at=row.ends_at,
            outcome=row.outcome,
        )
        for row, code, status in rows
    ]


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
