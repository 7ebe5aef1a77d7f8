"""`fengqiao desks …` and `fengqiao calendar …`: desk hours and the loaded calendar dates."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from typing import Any

import click
from sqlalchemy.orm import Session

from services.common.clock import to_station_time
from services.common.errors import DomainError
from services.mediation import runtime as mediation_runtime
from services.mediation.calendar import CalendarKind, WorkingCalendar
from services.mediation.desks import service

WEEKDAY_NAMES = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


@contextmanager
def mediation_session() -> Iterator[Session]:
    """One transaction on mediation's database, for a command; domain errors as messages."""
    runtime = mediation_runtime.build()
    try:
        with runtime.db.transaction() as session:
            yield session
    except DomainError as refused:
        raise click.ClickException(refused.message) from refused
    finally:
        runtime.db.dispose()


@click.group()
def desks() -> None:
    """The linked desks (联动调处) and their opening hours."""


@desks.command("list")
def list_desks() -> None:
    """Every desk and its hours."""
    with mediation_session() as session:
        for desk in service.list_desks(session):
            click.echo(f"{desk.code:<16} {desk.name}  {desk.hours.describe()}")


@desks.command("show")
@click.argument("code")
@click.option("--days", default=7, show_default=True, type=click.IntRange(1, 62))
def show(code: str, days: int) -> None:
    """Desk CODE's hours and its free slots in the coming DAYS (station time)."""
    with mediation_session() as session:
        desk = service.get_desk(session, code)
        now = datetime.now(UTC)
        slots = service.free_slots(
            session, desk_code=code, start=now, end=now + timedelta(days=days)
        )
        click.echo(f"{desk.name} ({desk.code}): {desk.hours.describe()}")
        click.echo(f"free slots in the next {days} days: {len(slots)}")
        for slot in slots:
            click.echo(
                f"  {to_station_time(slot.starts_at)}  {slot.remaining} of {slot.capacity} free"
            )


def _weekdays(value: str | None) -> list[int] | None:
    if value is None:
        return None
    try:
        days = sorted({int(part) for part in value.split(",") if part.strip()})
    except ValueError:
        raise click.BadParameter("ISO weekday numbers, e.g. 2,4 for Tuesday and Thursday") from None
    return days


@desks.command("set-hours")
@click.argument("code")
@click.option("--name", help="The desk's name (needed for a new desk).")
@click.option("--calendar", type=click.Choice([kind.value for kind in CalendarKind]))
@click.option("--weekdays", help="ISO weekdays for the weekdays calendar, e.g. 2,4.")
@click.option("--opens", help="HH:MM, station time.")
@click.option("--closes", help="HH:MM, station time.")
@click.option("--session-minutes", type=click.IntRange(1, 24 * 60))
@click.option("--parallel", type=click.IntRange(1, 100), help="Sessions at the same time.")
def set_hours(code: str, **options: Any) -> None:
    """Change desk CODE's hours (or create it); only the options given change."""
    changes = {name: value for name, value in options.items() if value is not None}
    if "weekdays" in changes:
        changes["weekdays"] = _weekdays(changes["weekdays"])
    if not changes:
        raise click.UsageError("nothing to change: give at least one option")
    with mediation_session() as session:
        desk = service.save_desk(session, code=code, changes=changes)
        click.echo(f"{desk.name} ({desk.code}): {desk.hours.describe()}")


@click.group()
def calendar() -> None:
    """The working-day calendar: the official one, and the dates staff load."""


@calendar.command("add-day")
@click.argument("day", type=click.DateTime(formats=["%Y-%m-%d"]))
@click.option("--working/--holiday", required=True, help="A working day, or a holiday.")
@click.option("--note", default="", help="Why, e.g. the State Council's notice.")
def add_day(day: datetime, working: bool, note: str) -> None:
    """Load DAY (YYYY-MM-DD) as a working day or a holiday; it overrides the official calendar."""
    with mediation_session() as session:
        service.load_calendar_days(
            session, days=[{"date": day.date(), "working": working, "note": note}]
        )
    click.echo(
        f"{day:%Y-%m-%d} ({WEEKDAY_NAMES[day.weekday()]}) is now a "
        + ("working day" if working else "holiday")
    )


@calendar.command("remove-day")
@click.argument("day", type=click.DateTime(formats=["%Y-%m-%d"]))
def remove_day(day: datetime) -> None:
    """Forget the loaded DAY: the official calendar (or Monday to Friday) decides it again."""
    with mediation_session() as session:
        service.remove_calendar_day(session, day=day.date())
    click.echo(f"{day:%Y-%m-%d} is no longer loaded")


def notable_days(
    year: int, calendar: WorkingCalendar, loaded: set[date]
) -> Iterator[tuple[date, bool]]:
    """The days of `year` that differ from Monday to Friday, and the loaded ones."""
    day = date(year, 1, 1)
    while day.year == year:
        working = calendar.is_working_day(day)
        if day in loaded or working != (day.isoweekday() <= 5):
            yield day, working
        day += timedelta(days=1)


@calendar.command("show")
@click.argument("year", type=click.IntRange(2000, 2100))
def show_year(year: int) -> None:
    """YEAR's holidays on weekdays and working weekends, and which of them staff loaded."""
    with mediation_session() as session:
        loaded = {row.date: row for row in service.calendar_days(session, year=year)}
        working_calendar = service.working_calendar(session)
    if working_calendar.knows(year):
        click.echo(f"{year}: the official calendar is known; loaded dates override it")
    else:
        click.echo(
            f"{year}: the official calendar is NOT known; Monday to Friday are working days "
            f"except for the {len(loaded)} loaded date(s). Load the State Council's notice "
            "with `fengqiao calendar add-day`."
        )
    for day, working in notable_days(year, working_calendar, set(loaded)):
        row = loaded.get(day)
        source = f"loaded{': ' + row.note if row and row.note else ''}" if row else "official"
        kind = "working day" if working else "holiday"
        click.echo(f"  {day} {WEEKDAY_NAMES[day.weekday()]}  {kind:<11}  ({source})")
