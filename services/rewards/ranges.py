"""`?from=&to=`: two instants (timezone-aware, as mediation's stats take them), from
included, to excluded."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from marshmallow import Schema, ValidationError, fields, validates_schema

from services.common.clock import STATION_TZ

MAX_SPAN = timedelta(days=3660)


class TimeRange(Schema):
    from_ = fields.AwareDateTime(required=True, data_key="from")
    to = fields.AwareDateTime(required=True)

    @validates_schema
    def _ordered(self, data: dict[str, Any], **_: Any) -> None:
        if data["to"] <= data["from_"]:
            raise ValidationError("must be after from", "to")
        if data["to"] - data["from_"] > MAX_SPAN:
            raise ValidationError(f"at most {MAX_SPAN.days} days after from", "to")


def months(start: datetime, end: datetime) -> list[str]:
    """Every station-time YYYY-MM that [start, end) touches."""
    first = start.astimezone(STATION_TZ)
    last = (end - timedelta(microseconds=1)).astimezone(STATION_TZ)
    out, year, month = [], first.year, first.month
    while (year, month) <= (last.year, last.month):
        out.append(f"{year:04d}-{month:02d}")
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return out
