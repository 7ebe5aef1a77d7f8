"""The notify staff API's shapes: numbers are always masked on the way out."""

from __future__ import annotations

from marshmallow import RAISE, Schema, fields, validate

from services.common.phones import ChineseMobile, MaskedPhone
from services.notify.models import SMS_STATUSES
from services.notify.templates import TEMPLATES


class StrictSchema(Schema):
    class Meta:
        unknown = RAISE


class MessageIn(StrictSchema):
    recipient = ChineseMobile(required=True, metadata={"example": "13800138000"})
    template = fields.String(required=True, validate=validate.OneOf(sorted(TEMPLATES)))
    params = fields.Dict(keys=fields.String(), values=fields.String(), load_default=dict)
    priority = fields.String(load_default="normal", validate=validate.OneOf(["normal", "urgent"]))
    idempotency_key = fields.String(required=True, validate=validate.Length(1, 255))


class MessageOut(Schema):
    id = fields.UUID(required=True)
    recipient = MaskedPhone(required=True, metadata={"example": "138****8000"})
    template = fields.String(required=True)
    template_version = fields.Integer()
    body = fields.String(metadata={"description": "the text as sent, signature first"})
    segments = fields.Integer()
    priority = fields.String()
    status = fields.String(required=True, metadata={"enum": list(SMS_STATUSES)})
    failure = fields.String(allow_none=True)
    provider = fields.String(allow_none=True)
    attempts = fields.Integer()
    test = fields.Boolean()
    report_id = fields.UUID(allow_none=True)
    resend_of_id = fields.UUID(allow_none=True)
    due_at = fields.AwareDateTime(allow_none=True)
    created_at = fields.AwareDateTime()
    sent_at = fields.AwareDateTime(allow_none=True)
    delivered_at = fields.AwareDateTime(allow_none=True)


class MessageQueryArgs(StrictSchema):
    status = fields.String(validate=validate.OneOf(SMS_STATUSES))
    template = fields.String(validate=validate.Length(max=50))
    recipient = ChineseMobile()
    since = fields.AwareDateTime()


class StatsQueryArgs(StrictSchema):
    since = fields.AwareDateTime()


class StatsOut(Schema):
    counts = fields.Dict(keys=fields.String(), values=fields.Integer(), required=True)


class OptOutOut(Schema):
    phone = MaskedPhone(required=True)
    source = fields.String(required=True)
    note = fields.String(allow_none=True)
    created_at = fields.AwareDateTime(required=True)


class OptOutIn(StrictSchema):
    note = fields.String(validate=validate.Length(max=200))


class WebhookArgs(Schema):
    token = fields.String(required=True)
