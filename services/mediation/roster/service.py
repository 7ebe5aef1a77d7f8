"""Reads and writes of staff and villages; the directory staff tokens are checked against.

Functions take the session and never commit; the caller owns the transaction.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from services.common.db import Database
from services.common.errors import DomainError, NotFound
from services.common.phones import normalise_mobile
from services.common.staff_auth import Role, StaffMember
from services.mediation.desks.models import Desk
from services.mediation.models import Staff, Village


def member_of(session: Session, staff: Staff) -> StaffMember:
    """A staff row as the token check sees it."""
    villages = session.scalars(select(Village.code).where(Village.officer_id == staff.id))
    return _member(staff, villages)


def _member(staff: Staff, villages: Iterable[str]) -> StaffMember:
    return StaffMember(
        id=staff.id,
        name=staff.name,
        roles=frozenset(Role(r) for r in staff.roles),
        villages=frozenset(villages),
        desk=staff.desk_code,
    )


class DatabaseDirectory:
    """Mediation's roster: staff tokens name a row of `staff` that is still active."""

    def __init__(self, db: Callable[[], Database]) -> None:
        self._db = db  # looked up on each call: tests hand the app their own runtime

    def lookup(self, staff_id: str) -> StaffMember | None:
        """The active staff member with this id and their villages: one statement, outside a
        transaction (every staff request asks, before its own transaction begins).

        Rows, not objects, through a statement built once: on a staff step the ORM's
        query and objects cost more than the round trip.
        """
        with self._db().autocommit() as conn:
            rows = conn.execute(_LOOKUP, {"staff_id": staff_id}).all()
        if not rows or not rows[0].active:
            return None
        first = rows[0]
        return StaffMember(
            id=first.id,
            name=first.name,
            roles=frozenset(Role(r) for r in first.roles),
            villages=frozenset(row.code for row in rows if row.code is not None),
            desk=first.desk_code,
        )


_LOOKUP = (
    select(Staff.id, Staff.name, Staff.roles, Staff.desk_code, Staff.active, Village.code)
    .outerjoin(Village, Village.officer_id == Staff.id)
    .where(Staff.id == bindparam("staff_id"))
)


@dataclass
class StaffView:
    """A staff row with the villages they cover."""

    staff: Staff
    villages: list[str]

    def __getattr__(self, name: str) -> Any:
        return getattr(self.staff, name)


def view_of(session: Session, staff: Staff) -> StaffView:
    return StaffView(staff=staff, villages=villages_of(session, staff.id))


def list_officers(session: Session) -> list[StaffView]:
    """Every staff member who holds the officer or leader role, by id, with their villages."""
    rows = session.scalars(select(Staff).order_by(Staff.id))
    return [view_of(session, s) for s in rows if {Role.OFFICER, Role.LEADER} & set(s.roles)]


def villages_of(session: Session, staff_id: str) -> list[str]:
    return list(
        session.scalars(
            select(Village.code).where(Village.officer_id == staff_id).order_by(Village.code)
        )
    )


def save_staff(session: Session, *, staff_id: str, changes: dict[str, Any]) -> Staff:
    """Add a staff member or change one (name, phone, roles, desk, active)."""
    staff = session.get(Staff, staff_id, with_for_update=True)
    if staff is None:
        missing = [f for f in ("name", "phone", "roles") if f not in changes]
        if missing:
            raise DomainError(f"a new staff member needs {', '.join(missing)}", status=422)
        staff = Staff(id=staff_id, on_duty=False, active=True)
        session.add(staff)
    if "phone" in changes:
        changes = {**changes, "phone": normalise_mobile(changes["phone"])}
    if changes.get("desk_code") and session.get(Desk, changes["desk_code"]) is None:
        raise DomainError(f"no desk {changes['desk_code']!r}", status=422)
    for name in ("name", "phone", "roles", "desk_code", "active"):
        if name in changes:
            setattr(staff, name, sorted(changes[name]) if name == "roles" else changes[name])
    session.flush()
    return staff


def find_staff(session: Session, staff_id: str) -> Staff | None:
    return session.get(Staff, staff_id)


def get_staff(session: Session, staff_id: str) -> Staff:
    staff = session.get(Staff, staff_id)
    if staff is None:
        raise NotFound(f"no staff member {staff_id!r}")
    return staff


def list_villages(session: Session) -> list[Village]:
    """Every village with its officer, by code."""
    return list(session.scalars(select(Village).order_by(Village.code)))


def save_village(
    session: Session, *, code: str, name: str | None, officer_id: str | None
) -> Village:
    """Add a village or change its name or officer (分片包村)."""
    village = session.get(Village, code, with_for_update=True)
    if officer_id is not None:
        officer = session.get(Staff, officer_id)
        if officer is None or not officer.active or Role.OFFICER not in officer.roles:
            raise DomainError(f"no active officer {officer_id!r}", status=422)
    if village is None:
        if name is None or officer_id is None:
            raise DomainError("a new village needs a name and an officer", status=422)
        village = Village(code=code, name=name, officer_id=officer_id)
        session.add(village)
    else:
        village.name = name or village.name
        village.officer_id = officer_id or village.officer_id
    session.flush()
    return village


def get_village(session: Session, code: str) -> Village:
    village = session.get(Village, code)
    if village is None:
        raise NotFound(f"no village {code!r}")
    return village
