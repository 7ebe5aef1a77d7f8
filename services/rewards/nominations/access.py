"""Who sees which nomination (which roles reach which endpoint is `rewards/access.py`).

Personal data is needed-to-know: an officer sees the nominations of his villages; the
reviewers, approvers, finance and leaders all of them. A nomination a caller may not see
is a 404 and is absent from lists. What each role may *do* to a nomination is the
workflow's transition table (`workflow.py`).
"""

from __future__ import annotations

from sqlalchemy import ColumnElement, false, true

from services.common.staff_auth import Caller, Role
from services.rewards.nominations.models import Nomination

_SEE_ALL = frozenset({Role.LEADER, Role.REVIEWER, Role.APPROVER, Role.FINANCE})


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
