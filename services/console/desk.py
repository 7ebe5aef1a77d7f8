"""Desk staff's page: the week of the desk they sit at, free and booked slots by day.

Holidays and adjusted working days (调休) come from mediation's calendar; each booked slot
links to its case, whose page holds the forms (recording the outcome among them).
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

from flask import Blueprint, render_template, request, session
from flask.typing import ResponseReturnValue
from flask_babel import format_date
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from services.common.clock import STATION_TZ
from services.common.staff_auth import Role
from services.console import runtime_of
from services.console.desk_leader_api import DeskLeaderApi, reads
from services.console.desk_week import awaits_outcome, build_week, monday_of, week_bounds
from services.console.mediation_api import ApiError, Unreachable
from services.console.roles import for_roles
from services.console.views import _api_failure, time_now

blp = Blueprint("desk", __name__, url_prefix="/desk")
FIRST_YEAR, LAST_YEAR = 2000, 2100  # mediation's calendar answers for these years

DAY_KINDS = {
    "working_day": _l("working day"),
    "adjusted_working_day": _l("adjusted working day (调休)"),
    "rest_day": _l("rest day"),
    "holiday": _l("holiday"),
}


def day_kind_label(kind: str) -> str:
    return str(DAY_KINDS.get(kind, kind))


@blp.app_template_filter("local_clock")
def local_clock(value: datetime) -> str:
    """The time of day at the station, 09:00."""
    return value.astimezone(STATION_TZ).strftime("%H:%M")


def _week_asked() -> date | None:
    """The Monday of the week asked for (`?week=` any date of it), this week by default."""
    asked = request.args.get("week", "").strip()
    if not asked:
        return monday_of(time_now().astimezone(STATION_TZ).date())
    try:
        day = date.fromisoformat(asked)
    except ValueError:
        return None
    return monday_of(day) if FIRST_YEAR <= day.year <= LAST_YEAR else None


def _desk_week(api: DeskLeaderApi, desk: dict[str, Any], monday: date) -> dict[str, Any]:
    start, end = week_bounds(monday)
    now = time_now()
    # Free places only from now on: a slot that has begun can no longer be booked.
    free = api.free_slots(desk["code"], start=max(start, now), end=end) if end > now else []
    booked = api.booked_sessions(desk["code"], start=start, end=end)
    days = api.calendar_range(monday, monday + timedelta(days=6))
    return {
        "desk": desk,
        "days": build_week(days=days, free=free, booked=booked, capacity=desk["parallel"]),
    }


@blp.get("/week")
@for_roles(Role.DESK)
def week() -> ResponseReturnValue:
    monday = _week_asked()
    if monday is None:
        message = _("The week must be given as a date from 2000 to 2100, like 2026-11-30.")
        return render_template("error.html", message=message), 400
    member = runtime_of().directory.lookup(str(session["staff_id"]))
    codes = [member.desk] if member and member.desk else []
    api = reads()
    try:
        desks = [d for d in api.desks() if d["code"] in codes]
        weeks = [_desk_week(api, desk, monday) for desk in desks]
    except (ApiError, Unreachable) as error:
        return _api_failure(error)
    return render_template(
        "desk_week.html",
        weeks=weeks,
        monday=monday,
        sunday=monday + timedelta(days=6),
        previous=monday - timedelta(days=7),
        next=monday + timedelta(days=7),
        this_week=monday_of(time_now().astimezone(STATION_TZ).date()),
        today=time_now().astimezone(STATION_TZ).date(),
        awaits_outcome=lambda booking: awaits_outcome(booking, now=time_now()),
        day_kind_label=day_kind_label,
        format_date=format_date,
    )
