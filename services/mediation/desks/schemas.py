"""The desk and calendar API's shapes."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from marshmallow import RAISE, Schema, ValidationError, fields, validate, validates_schema

from services.common.input_fields import Text
from services.mediation.calendar import DayKind
from services.mediation.desks.models import CALENDAR_KINDS

# The longest span one slots query may cover (a month of the mediation room is ~170 slots).
MAX_SLOT_SPAN = timedelta(days=62)
FIRST_YEAR, LAST_YEAR = 2000, 2100  # the years a station books in
DESK_CODE = validate.Regexp(r"^[a-z0-9_-]{1,50}$", error="1 to 50 of a-z, 0-9, _ and -")
CLOCK_TIME = validate.Regexp(r"^([01]\d|2[0-3]):[0-5]\d$", error="a time of day as HH:MM")


class StrictSchema(Schema):
    class Meta:
        unknown = RAISE


class DeskOut(Schema):
    code = fields.String(required=True, metadata={"example": "mediation_room"})
    name = fields.String(required=True, metadata={"example": "魏民调解室"})
    calendar = fields.String(required=True, metadata={"enum": list(CALENDAR_KINDS)})
    weekdays = fields.List(fields.Integer(), metadata={"description": "ISO, 1 = Monday"})
    opens = fields.String(required=True, metadata={"example": "09:00"})
    closes = fields.String(required=True, metadata={"example": "17:00"})
    session_minutes = fields.Integer(required=True)
    parallel = fields.Integer(required=True, metadata={"description": "sessions at once"})
    hours = fields.Function(
        lambda desk: desk.hours.describe(), metadata={"description": "the hours in words"}
    )


class DeskIn(StrictSchema):
    """A whole desk (PUT)."""

    name = Text(required=True, validate=validate.Length(1, 100))
    calendar = Text(required=True, validate=validate.OneOf(CALENDAR_KINDS))
    weekdays = fields.List(
        fields.Integer(validate=validate.Range(1, 7)),
        load_default=list,
        validate=validate.Length(max=7),
        metadata={"description": "ISO weekdays (1 = Monday), for the weekdays calendar"},
    )
    opens = Text(required=True, validate=CLOCK_TIME, metadata={"example": "09:00"})
    closes = Text(required=True, validate=CLOCK_TIME, metadata={"example": "17:00"})
    session_minutes = fields.Integer(required=True, validate=validate.Range(1, 24 * 60))
    parallel = fields.Integer(required=True, validate=validate.Range(1, 100))


class DeskChangesIn(DeskIn):
    """Some of a desk's fields (PATCH; load it with `partial=True`)."""


class SlotQueryArgs(StrictSchema):
    start = fields.AwareDateTime(required=True, data_key="from")
    end = fields.AwareDateTime(required=True, data_key="to")

    @validates_schema
    def _span(self, data: dict[str, Any], **_: Any) -> None:
        for name, key in (("from", "start"), ("to", "end")):
            if not FIRST_YEAR <= data[key].year <= LAST_YEAR:
                raise ValidationError(f"a time between {FIRST_YEAR} and {LAST_YEAR}", name)
        if data["end"] <= data["start"]:
            raise ValidationError("must be after from", "to")
        if data["end"] - data["start"] > MAX_SLOT_SPAN:
            raise ValidationError(f"at most {MAX_SLOT_SPAN.days} days after from", "to")


class SlotOut(Schema):
    starts_at = fields.AwareDateTime(required=True)
    ends_at = fields.AwareDateTime(required=True)
    capacity = fields.Integer(required=True)
    remaining = fields.Integer(required=True, metadata={"description": "places still free"})


class BookedSessionOut(Schema):
    id = fields.UUID(required=True)
    case_id = fields.UUID(required=True)
    tracking_code = fields.String(required=True)
    case_status = fields.String(required=True, metadata={"description": "the case's status now"})
    starts_at = fields.AwareDateTime(required=True)
    ends_at = fields.AwareDateTime(required=True)
    outcome = fields.String(allow_none=True, metadata={"description": "resolved | failed"})


class CalendarRangeArgs(StrictSchema):
    first = fields.Date(required=True, data_key="from")
    last = fields.Date(required=True, data_key="to", metadata={"description": "included"})

    @validates_schema
    def _span(self, data: dict[str, Any], **_: Any) -> None:
        for name, key in (("from", "first"), ("to", "last")):
            if not FIRST_YEAR <= data[key].year <= LAST_YEAR:
                raise ValidationError(f"a date between {FIRST_YEAR} and {LAST_YEAR}", name)
        if data["last"] < data["first"]:
            raise ValidationError("must not be before from", "to")
        if data["last"] - data["first"] >= MAX_SLOT_SPAN:
            raise ValidationError(f"at most {MAX_SLOT_SPAN.days} days from from", "to")


class CalendarDateOut(Schema):
    date = fields.Date(required=True, attribute="day.date")
    working = fields.Boolean(required=True, attribute="day.working")
    kind = fields.String(
        required=True, attribute="day.kind", metadata={"enum": [k.value for k in DayKind]}
    )
    holiday = fields.String(
        allow_none=True,
        attribute="day.holiday",
        metadata={"description": "the official holiday the date belongs to (or is adjusted for)"},
    )
    holiday_zh = fields.String(allow_none=True, attribute="day.holiday_zh")
    note = fields.String(required=True, metadata={"description": "what staff loaded, if any"})


class CalendarDayIn(StrictSchema):
    date = fields.Date(required=True)
    working = fields.Boolean(required=True, metadata={"description": "false: a holiday"})
    note = Text(multiline=True, load_default="", validate=validate.Length(max=200))

    @validates_schema
    def _in_range(self, data: dict[str, Any], **_: Any) -> None:
        if not FIRST_YEAR <= data["date"].year <= LAST_YEAR:
            raise ValidationError(f"a date between {FIRST_YEAR} and {LAST_YEAR}", "date")


class CalendarDaysIn(StrictSchema):
    days = fields.List(
        fields.Nested(CalendarDayIn), required=True, validate=validate.Length(1, 400)
    )

    @validates_schema
    def _once_each(self, data: dict[str, Any], **_: Any) -> None:
        dates = [day["date"] for day in data["days"]]
        if len(set(dates)) != len(dates):
            raise ValidationError("each date at most once", "days")


class CalendarDayOut(Schema):
    date = fields.Date(required=True)
    working = fields.Boolean(required=True)
    note = fields.String()


class CalendarYearArgs(StrictSchema):
    year = fields.Integer(validate=validate.Range(FIRST_YEAR, LAST_YEAR))


class CalendarYearOut(Schema):
    year = fields.Integer(required=True)
    official = fields.Boolean(
        required=True,
        metadata={
            "description": "the official calendar of the year is known; if not, "
            "Monday to Friday and the loaded dates decide"
        },
    )
    days = fields.List(fields.Nested(CalendarDayOut), required=True)


class UnknownYearOut(Schema):
    year = fields.Integer(required=True)
    loaded_days = fields.Integer(required=True)


class CalendarStatusOut(Schema):
    official_years = fields.List(fields.Integer(), required=True)
    unknown_years_in_use = fields.List(
        fields.Nested(UnknownYearOut),
        required=True,
        metadata={"description": "years booked into whose official calendar is not known"},
    )
