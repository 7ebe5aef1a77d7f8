"""Booking desk sessions on PostgreSQL: given slots, the next free one, releasing, races."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from functools import partial
from pathlib import Path

import pytest
from sqlalchemy import select

from services.common.bootstrap import bootstrap
from services.common.clock import STATION_TZ, FrozenClock
from services.common.errors import DomainError, NotFound
from services.mediation import runtime as mediation_runtime
from services.mediation import service as mediation_service
from services.mediation.desks import service as desks
from services.mediation.desks.models import Desk, DeskSession
from services.mediation.runtime import MediationRuntime
from tests import infra
from tests.mediation.desk_helpers import desk_like, loaded_days, new_case
from tests.races import errors_in, run_together


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


def test_an_outcome_is_recorded_once_the_session_took_place(mediation: MediationRuntime) -> None:
    room, case_id = desk_like(mediation, "mediation_room"), new_case(mediation)
    now = local(2026, 10, 12, 8)
    held = book(mediation, room, now=now, case_id=case_id)
    cancelled = book(mediation, room, now=now, case_id=case_id)

    with mediation.db.transaction() as session:
        first, second = (session.get(DeskSession, b.id) for b in (held, cancelled))
        assert first is not None and second is not None
        desks.release_session(session, desk_session=second, now=now)
        with pytest.raises(DomainError, match="starts at 2026-10-12 09:00"):
            desks.record_outcome(session, desk_session=first, outcome="resolved", now=now)
        later = local(2026, 10, 12, 10)
        desks.record_outcome(session, desk_session=first, outcome="failed", now=later)
        desks.record_outcome(session, desk_session=first, outcome="failed", now=later)
        with pytest.raises(DomainError, match="failed already"):
            desks.record_outcome(session, desk_session=first, outcome="resolved", now=later)
        with pytest.raises(DomainError, match="cancelled"):
            desks.record_outcome(session, desk_session=second, outcome="failed", now=later)
        with pytest.raises(DomainError, match="took place"):
            desks.release_session(session, desk_session=first, now=later)
        with pytest.raises(DomainError, match="one of resolved, failed") as bad:
            desks.record_outcome(session, desk_session=first, outcome="maybe", now=later)
        assert bad.value.status == 422

    with mediation.db.sessions() as session:
        history = desks.sessions_of_case(session, case_id)
        assert [(b.outcome, b.cancelled_at is None) for b in history] == [
            ("failed", True),
            (None, False),
        ]


def test_sessions_booked_under_old_hours_still_take_their_places(
    mediation: MediationRuntime,
) -> None:
    room = desk_like(mediation, "mediation_room")
    now = local(2026, 10, 12, 8)
    book(mediation, room, now=now, starts_at=local(2026, 10, 12, 9))  # 09:00–10:00
    with mediation.db.transaction() as session:
        desks.save_desk(session, code=room, changes={"session_minutes": 30, "parallel": 1})
        slots = desks.free_slots(
            session, desk_code=room, start=local(2026, 10, 12, 9), end=local(2026, 10, 12, 11)
        )

    assert [shown(s.starts_at)[11:] for s in slots] == ["10:00", "10:30"]


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


def race_for_the_room(runtime: MediationRuntime, cases: int) -> dict[uuid.UUID, str]:
    """`cases` cases book a mediation room of their own at once; what each one got."""
    room = desk_like(runtime, "mediation_room")
    now = local(2026, 10, 12, 8)
    case_ids = [new_case(runtime) for _ in range(cases)]

    def book_for(case_id: uuid.UUID) -> str:
        return shown(book(runtime, room, now=now, case_id=case_id).starts_at)

    outcomes = run_together(*(partial(book_for, case_id) for case_id in case_ids), timeout=60)

    assert errors_in(outcomes) == []  # nobody refused, every thread finished
    got = dict(zip(case_ids, outcomes, strict=True))
    with runtime.db.sessions() as session:
        stored = session.scalars(
            select(DeskSession.starts_at).where(DeskSession.desk_code == room)
        ).all()
    assert sorted(shown(at) for at in stored) == sorted(got.values())
    return got


EIGHT_PLACES = [f"2026-10-12 {hour:02d}:00" for hour in (9, 9, 10, 10, 11, 11, 12, 12)]


@pytest.mark.timeout(120)
def test_cases_racing_for_the_last_places_each_get_one_slot(mediation: MediationRuntime) -> None:
    """Eight cases at once on PostgreSQL: two per slot, nobody refused or lost."""
    got = race_for_the_room(mediation, 8)

    assert sorted(got.values()) == EIGHT_PLACES


@pytest.fixture
def sqlite_mediation(
    tmp_path: Path, redis_url: str, clock: FrozenClock
) -> Iterator[MediationRuntime]:
    """Mediation on the embedded default's SQLite file, migrated and seeded."""
    settings = infra.settings_for(
        "mediation",
        database_url=f"sqlite:///{tmp_path / 'mediation.sqlite3'}",
        broker_url=redis_url,
        var_dir=tmp_path,
    )
    runtime = mediation_runtime.build(settings, clock)
    bootstrap(runtime, mediation_service.seed_station)
    yield runtime
    runtime.db.dispose()


@pytest.mark.timeout(120)
def test_on_sqlite_racing_cases_are_served_one_after_the_other(
    sqlite_mediation: MediationRuntime,
) -> None:
    got = race_for_the_room(sqlite_mediation, 8)

    assert sorted(got.values()) == EIGHT_PLACES


def test_a_desk_with_unusable_hours_is_never_written(mediation: MediationRuntime) -> None:
    backwards = Desk(
        code="backwards",
        name="倒着的桌",
        calendar="daily",
        weekdays=[],
        opens="17:00",
        closes="09:00",
        session_minutes=60,
        parallel=1,
    )

    with (
        pytest.raises(ValueError, match=r"desk 'backwards': .*closes after it opens"),
        mediation.db.transaction() as session,
    ):
        session.add(backwards)
    with mediation.db.sessions() as session:
        assert session.get(Desk, "backwards") is None
