"""The duty leader's page: breached deadlines (连带责任), most overdue first.

A breach is a case the leader may see whose due date has passed, and a case the deadline
sweep handed to the leader (taken over, still awaiting acceptance). Each shows what it is
due for, its owner, its village by name, and the actions the API allows the leader now.
"""

from __future__ import annotations

import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from flask import Blueprint, g, render_template, request, session
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _

from services.common.staff_auth import Role
from services.console import runtime_of
from services.console.desk_leader_api import reads
from services.console.mediation_api import ApiError, Unreachable
from services.console.roles import for_roles
from services.console.views import _api_failure, time_now

blp = Blueprint("leader", __name__, url_prefix="/leader")
READERS = 8  # cases read at once for their allowed actions
# Each breach is read once more for its allowed actions, so a page holds a few of them.
PER_PAGE = 25
MAX_PAGE = 10_000


@dataclass(frozen=True)
class Breach:
    case: dict[str, Any]
    overdue_by: timedelta | None  # None: held by the leader, its due date still ahead
    taken_over: bool


def due_at(case: dict[str, Any]) -> datetime | None:
    return datetime.fromisoformat(case["due_at"]) if case.get("due_at") else None


def breaches_of(
    overdue: list[dict[str, Any]], held: list[dict[str, Any]], *, now: datetime, leader: str
) -> list[Breach]:
    """The overdue cases and those the leader holds, each once: most overdue first, then
    the held ones by due date (a held case without a due date last)."""
    by_id = {c["id"]: c for c in [*held, *overdue]}
    found = []
    for case in by_id.values():
        due = due_at(case)
        late = now - due if due is not None and due < now else None
        found.append(Breach(case, late, case.get("owner") == leader))
    far = datetime.max.replace(tzinfo=now.tzinfo)
    return sorted(
        found,
        key=lambda b: (b.overdue_by is None, -(b.overdue_by or timedelta()), due_at(b.case) or far),
    )


def late_words(late: timedelta) -> str:
    """How late, in days and hours (minutes when under an hour)."""
    days, hours = late.days, late.seconds // 3600
    if days:
        return str(_("%(days)d d %(hours)d h", days=days, hours=hours))
    if hours:
        return str(_("%(hours)d h", hours=hours))
    return str(_("%(minutes)d min", minutes=max(1, late.seconds // 60)))


def breach_count() -> int | None:
    """How many cases the signed-in person may see are past their due date (None: unknown,
    as when mediation does not answer: the page still renders)."""
    if "breach_count" not in g:
        try:
            g.breach_count = reads().count_cases(due_before=time_now().isoformat())
        except (ApiError, Unreachable):
            g.breach_count = None
    found: int | None = g.breach_count
    return found


def _page_asked() -> int | None:
    asked = request.args.get("page", "1").strip()
    return int(asked) if asked.isdigit() and 1 <= int(asked) <= MAX_PAGE else None


@blp.get("/breaches")
@for_roles(Role.LEADER)
def breaches() -> ResponseReturnValue:
    page = _page_asked()
    if page is None:
        message = _("The page must be a number from 1 to %(last)d.", last=MAX_PAGE)
        return render_template("error.html", message=message), 400
    api, now, me = reads(), time_now(), str(session["staff_id"])
    try:
        overdue, total = api.cases_where(
            due_before=now.isoformat(), page=str(page), page_size=PER_PAGE
        )
        # The cases the leader took over come with the first page (they are few).
        held = api.cases_where(owner=me, status="awaiting_acceptance")[0] if page == 1 else []
        found = breaches_of(overdue, held, now=now, leader=me)
        # The list has no allowed actions: each case is read as the leader sees it, a few
        # at once (the API's rules stay its own).
        with ThreadPoolExecutor(max_workers=READERS) as pool:
            cases = list(pool.map(lambda b: api.case(uuid.UUID(b.case["id"])), found))
        found = [Breach(c, b.overdue_by, b.taken_over) for c, b in zip(cases, found, strict=True)]
        villages = api.villages()
    except (ApiError, Unreachable) as error:
        return _api_failure(error)
    g.breach_count = total  # the figure in the navigation, as just read
    directory = runtime_of().directory

    def owner_name(staff_id: str | None) -> str:
        member = directory.lookup(staff_id) if staff_id else None
        return f"{member.name} ({member.id})" if member else staff_id or "—"

    return render_template(
        "breaches.html",
        breaches=found,
        total=total,
        page=page,
        pages=max(1, -(-total // PER_PAGE)),
        villages=villages,
        owner_name=owner_name,
        late_words=late_words,
    )
