"""The desks API (`/v1/desks`) and the loaded calendar dates (`/v1/calendar`). HTTP only."""

from __future__ import annotations

from datetime import date
from typing import Any

from flask import current_app, g, request
from flask.views import MethodView
from flask_smorest import abort
from marshmallow import ValidationError

from services.common.blueprint import Blueprint
from services.common.clock import STATION_TZ
from services.common.staff_auth import require_staff
from services.mediation.calendar import OFFICIAL_YEARS
from services.mediation.cases.access import visible_to
from services.mediation.desks import service
from services.mediation.desks.models import Desk
from services.mediation.desks.schemas import (
    DESK_CODE,
    BookedSessionOut,
    CalendarDateOut,
    CalendarDayOut,
    CalendarDaysIn,
    CalendarRangeArgs,
    CalendarStatusOut,
    CalendarYearArgs,
    CalendarYearOut,
    DeskChangesIn,
    DeskIn,
    DeskOut,
    SlotOut,
    SlotQueryArgs,
)
from services.mediation.runtime import MediationRuntime

# Any staff member may read; changing desks and the calendar is for the leader and ops.
EDITORS = ("leader", "ops")

desks = Blueprint("desks", __name__, url_prefix="/v1/desks", description="Desks and their slots")
calendar = Blueprint(
    "calendar", __name__, url_prefix="/v1/calendar", description="The working-day calendar"
)


def _staff_only() -> None:
    """Reading needs a staff token; changing needs a leader's or ops's."""
    if request.method in ("GET", "HEAD", "OPTIONS"):
        require_staff()()
    else:
        require_staff(*EDITORS)()


desks.before_request(_staff_only)
calendar.before_request(_staff_only)


def _runtime() -> MediationRuntime:
    runtime: MediationRuntime = current_app.extensions["fengqiao"]
    return runtime


def _save(code: str, changes: dict[str, Any]) -> Desk:
    with _runtime().db.transaction() as session:
        try:
            return service.save_desk(session, code=code, changes=changes)
        except service.HoursRefused as refused:
            abort(422, errors={"json": refused.problems})
            raise  # abort raised; this line is for the type checker


@desks.route("")
class Desks(MethodView):
    @desks.response(200, DeskOut(many=True))
    def get(self) -> list[Desk]:
        """Every desk and its opening hours."""
        with _runtime().db.sessions() as session:
            return service.list_desks(session)


@desks.route("/<string:code>")
class DeskResource(MethodView):
    @desks.response(200, DeskOut)
    @desks.alt_response(404, description="No such desk")
    def get(self, code: str) -> Desk:
        """One desk."""
        with _runtime().db.sessions() as session:
            return service.get_desk(session, code)

    @desks.arguments(DeskIn)
    @desks.response(200, DeskOut)
    def put(self, data: dict[str, Any], code: str) -> Desk:
        """Create the desk or replace its name and hours (booked sessions stay)."""
        try:
            DESK_CODE(code)
        except ValidationError as bad:
            abort(422, errors={"path": {"code": bad.messages}})
        return _save(code, data)

    @desks.arguments(DeskChangesIn(partial=True))
    @desks.response(200, DeskOut)
    @desks.alt_response(404, description="No such desk (PUT creates one)")
    def patch(self, data: dict[str, Any], code: str) -> Desk:
        """Change some of a desk's fields; the hours that result are checked as a whole."""
        with _runtime().db.sessions() as session:
            service.get_desk(session, code)  # PATCH changes a desk, it does not create one
        return _save(code, data)


@desks.route("/<string:code>/slots")
class Slots(MethodView):
    @desks.arguments(SlotQueryArgs, location="query")
    @desks.response(200, SlotOut(many=True))
    @desks.alt_response(404, description="No such desk")
    def get(self, args: dict[str, Any], code: str) -> list[service.Slot]:
        """The desk's free slots starting from `from` until `to`, with the places left."""
        with _runtime().db.sessions() as session:
            return service.free_slots(session, desk_code=code, start=args["start"], end=args["end"])


@desks.route("/<string:code>/sessions")
class BookedSessions(MethodView):
    @desks.arguments(SlotQueryArgs, location="query")
    @desks.response(200, BookedSessionOut(many=True))
    @desks.alt_response(404, description="No such desk")
    def get(self, args: dict[str, Any], code: str) -> list[service.BookedSession]:
        """The desk's booked sessions starting from `from` until `to`, each with its case;
        only those of cases the caller may see (desk staff: those booked at their desk)."""
        with _runtime().db.sessions() as session:
            return service.booked_sessions(
                session,
                desk_code=code,
                start=args["start"],
                end=args["end"],
                visible=visible_to(g.staff),
            )


@calendar.route("")
class CalendarStatus(MethodView):
    @calendar.response(200, CalendarStatusOut)
    def get(self) -> dict[str, Any]:
        """Which years the official calendar knows, and the years in use it does not."""
        runtime = _runtime()
        with runtime.db.sessions() as session:
            unknown = service.unknown_years_in_use(session, now=runtime.clock.now())
        return {
            "official_years": sorted(OFFICIAL_YEARS),
            "unknown_years_in_use": [
                {"year": year, "loaded_days": loaded} for year, loaded in unknown.items()
            ],
        }


@calendar.route("/days")
class CalendarDays(MethodView):
    @calendar.arguments(CalendarYearArgs, location="query")
    @calendar.response(200, CalendarYearOut)
    def get(self, args: dict[str, Any]) -> dict[str, Any]:
        """The dates loaded for a year (this year at the station by default)."""
        runtime = _runtime()
        year = args.get("year") or runtime.clock.now().astimezone(STATION_TZ).year
        with runtime.db.sessions() as session:
            days = service.calendar_days(session, year=year)
        return {"year": year, "official": year in OFFICIAL_YEARS, "days": days}

    @calendar.arguments(CalendarDaysIn)
    @calendar.response(200, CalendarDayOut(many=True))
    def put(self, data: dict[str, Any]) -> list[Any]:
        """Load dates as working days or holidays (each replaces what that date had)."""
        with _runtime().db.transaction() as session:
            return service.load_calendar_days(session, days=data["days"])


@calendar.route("/range")
class CalendarRange(MethodView):
    @calendar.arguments(CalendarRangeArgs, location="query")
    @calendar.response(200, CalendarDateOut(many=True))
    def get(self, args: dict[str, Any]) -> list[service.CalendarDate]:
        """Each date from `from` to `to` (included) as decided: working or not, and why
        (an official holiday, an adjusted working weekend 调休, a weekend, a loaded date)."""
        with _runtime().db.sessions() as session:
            return service.calendar_range(session, first=args["first"], last=args["last"])


@calendar.route("/days/<string:day>")
class CalendarDay(MethodView):
    @calendar.response(204)
    @calendar.alt_response(404, description="The date is not loaded")
    def delete(self, day: str) -> None:
        """Forget a loaded date: the official calendar (or Monday to Friday) decides it again."""
        try:
            when = date.fromisoformat(day)
        except ValueError:
            abort(422, errors={"path": {"day": ["a date as YYYY-MM-DD"]}})
            return
        with _runtime().db.transaction() as session:
            service.remove_calendar_day(session, day=when)
