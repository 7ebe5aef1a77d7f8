"""The lookup's request and answer (the console's tracking page is written against these)."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from services.common.input_fields import InputSchema, Text
from services.intake.schemas import STATUSES

# Generous bounds: a value that cannot be a code or four digits is answered like a wrong
# one (404), not named as malformed, so the answer tells nothing.
_MAX_INPUT = 100


class LookupIn(InputSchema):
    tracking_code = Text(
        required=True,
        validate=validate.Length(max=_MAX_INPUT),
        metadata={"example": "WC2W1H08QK", "description": "the 查询码 of the acknowledgement SMS"},
    )
    phone_last4 = Text(
        required=True,
        validate=validate.Length(max=_MAX_INPUT),
        metadata={"example": "8000", "description": "the last four digits of the reporter's phone"},
    )


class TimelineItemOut(Schema):
    at = fields.AwareDateTime(required=True)
    event = fields.String(required=True, metadata={"example": "case_accepted"})
    text = fields.String(required=True, metadata={"example": "社区民警已受理，将组织调解。"})


class NextStepOut(Schema):
    text = fields.String(required=True, metadata={"example": "民警将联系双方组织调解。"})
    due_at = fields.AwareDateTime(required=True, allow_none=True)


class LookupOut(Schema):
    """A report as its reporter may read it: no names, phones, details or agency."""

    tracking_code = fields.String(required=True, metadata={"example": "WC2W1H08QK"})
    status = fields.String(required=True, metadata={"enum": list(STATUSES)})
    status_text = fields.String(required=True, metadata={"example": "正在办理"})
    submitted_at = fields.AwareDateTime(required=True)
    updated_at = fields.AwareDateTime(required=True)
    timeline = fields.List(fields.Nested(TimelineItemOut), required=True)
    next_step = fields.Nested(NextStepOut, required=True, allow_none=True)
