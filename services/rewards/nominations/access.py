"""Who sees which nomination, and which roles may call which endpoint: one access table.

Personal data is needed-to-know: an officer sees the nominations of his villages; the
reviewers, approvers, finance and leaders all of them. A nomination a caller may not see
is a 404 and is absent from lists. What each role may *do* to a nomination is the
workflow's transition table (`workflow.py`).
"""

from __future__ import annotations

from enum import StrEnum

from sqlalchemy import ColumnElement, false, true

from services.common.staff_auth import Caller, Role
from services.rewards.nominations.models import Nomination


class Endpoint(StrEnum):
    NOMINATIONS_READ = "nominations:read"
    NOMINATIONS_CREATE = "nominations:create"  # staff nominate (a resident at the counter)
    NOMINATIONS_TRANSITION = "nominations:transition"  # then the transition table decides
    HONOURS_READ = "honours:read"  # the year's roll of good neighbours


_NOMINATION_STAFF = frozenset(
    {Role.OFFICER, Role.LEADER, Role.REVIEWER, Role.APPROVER, Role.FINANCE}
)
_SEE_ALL = frozenset({Role.LEADER, Role.REVIEWER, Role.APPROVER, Role.FINANCE})

ROLES_FOR: dict[Endpoint, frozenset[Role]] = {
    Endpoint.NOMINATIONS_READ: _NOMINATION_STAFF,
    Endpoint.NOMINATIONS_CREATE: frozenset({Role.OFFICER, Role.LEADER, Role.REVIEWER}),
    Endpoint.NOMINATIONS_TRANSITION: _NOMINATION_STAFF,
    Endpoint.HONOURS_READ: _NOMINATION_STAFF,
}


def visible_to(caller: Caller) -> ColumnElement[bool]:
    """A WHERE clause: the nominations `caller` may see."""
    if caller.role in _SEE_ALL:
        return true()
    if caller.role == Role.OFFICER and caller.member.villages:
        return Nomination.village.in_(sorted(caller.member.villages))
    return false()


def may_see_village(caller: Caller, village: str) -> bool:
    """Whether `caller` may see the nominations of `village` (the rule of `visible_to`)."""
    if caller.role in _SEE_ALL:
        return True
    return caller.role == Role.OFFICER and village in caller.member.villages


def may_see(caller: Caller, nomination: Nomination) -> bool:
    return may_see_village(caller, nomination.village)
