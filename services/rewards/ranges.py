"""`?from=&to=`: station-time days, both included, as one UTC half-open range."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Any

from marshmallow import Schema, ValidationError, fields, validates_schema

from services.common.clock import STATION_TZ

MAX_DAYS = 3660


class DayRange(Schema):
    from_ = fields.Date(required=True, data_key="from")
    to = fields.Date(required=True)

    @validates_schema
    def _ordered(self, data: dict[str, Any], **_: Any) -> None:
        if data["to"] < data["from_"]:
            raise ValidationError("must not be before from", "to")
        if (data["to"] - data["from_"]).days > MAX_DAYS:
            raise ValidationError(f"at most {MAX_DAYS} days", "to")


def bounds(start: date, end: date) -> tuple[datetime, datetime]:
    """[start 00:00, the day after end 00:00) at the station, as UTC instants."""
    return (
        datetime.combine(start, time(), STATION_TZ),
        datetime.combine(end + timedelta(days=1), time(), STATION_TZ),
    )


def months(start: date, end: date) -> list[str]:
    """Every YYYY-MM from start's month to end's."""
    out, year, month = [], start.year, start.month
    while (year, month) <= (end.year, end.month):
        out.append(f"{year:04d}-{month:02d}")
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return out
