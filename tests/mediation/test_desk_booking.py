"""Booking desk sessions on PostgreSQL: given slots, the next free one, releasing, races."""

from __future__ import annotations

import threading
import uuid
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import select

from services.common.clock import STATION_TZ
from services.common.errors import DomainError, NotFound
from services.mediation.desks import service as desks
from services.mediation.desks.models import DeskSession
from services.mediation.runtime import MediationRuntime
from tests.mediation.desk_helpers import desk_like, loaded_days, new_case


def local(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=STATION_TZ)


def book(
    runtime: MediationRuntime,
    desk: str,
    *,
    now: datetime,
    starts_at: datetime | None = None,
    case_id: uuid.UUID | None = None,
) -> DeskSession:
    with runtime.db.transaction() as session:
        return desks.book_session(
            session,
            desk_code=desk,
            case_id=case_id or new_case(runtime),
            starts_at=starts_at,
            now=now,
            calendar=desks.working_calendar(session),
        )


def shown(at: datetime) -> str:
    return f"{at.astimezone(STATION_TZ):%Y-%m-%d %H:%M}"


def test_the_mediation_room_books_on_the_adjusted_working_saturday(
    mediation: MediationRuntime,
) -> None:
    room = desk_like(mediation, "mediation_room")
    # Friday 9 October 2026 after closing: the next working day is Saturday the 10th (调休).
    booked = book(mediation, room, now=local(2026, 10, 9, 17, 30))

    assert shown(booked.starts_at) == "2026-10-10 09:00"
    assert booked.ends_at - booked.starts_at == timedelta(hours=1)
    assert booked.starts_at.tzinfo is not None
    assert booked.starts_at.utcoffset() == timedelta(0)


def test_the_next_free_slot_skips_national_day_week(mediation: MediationRuntime) -> None:
    room = desk_like(mediation, "mediation_room")

    booked = book(mediation, room, now=local(2026, 9, 30, 17, 0))

    assert shown(booked.starts_at) == "2026-10-08 09:00"


def test_when_both_places_are_taken_the_next_slot_is_booked(mediation: MediationRuntime) -> None:
    room = desk_like(mediation, "mediation_room")
    now = local(2026, 10, 12, 8, 0)

    got = [shown(book(mediation, room, now=now).starts_at) for _ in range(5)]

    assert got == [
        "2026-10-12 09:00",
        "2026-10-12 09:00",
        "2026-10-12 10:00",
        "2026-10-12 10:00",
        "2026-10-12 11:00",
    ]


def test_a_full_slot_asked_for_by_time_is_a_409(mediation: MediationRuntime) -> None:
    room = desk_like(mediation, "mediation_room")
    at = local(2026, 10, 12, 14)
    now = local(2026, 10, 12, 8)
    book(mediation, room, now=now, starts_at=at)
    book(mediation, room, now=now, starts_at=at)

    with pytest.raises(DomainError, match="full") as refused:
        book(mediation, room, now=now, starts_at=at)

    assert refused.value.status == 409


def test_release_frees_the_place(mediation: MediationRuntime) -> None:
    room = desk_like(mediation, "mediation_room")
    at, now = local(2026, 10, 12, 15), local(2026, 10, 12, 8)
    first = book(mediation, room, now=now, starts_at=at)
    book(mediation, room, now=now, starts_at=at)

    with mediation.db.transaction() as session:
        held = session.get(DeskSession, first.id)
        assert held is not None
        desks.release_session(session, desk_session=held, now=now)
        desks.release_session(session, desk_session=held, now=now + timedelta(minutes=1))
    again = book(mediation, room, now=now, starts_at=at)

    assert again.starts_at == at
    with mediation.db.sessions() as session:
        released = session.get(DeskSession, first.id)
        assert released is not None
        assert released.cancelled_at == now  # the first release counts; the row stays


def test_the_lawyer_desk_on_a_holiday_tuesday_refuses_and_books_the_thursday(
    mediation: MediationRuntime,
) -> None:
    lawyer = desk_like(mediation, "lawyer_desk")
    now = local(2026, 10, 5, 12)

    with pytest.raises(DomainError, match="no session starting") as refused:
        book(mediation, lawyer, now=now, starts_at=local(2026, 10, 6, 9))
    booked = book(mediation, lawyer, now=now)

    assert refused.value.status == 422
    assert shown(booked.starts_at) == "2026-10-08 09:00"  # Thursday, the day after the week


