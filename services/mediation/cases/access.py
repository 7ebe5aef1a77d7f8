"""Who sees which case, and which roles may call which endpoint: mediation's one access table.

Personal data is needed-to-know: an officer sees the cases of his villages and those he
owns; desk staff the cases booked at their desk; a leader all of them. A case a caller
may not see is a 404 and is absent from lists. What each role may *do* to a case is the
workflow's transition table (`workflow.py`); this module holds the reads and the rest.
"""

from __future__ import annotations

import functools
from enum import StrEnum

from sqlalchemy import ColumnElement, String, bindparam, exists, false, or_, select, true

from services.common.staff_auth import Caller, Role
from services.mediation.desks.models import DeskSession
from services.mediation.models import Case, Village


class Endpoint(StrEnum):
    CASES_READ = "cases:read"
    CASES_TRANSITION = "cases:transition"  # then the transition table decides
    OFFICERS_READ = "officers:read"
    OFFICERS_WRITE = "officers:write"
    VILLAGES_READ = "villages:read"
    VILLAGES_WRITE = "villages:write"
    STATS_READ = "stats:read"  # figures only, no personal data


_CASE_STAFF = frozenset({Role.OFFICER, Role.DESK, Role.LEADER})

ROLES_FOR: dict[Endpoint, frozenset[Role]] = {
    Endpoint.CASES_READ: _CASE_STAFF,
    Endpoint.CASES_TRANSITION: _CASE_STAFF,
    Endpoint.OFFICERS_READ: _CASE_STAFF,
    Endpoint.OFFICERS_WRITE: frozenset({Role.LEADER}),
    Endpoint.VILLAGES_READ: _CASE_STAFF,
    Endpoint.VILLAGES_WRITE: frozenset({Role.LEADER}),
    Endpoint.STATS_READ: _CASE_STAFF | {Role.OPS},
}


def visible_to(caller: Caller) -> ColumnElement[bool]:
    """A WHERE clause: the cases `caller` may see."""
    if caller.role == Role.LEADER:
        return true()
    if caller.role == Role.OFFICER:
        his_villages = select(Village.code).where(Village.officer_id == caller.id)
        return or_(Case.owner_id == caller.id, Case.village.in_(his_villages))
    if caller.role == Role.DESK and caller.member.desk:
        return exists().where(
            DeskSession.case_id == Case.id, DeskSession.desk_code == caller.member.desk
        )
    return false()


def viewer_params(caller: Caller) -> dict[str, str | None]:
    return {"viewer_id": caller.id, "viewer_desk": caller.member.desk}


@functools.cache
def visibility_of(role: Role, *, has_desk: bool) -> ColumnElement[bool]:
    """`visible_to`'s rule for a caller in `role`, with or without a desk, their id and desk
    left as parameters (`viewer_params`): made once, for statements built once."""
    if role == Role.LEADER:
        return true()
    if role == Role.OFFICER:
        viewer = bindparam("viewer_id", type_=String)
        his_villages = select(Village.code).where(Village.officer_id == viewer)
        return or_(Case.owner_id == viewer, Case.village.in_(his_villages))
    if role == Role.DESK and has_desk:
        return exists().where(
            DeskSession.case_id == Case.id,
            DeskSession.desk_code == bindparam("viewer_desk", type_=String),
        )
    return false()
