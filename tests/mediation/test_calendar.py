"""Working days and desk hours on real dates: the 2026 notice, a year the package lacks."""

from __future__ import annotations

from datetime import UTC, date, datetime, time

import pytest

from services.common.clock import STATION_TZ
from services.mediation.calendar import (
    CalendarKind,
    OpeningHours,
    WorkingCalendar,
    session_starts,
)

MEDIATION_ROOM = OpeningHours(
    calendar=CalendarKind.WORKING_DAYS,
    opens=time(9),
    closes=time(17),
    session_minutes=60,
    parallel=2,
)
LAWYER_DESK = OpeningHours(
    calendar=CalendarKind.WEEKDAYS,
    weekdays=frozenset({2, 4}),
    opens=time(9),
    closes=time(11, 30),
    session_minutes=30,
    parallel=1,
)
COUNCIL_HALL = OpeningHours(
    calendar=CalendarKind.DAILY,
    opens=time(19),
    closes=time(20, 30),
    session_minutes=90,
    parallel=1,
)
OFFICIAL = WorkingCalendar()


def local(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=STATION_TZ)


def slots_on(hours: OpeningHours, day: date, calendar: WorkingCalendar = OFFICIAL) -> list[str]:
    """The day's slot starts in station time, as HH:MM."""
    start = local(day.year, day.month, day.day)
    end = local(day.year, day.month, day.day, 23, 59)
    return [
        f"{s.astimezone(STATION_TZ):%H:%M}"
        for s, _ in session_starts(hours, after=start, until=end, calendar=calendar)
    ]


def test_national_day_week_2026_is_a_holiday() -> None:
    week = [date(2026, 10, d) for d in range(1, 8)]

    assert [OFFICIAL.is_working_day(d) for d in week] == [False] * 7
    assert OFFICIAL.is_working_day(date(2026, 10, 8))


@pytest.mark.parametrize("day", [date(2026, 9, 20), date(2026, 10, 10)])
def test_the_adjusted_weekends_around_national_day_are_working_days(day: date) -> None:
    assert day.isoweekday() in (6, 7)  # a Sunday and a Saturday (调休)
    assert OFFICIAL.is_working_day(day)
    assert not OFFICIAL.is_working_day(date(2026, 10, 11))  # the Sunday after is not


def test_the_mediation_room_sits_on_an_adjusted_working_saturday() -> None:
    assert slots_on(MEDIATION_ROOM, date(2026, 10, 10)) == [f"{h:02d}:00" for h in range(9, 17)]
    assert slots_on(MEDIATION_ROOM, date(2026, 10, 3)) == []  # National Day's Saturday


def test_the_lawyer_desk_skips_a_holiday_tuesday() -> None:
    assert date(2026, 10, 6).isoweekday() == 2
    assert slots_on(LAWYER_DESK, date(2026, 10, 6)) == []
    assert slots_on(LAWYER_DESK, date(2026, 10, 13)) == [
        "09:00",
        "09:30",
        "10:00",
        "10:30",
        "11:00",
    ]
    assert slots_on(LAWYER_DESK, date(2026, 10, 10)) == []  # a working Saturday is no Tuesday


def test_the_council_hall_sits_at_19_station_time_which_is_11_utc_even_on_holidays() -> None:
    [(starts, ends)] = session_starts(
        COUNCIL_HALL,
        after=local(2026, 10, 1),
        until=local(2026, 10, 2),
        calendar=OFFICIAL,
    )

    assert starts == datetime(2026, 10, 1, 11, 0, tzinfo=UTC)
    assert ends == datetime(2026, 10, 1, 12, 30, tzinfo=UTC)
    assert starts.tzinfo is UTC


def test_a_year_the_package_does_not_know_is_monday_to_friday_plus_loaded_dates() -> None:
    assert OFFICIAL.knows(2026)
    assert not OFFICIAL.knows(2027)
    assert OFFICIAL.unknown_years([2026, 2027, 2027, 2028]) == [2027, 2028]
    new_year = date(2027, 1, 1)  # a Friday
    loaded = WorkingCalendar(extra_holidays=[new_year], extra_working_days=[date(2027, 1, 9)])

    assert OFFICIAL.is_working_day(new_year)  # nobody told it otherwise
    assert not OFFICIAL.is_working_day(date(2027, 1, 9))  # a Saturday
    assert not loaded.is_working_day(new_year)
    assert loaded.is_working_day(date(2027, 1, 9))
    assert slots_on(MEDIATION_ROOM, new_year, loaded) == []
    assert slots_on(MEDIATION_ROOM, date(2027, 1, 9), loaded)[0] == "09:00"


def test_loaded_dates_override_the_official_calendar_too() -> None:
    moved = WorkingCalendar(extra_holidays=[date(2026, 10, 10)])

    assert not moved.is_working_day(date(2026, 10, 10))


def test_a_date_cannot_be_loaded_as_both() -> None:
    with pytest.raises(ValueError, match="2027-01-04"):
        WorkingCalendar(extra_working_days=[date(2027, 1, 4)], extra_holidays=[date(2027, 1, 4)])


def test_add_working_days_jumps_the_holiday_week() -> None:
    # 7 working days from Tuesday 29 September 2026: 30 Sep, then 8, 9, 10 (Sat), 12, 13, 14 Oct
    assert OFFICIAL.add_working_days(date(2026, 9, 29), 7) == date(2026, 10, 14)
    assert OFFICIAL.add_working_days(date(2026, 10, 3), 0) == date(2026, 10, 3)
    with pytest.raises(ValueError, match="negative"):
        OFFICIAL.add_working_days(date(2026, 10, 3), -1)


def test_slots_start_at_or_after_after_and_before_until() -> None:
    starts = [
        s
        for s, _ in session_starts(
            MEDIATION_ROOM,
            after=local(2026, 10, 9, 15, 30),
            until=local(2026, 10, 10, 10),
            calendar=OFFICIAL,
        )
    ]

    assert [f"{s.astimezone(STATION_TZ):%d %H:%M}" for s in starts] == [
        "09 16:00",
        "10 09:00",
    ]


@pytest.mark.parametrize(
    ("changes", "problem"),
    [
        ({"opens": time(17), "closes": time(9)}, "closes after it opens"),
        ({"session_minutes": 600}, "must fit"),
        ({"session_minutes": 0}, "at least one minute"),
        ({"parallel": 0}, "at least one session"),
        ({"calendar": CalendarKind.WEEKDAYS}, "at least one weekday"),
        ({"weekdays": frozenset({8})}, "ISO numbers"),
    ],
)
def test_unusable_hours_are_refused(changes: dict[str, object], problem: str) -> None:
    fields: dict[str, object] = {
        "calendar": CalendarKind.WORKING_DAYS,
        "opens": time(9),
        "closes": time(17),
        "session_minutes": 60,
        "parallel": 2,
        **changes,
    }
    with pytest.raises(ValueError, match=problem):
        OpeningHours(**fields)  # type: ignore[arg-type]


def test_naive_datetimes_are_refused() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        list(
            session_starts(
                MEDIATION_ROOM,
                after=datetime(2026, 10, 9),  # noqa: DTZ001 (the point of the test)
                until=local(2026, 10, 10),
                calendar=OFFICIAL,
            )
        )