def test_the_council_hall_books_19_station_time_as_11_utc_on_a_holiday(
    mediation: MediationRuntime,
) -> None:
    hall = desk_like(mediation, "council_hall")

    booked = book(mediation, hall, now=local(2026, 10, 1, 12))

    assert booked.starts_at == datetime(2026, 10, 1, 11, 0, tzinfo=UTC)
    with mediation.db.sessions() as session:
        stored = session.scalar(select(DeskSession.starts_at).where(DeskSession.id == booked.id))
    assert stored == datetime(2026, 10, 1, 11, 0, tzinfo=UTC)


def test_in_a_year_the_package_does_not_know_loaded_dates_decide(
    mediation: MediationRuntime, caplog: pytest.LogCaptureFixture
) -> None:
    room = desk_like(mediation, "mediation_room")
    # Loaded for 2027: Monday 15 February a holiday, Saturday 20 February a working day.
    days = {date(2027, 2, 15): False, date(2027, 2, 20): True}
    with loaded_days(mediation, days):
        after_friday = book(mediation, room, now=local(2027, 2, 12, 17))
        with mediation.db.sessions() as session:
            unknown = desks.unknown_years_in_use(session, now=local(2027, 2, 12, 17))
            slots = desks.free_slots(
                session, desk_code=room, start=local(2027, 2, 19, 17), end=local(2027, 2, 21)
            )

    assert shown(after_friday.starts_at) == "2027-02-16 09:00"  # the loaded holiday skipped
    assert [shown(s.starts_at)[:10] for s in slots] == ["2027-02-20"] * 8
    assert unknown == {2027: 2}
    assert "official calendar of 2027 is not known" in caplog.text


def test_a_slot_outside_the_hours_or_in_the_past_is_a_422(mediation: MediationRuntime) -> None:
    room = desk_like(mediation, "mediation_room")
    now = local(2026, 10, 12, 12)

    for at in (local(2026, 10, 12, 9, 30), local(2026, 10, 12, 17), local(2026, 10, 12, 11)):
        with pytest.raises(DomainError) as refused:
            book(mediation, room, now=now, starts_at=at)
        assert refused.value.status == 422


def test_one_case_holds_one_place_of_a_slot(mediation: MediationRuntime) -> None:
    room = desk_like(mediation, "mediation_room")
    case_id, now = new_case(mediation), local(2026, 10, 12, 8)

    first = book(mediation, room, now=now, case_id=case_id)
    second = book(mediation, room, now=now, case_id=case_id)

    assert shown(first.starts_at) == "2026-10-12 09:00"
    assert shown(second.starts_at) == "2026-10-12 10:00"


def test_an_unknown_desk_is_a_404(mediation: MediationRuntime) -> None:
    with pytest.raises(NotFound):
        book(mediation, "no-such-desk", now=local(2026, 10, 12, 8))


def test_free_slots_show_the_places_left(mediation: MediationRuntime) -> None:
    room = desk_like(mediation, "mediation_room")
    now = local(2026, 10, 12, 8)
    book(mediation, room, now=now)
    book(mediation, room, now=now)
    book(mediation, room, now=now)

    with mediation.db.sessions() as session:
        slots = desks.free_slots(
            session, desk_code=room, start=local(2026, 10, 12), end=local(2026, 10, 12, 12)
        )

    assert [(shown(s.starts_at)[11:], s.remaining, s.capacity) for s in slots] == [
        ("10:00", 1, 2),
        ("11:00", 2, 2),
    ]


@pytest.mark.timeout(120)
def test_cases_racing_for_the_last_places_each_get_one_slot(mediation: MediationRuntime) -> None:
    """Eight cases book the mediation room at once: two per slot, nobody refused or lost."""
    room = desk_like(mediation, "mediation_room")
    now = local(2026, 10, 12, 8)
    cases = [new_case(mediation) for _ in range(8)]
    start = threading.Barrier(len(cases))
    got: dict[uuid.UUID, str] = {}
    failures: list[BaseException] = []

    def race(case_id: uuid.UUID) -> None:
        try:
            start.wait(timeout=30)
            booked = book(mediation, room, now=now, case_id=case_id)
            got[case_id] = shown(booked.starts_at)
        except BaseException as exc:  # every thread's outcome is checked below
            failures.append(exc)

    threads = [threading.Thread(target=race, args=(case_id,)) for case_id in cases]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert not any(thread.is_alive() for thread in threads)
    assert failures == []
    assert sorted(got) == sorted(cases)
    assert sorted(got.values()) == [
        f"2026-10-12 {hour:02d}:00" for hour in (9, 9, 10, 10, 11, 11, 12, 12)
    ]
    with mediation.db.sessions() as session:
        stored = session.scalars(
            select(DeskSession.starts_at).where(DeskSession.desk_code == room)
        ).all()
    assert sorted(shown(at) for at in stored) == sorted(got.values())
