"""Desks, the sessions booked at them, and the dates staff load into the working calendar."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, event
from sqlalchemy.orm import Mapped, mapped_column

from services.mediation.calendar import CalendarKind, OpeningHours
from services.mediation.models import Base

CALENDAR_KINDS = tuple(kind.value for kind in CalendarKind)


class Desk(Base):
    """A linked desk that holds sessions for escalated disputes (联动调处)."""

    __tablename__ = "desks"
    __table_args__ = (
        CheckConstraint("session_minutes > 0", name="session_minutes_positive"),
        CheckConstraint("parallel > 0", name="parallel_positive"),
    )

    code: Mapped[str] = mapped_column(String(50), primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    calendar: Mapped[str] = mapped_column(String(20))  # a CalendarKind
    weekdays: Mapped[list[Any]]  # ISO weekdays, for the weekdays calendar
    opens: Mapped[str] = mapped_column(String(5))  # "HH:MM", station time
    closes: Mapped[str] = mapped_column(String(5))
    session_minutes: Mapped[int]
    parallel: Mapped[int]  # sessions held at the same time

    @property
    def hours(self) -> OpeningHours:
        """The desk's opening hours as the calendar reads them."""
        return OpeningHours(
            calendar=CalendarKind(self.calendar),
            weekdays=frozenset(int(day) for day in self.weekdays),
            opens=self.opens,  # type: ignore[arg-type]  # parsed by OpeningHours
            closes=self.closes,  # type: ignore[arg-type]
            session_minutes=self.session_minutes,
            parallel=self.parallel,
        )


@event.listens_for(Desk, "before_insert")
@event.listens_for(Desk, "before_update")
def _usable_hours(_mapper: Any, _connection: Any, desk: Desk) -> None:
    """No desk is written with hours that cannot hold a session (a station file's included)."""
    try:
        desk.hours  # noqa: B018 (building them checks them)
    except ValueError as exc:
        raise ValueError(f"desk {desk.code!r}: {exc}") from exc


class DeskSession(Base):
    """One case's place in one slot of a desk; cancelling frees the place, the row stays."""

    __tablename__ = "desk_sessions"
    __table_args__ = (Index("ix_desk_sessions_desk_code_starts_at", "desk_code", "starts_at"),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    desk_code: Mapped[str] = mapped_column(ForeignKey("desks.code"))
    case_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("cases.id"), index=True)
    starts_at: Mapped[datetime]
    ends_at: Mapped[datetime]
    outcome: Mapped[str | None] = mapped_column(String(20))
    cancelled_at: Mapped[datetime | None]
    created_at: Mapped[datetime]

    @property
    def active(self) -> bool:
        return self.cancelled_at is None


class CalendarDay(Base):
    """A date staff loaded: a working day or a holiday that overrides the official calendar."""

    __tablename__ = "calendar_days"

    date: Mapped[date] = mapped_column(primary_key=True)
    working: Mapped[bool]
    note: Mapped[str] = mapped_column(String(200), default="")
