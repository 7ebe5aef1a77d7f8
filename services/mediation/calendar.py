"""Working days and desk opening hours: pure rules, no database.

Working days follow China's official holiday calendar (the State Council's yearly notice,
as published in the `chinese-calendar` package), adjusted working weekends (调休) included.
Dates that staff load override it; for a year the package does not know yet, a day is a
working day when it is Monday to Friday or loaded as one, and `unknown_years` names such
years so the readiness check and the log can say so.

Opening hours are station-local (Asia/Shanghai); every slot is handed out in UTC.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import chinese_calendar

from services.common.clock import STATION_TZ

# The years the package has the State Council's notice for.
OFFICIAL_YEARS: frozenset[int] = frozenset(
    day.year for day in (*chinese_calendar.holidays, *chinese_calendar.workdays)
)


class CalendarKind(enum.StrEnum):
    """Which days a desk sits on."""

    WORKING_DAYS = "working_days"  # every working day, adjusted working weekends included
    WEEKDAYS = "weekdays"  # the listed ISO weekdays, when they are working days
    DAILY = "daily"  # every day of the year, holidays included


class WorkingCalendar:
    """Working days: staff-loaded dates first, then the official calendar, else Mon–Fri."""

    def __init__(
        self,
        *,
        extra_working_days: Iterable[date] = (),
        extra_holidays: Iterable[date] = (),
    ) -> None:
        self._working = frozenset(extra_working_days)
        self._holidays = frozenset(extra_holidays)
        both = self._working & self._holidays
        if both:
            raise ValueError(f"{min(both)} is loaded both as a working day and as a holiday")

    def knows(self, year: int) -> bool:
        """Whether the official calendar of `year` is known (else Mon–Fri plus loaded dates)."""
        return year in OFFICIAL_YEARS

    def unknown_years(self, years: Iterable[int]) -> list[int]:
        """Those of `years` whose official calendar is not known, in order."""
        return sorted({year for year in years if not self.knows(year)})

    def is_working_day(self, day: date) -> bool:
        """Whether offices work on `day` (a 调休 Saturday or Sunday can be one)."""
        if day in self._working:
            return True
        if day in self._holidays:
            return False
        if self.knows(day.year):
            return bool(chinese_calendar.is_workday(day))
        return day.isoweekday() <= 5

    def add_working_days(self, start: date, n: int) -> date:
        """The `n`-th working day after `start` (`start` itself when `n` is 0)."""
        if n < 0:
            raise ValueError("n must not be negative")
        day = start
        while n:
            day += timedelta(days=1)
            if self.is_working_day(day):
                n -= 1
        return day


_WEEKDAY_NAMES = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


class DayKind(enum.StrEnum):
    """What a date is, in the words of the official notice."""

    WORKING_DAY = "working_day"
    ADJUSTED_WORKING_DAY = "adjusted_working_day"  # a 调休 Saturday or Sunday
    REST_DAY = "rest_day"  # an ordinary weekend
    HOLIDAY = "holiday"  # a public holiday (or a weekday staff loaded as one)


@dataclass(frozen=True)
class DayOfCalendar:
    """One date as the calendar decides it, with the holiday's name when the notice has one."""

    date: date
    working: bool
    kind: DayKind
    holiday: str | None = None  # the package's English name, e.g. "National Day"
    holiday_zh: str | None = None  # and its Chinese one, 国庆节


def describe_day(calendar: WorkingCalendar, day: date) -> DayOfCalendar:
    """`day` as `calendar` decides it: working or not, and why (holiday, 调休, weekend)."""
    working = calendar.is_working_day(day)
    weekend = day.isoweekday() >= 6
    name = None
    if calendar.knows(day.year):
        _, name = chinese_calendar.get_holiday_detail(day)
    holiday = _HOLIDAY_NAMES.get(name) if name else None
    if working:
        kind = DayKind.ADJUSTED_WORKING_DAY if weekend else DayKind.WORKING_DAY
    else:
        kind = DayKind.HOLIDAY if (holiday or not weekend) else DayKind.REST_DAY
    return DayOfCalendar(
        date=day,
        working=working,
        kind=kind,
        holiday=name if holiday else None,
        holiday_zh=holiday,
    )


_HOLIDAY_NAMES = {h.value: h.chinese for h in chinese_calendar.Holiday}


class UnusableHours(ValueError):
    """Opening hours that cannot hold a session; `problems` names each field."""

    def __init__(self, problems: dict[str, list[str]]) -> None:
        super().__init__("; ".join(p for field in problems.values() for p in field))
        self.problems = problems


def _clock_time(value: time | str) -> time:
    return value if isinstance(value, time) else time.fromisoformat(value)


@dataclass(frozen=True)
class OpeningHours:
    """When a desk sits: on which days, from when to when, sessions how long, how many at once."""

    calendar: CalendarKind
    opens: time
    closes: time
    session_minutes: int
    parallel: int
    weekdays: frozenset[int] = field(default_factory=frozenset)
    tz: ZoneInfo = STATION_TZ

    def __post_init__(self) -> None:
        object.__setattr__(self, "calendar", CalendarKind(self.calendar))
        object.__setattr__(self, "opens", _clock_time(self.opens))
        object.__setattr__(self, "closes", _clock_time(self.closes))
        object.__setattr__(self, "weekdays", frozenset(self.weekdays))
        problems = self.problems()
        if problems:
            raise UnusableHours(problems)

    def problems(self) -> dict[str, list[str]]:
        """What is wrong with these hours, by field (empty when they are usable)."""
        found: dict[str, list[str]] = {}

        def wrong(name: str, problem: str) -> None:
            found.setdefault(name, []).append(problem)

        if not all(1 <= day <= 7 for day in self.weekdays):
            wrong("weekdays", "weekdays are ISO numbers, 1 (Monday) to 7 (Sunday)")
        if self.calendar is CalendarKind.WEEKDAYS and not self.weekdays:
            wrong("weekdays", "a desk on the weekdays calendar needs at least one weekday")
        if self.session_minutes < 1:
            wrong("session_minutes", "sessions last at least one minute")
        if self.parallel < 1:
            wrong("parallel", "a desk holds at least one session at a time")
        if self.opens >= self.closes:
            wrong("closes", "a desk closes after it opens, on the same day")
        elif self._minutes(self.opens) + self.session_minutes > self._minutes(self.closes):
            wrong("session_minutes", "a session must fit between opening and closing")
        return found

    def describe(self) -> str:
        """The hours in words, for messages and the CLI."""
        if self.calendar is CalendarKind.WEEKDAYS:
            names = ", ".join(_WEEKDAY_NAMES[day - 1] for day in sorted(self.weekdays))
            days = f"on {names} when they are working days"
        else:
            days = "every day" if self.calendar is CalendarKind.DAILY else "on working days"
        return (
            f"{days}, {self.opens:%H:%M}–{self.closes:%H:%M}, sessions of "
            f"{self.session_minutes} minutes, {self.parallel} at a time"
        )

    @staticmethod
    def _minutes(at: time) -> int:
        return at.hour * 60 + at.minute

    @property
    def session_length(self) -> timedelta:
        return timedelta(minutes=self.session_minutes)

    def sits_on(self, day: date, calendar: WorkingCalendar) -> bool:
        """Whether the desk holds sessions on the station-local `day`."""
        if self.calendar is CalendarKind.DAILY:
            return True
        if not calendar.is_working_day(day):
            return False
        return self.calendar is CalendarKind.WORKING_DAYS or day.isoweekday() in self.weekdays

    def starts_on(self, day: date) -> Iterator[datetime]:
        """The session starts of `day` (as if the desk sat), station-local, aware."""
        start = datetime.combine(day, self.opens, self.tz)
        closes = datetime.combine(day, self.closes, self.tz)
        while start + self.session_length <= closes:
            yield start
            start += self.session_length


def session_starts(
    hours: OpeningHours, *, after: datetime, until: datetime, calendar: WorkingCalendar
) -> Iterator[tuple[datetime, datetime]]:
    """Every slot (starts_at, ends_at) in UTC that starts in [after, until)."""
    if after.tzinfo is None or until.tzinfo is None:
        raise ValueError("session_starts needs timezone-aware datetimes")
    day = after.astimezone(hours.tz).date()
    last = until.astimezone(hours.tz).date()
    while day <= last:
        if hours.sits_on(day, calendar):
            for local in hours.starts_on(day):
                if after <= local < until:
                    starts = local.astimezone(UTC)
                    yield starts, starts + hours.session_length
        day += timedelta(days=1)
